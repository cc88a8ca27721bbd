/*
 * denet-tui, family "sched": on CPU, waiting for a CPU, sleeping and in D state, per thread.
 *
 *   sched:sched_switch       the CPU's previous task leaves (closes its time on the CPU and,
 *                            if it had waited, its wait); its prev_state says where it goes
 *   sched:sched_wakeup       a sleeping thread of ours becomes runnable (the waker's context)
 *   sched:sched_wakeup_new   a new thread of ours becomes runnable for the first time
 *   task:task_newtask, sched:sched_process_exit  (in tree.bpf.h) a thread of ours begins, ends
 *
 * Formatted tracepoints only: BCC builds `args` from the running kernel's format files. The
 * hot path, for every switch on the machine: one per-CPU slot written, one hash lookup of the
 * task leaving (a miss for every task that is not ours).
 */

BPF_HASH(sched_threads, u32, struct sched_thread, MAX_THREADS);
BPF_F_TABLE("hash", u32, struct sched_sums, sched_ended, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(sched_cpu, struct sched_cpu, 1);
BPF_PERCPU_ARRAY(runq_hist, u64, RUNQ_BUCKETS);

/* The thread leaves a CPU it was switched in at `in` (0: not seen, the program just loaded):
 * close its wait for the CPU, if it waited, and its time on it. */
static __always_inline void sched_close_run(struct sched_thread *t, u64 in, u64 now)
{
    if (!in)
        return;
    if (t->state == SCHED_RUNQ && in >= t->since) {
        u64 wait = in - t->since;
        t->s.ns[SCHED_RUNQ] += wait;
        u32 b = log2_bucket(wait, RUNQ_BUCKETS);
        u64 *h = runq_hist.lookup(&b);
        if (h)
            (*h)++;                         /* per CPU, and switches do not nest */
    }
    t->s.ns[SCHED_ON_CPU] += now - in;
}

/* A task of ours begins (task_newtask, the parent's context): nothing known until it runs. */
static __always_inline void sched_new_task(u32 tid, u32 serial)
{
    struct sched_thread t = {.serial = serial, .state = SCHED_UNKNOWN};
    if (sched_threads.update(&tid, &t))
        diag_inc(DIAG_SCHED_FULL);
}

/* The current thread ends: close its time on the CPU, move its figures into its process's
 * `sched_ended` entry, forget it. (What it runs after this, on its way out, is not counted.) */
static __always_inline void sched_thread_exit(void)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct sched_thread *t = sched_threads.lookup(&tid);
    if (!t)
        return;
    u64 now = bpf_ktime_get_ns();
    u32 zero = 0;
    struct sched_cpu *c = sched_cpu.lookup(&zero);
    if (c && c->tid == tid)
        sched_close_run(t, c->since, now);
    u32 serial = t->serial;
    struct sched_sums *e = sched_ended.lookup(&serial);
    if (!e) {
        struct sched_sums none = {};
        sched_ended.insert(&serial, &none);
        e = sched_ended.lookup(&serial);
    }
    if (e) {
        /* Threads of one process may end at once on several CPUs. */
        for (int i = 0; i < 4; i++)
            __sync_fetch_and_add(&e->ns[i], t->s.ns[i]);
        __sync_fetch_and_add(&e->voluntary, t->s.voluntary);
        __sync_fetch_and_add(&e->involuntary, t->s.involuntary);
    } else {
        diag_inc(DIAG_SCHED_FULL);
    }
    sched_threads.delete(&tid);
}

TRACEPOINT_PROBE(sched, sched_switch)
{
    u64 now = bpf_ktime_get_ns();
    u32 prev = args->prev_pid;
    u32 next = args->next_pid;
    long prev_state = args->prev_state;
    u32 zero = 0;
    struct sched_cpu *c = sched_cpu.lookup(&zero);
    if (!c)
        return 0;
    u64 in = c->tid == prev ? c->since : 0;
    c->since = now;
    c->tid = next;
    if (!prev)
        return 0;                           /* the idle task */
    struct sched_thread *t = sched_threads.lookup(&prev);
    if (!t)
        return 0;                           /* not ours */
    sched_close_run(t, in, now);
    /* prev_state & 0xff == 0: still runnable, preempted (0x100 marks kernel preemption). */
    u32 st = prev_state & 0xff;
    if (st == 0) {
        t->state = SCHED_RUNQ;
        t->s.involuntary++;
    } else {
        t->state = st == 2 ? SCHED_DISK : SCHED_SLEEP;
        t->s.voluntary++;
    }
    t->since = now;
    return 0;
}

/* Close a sleep: the thread is runnable from now on. Only from S or D: a wakeup of a thread
 * that has not switched out yet (it was woken on its way to sleep) changes nothing. */
static __always_inline void sched_woken(u32 tid, int new_task)
{
    struct sched_thread *t = sched_threads.lookup(&tid);
    if (!t)
        return;
    u64 now = bpf_ktime_get_ns();
    if (t->state == SCHED_SLEEP)
        t->s.ns[SCHED_SLEEP] += now - t->since;
    else if (t->state == SCHED_DISK)
        t->s.ns[SCHED_DISK] += now - t->since;
    else if (!(new_task && t->state == SCHED_UNKNOWN)) {
        return;
    }
    t->state = SCHED_RUNQ;
    t->since = now;
}

TRACEPOINT_PROBE(sched, sched_wakeup)
{
    sched_woken(args->pid, 0);
    return 0;
}

TRACEPOINT_PROBE(sched, sched_wakeup_new)
{
    sched_woken(args->pid, 1);
    return 0;
}
