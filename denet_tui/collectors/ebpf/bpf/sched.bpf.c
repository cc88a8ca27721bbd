/*
 * denet-tui, family "sched": on CPU, waiting for a CPU, sleeping and in D state, per thread.
 *
 *   sched:sched_switch       the CPU's previous task leaves (closes its time on the CPU and,
 *                            if it had waited, its wait); its prev_state says where it goes
 *   sched:sched_wakeup       a sleeping thread of ours becomes runnable (the waker's context)
 *   sched:sched_wakeup_new   a new thread of ours becomes runnable for the first time
 *   task:task_newtask        (in tree.bpf.h) a thread of ours begins
 *   sched:sched_process_exec (in tree.bpf.h) a thread other than the leader execs: it takes
 *                            the leader's tid, and its entry moves there
 *
 * A thread ends at its last switch (prev_state X or Z), not at sched_process_exit: what it
 * runs after that tracepoint (freeing its memory, closing its files: 1-3 ms for a shell here)
 * is its CPU time too, and getrusage and time -v count it. Its entry then stays, final
 * (SCHED_GONE), until user space has read it: every read sees each thread once, live or ended.
 *
 * Formatted tracepoints only: BCC builds `args` from the running kernel's format files. The
 * hot path, for every switch on the machine: a bit read for each of the two tasks (then, only
 * for one that may be ours, a hash lookup of the task leaving, and the per-CPU slot that says
 * which of ours went in and when: user space's view of what is on a CPU now). Time on and waiting for a CPU and the switches are
 * the task's own counters (read from its task_struct), so a missed event loses none of them.
 */

BPF_HASH(sched_threads, u32, struct sched_thread, MAX_THREADS);
/* The tids in `sched_threads` that may still switch or wake (not GONE): see pid_bits. */
BPF_F_TABLE("array", u32, struct pid_bits, sched_bits, PID_WORDS, BPF_F_MMAPABLE);
BPF_F_TABLE("hash", u32, struct sched_sums, sched_ended, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(sched_cpu, struct sched_cpu, 1);
BPF_HASH(sched_prev, u32, struct sched_prev, MAX_PROCS);
BPF_PERCPU_ARRAY(runq_hist, u64, RUNQ_BUCKETS);

/* The task's own counters, in `c` (figures as `struct sched_sums` has them). */
static __always_inline void sched_counters(struct task_struct *task, struct sched_sums *c)
{
    /* At the running kernel's offsets (from its BTF: the headers BCC compiles with may be
     * another kernel's). */
    u64 delay = 0, exec = 0, ut = 0, st = 0, nv = 0, niv = 0, minf = 0, majf = 0;
    bpf_probe_read_kernel(&delay, sizeof(delay), (void *)task + TASK_RUN_DELAY);
    bpf_probe_read_kernel(&exec, sizeof(exec), (void *)task + TASK_SUM_EXEC);
    /* The tick, switch and fault counters sit close together in task_struct (here: 96 bytes
     * from utime to maj_flt): one read instead of six, on every switch of the tree. */
#if TASK_STIME == TASK_UTIME + 8 && TASK_NIVCSW == TASK_NVCSW + 8 && \
    TASK_MAJ_FLT == TASK_MIN_FLT + 8 && TASK_NVCSW > TASK_STIME && TASK_MIN_FLT > TASK_NVCSW && \
    TASK_MAJ_FLT - TASK_UTIME <= 120
    u64 span[(TASK_MAJ_FLT - TASK_UTIME) / 8 + 1] = {};
    bpf_probe_read_kernel(span, sizeof(span), (void *)task + TASK_UTIME);
    ut = span[0];
    st = span[1];
    nv = span[(TASK_NVCSW - TASK_UTIME) / 8];
    niv = span[(TASK_NIVCSW - TASK_UTIME) / 8];
    minf = span[(TASK_MIN_FLT - TASK_UTIME) / 8];
    majf = span[(TASK_MAJ_FLT - TASK_UTIME) / 8];
#else
    bpf_probe_read_kernel(&ut, sizeof(ut), (void *)task + TASK_UTIME);
    bpf_probe_read_kernel(&st, sizeof(st), (void *)task + TASK_STIME);
    bpf_probe_read_kernel(&nv, sizeof(nv), (void *)task + TASK_NVCSW);
    bpf_probe_read_kernel(&niv, sizeof(niv), (void *)task + TASK_NIVCSW);
    bpf_probe_read_kernel(&minf, sizeof(minf), (void *)task + TASK_MIN_FLT);
    bpf_probe_read_kernel(&majf, sizeof(majf), (void *)task + TASK_MAJ_FLT);
#endif
    c->ns[SCHED_ON_CPU] = exec;
    c->ns[SCHED_RUNQ] = delay;
    c->voluntary = nv;
    c->involuntary = niv;
    c->minor_faults = minf;
    c->major_faults = majf;
    c->utime = ut;
    c->stime = st;
}

/* The thread (current, `task`) leaves its CPU. Its time on CPUs, its waits for them, its
 * switches and its page faults are the kernel's own counters of the task, exact to the ns,
 * even where an event was missed (seen here: about one switch-in in a few thousand never
 * reached the program); the wait this switch-out closes (the one before this slice) goes into
 * the histogram. */
static __always_inline void sched_close_run(struct sched_thread *t, struct task_struct *task)
{
    struct sched_sums c = {};
    sched_counters(task, &c);
    u64 runq = c.ns[SCHED_RUNQ] - t->base.ns[SCHED_RUNQ];
    if (runq > t->s.ns[SCHED_RUNQ]) {
        u32 b = log2_bucket(runq - t->s.ns[SCHED_RUNQ], RUNQ_BUCKETS);
        u64 *h = runq_hist.lookup(&b);
        if (h)
            (*h)++;                         /* per CPU, and switches do not nest */
    }
    t->s.ns[SCHED_RUNQ] = runq;
    t->s.ns[SCHED_ON_CPU] = c.ns[SCHED_ON_CPU] - t->base.ns[SCHED_ON_CPU];
    t->s.voluntary = c.voluntary - t->base.voluntary;
    t->s.involuntary = c.involuntary - t->base.involuntary;
    t->s.minor_faults = c.minor_faults - t->base.minor_faults;
    t->s.major_faults = c.major_faults - t->base.major_faults;
    t->s.utime = c.utime - t->base.utime;
    t->s.stime = c.stime - t->base.stime;
}

/* Run mode: the gated child execs the command (its context). The command's figures count
 * from here: the counters now are its base, and what the child did since its fork (a copy of
 * our Python: ~350 page faults, its wait at the gate) is not the command's. */
static __always_inline void sched_command_begins(void)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct sched_thread *t = sched_threads.lookup(&tid);
    if (!t)
        return;
    struct sched_sums base = {}, none = {};
    sched_counters((struct task_struct *)bpf_get_current_task(), &base);
    u64 now = bpf_ktime_get_ns();
    u32 zero = 0;
    struct sched_cpu *c = sched_cpu.lookup(&zero);
    if (c && c->tid == tid && c->since && now > c->since) {
        /* The kernel brings a running task's se.sum_exec_runtime up to date only at a tick
         * or a switch: its value now would miss this slice so far. It was base + s at the
         * thread's last switch out (its value at this switch in), and the slice adds since. */
        base.ns[SCHED_ON_CPU] = t->base.ns[SCHED_ON_CPU] + t->s.ns[SCHED_ON_CPU] + (now - c->since);
        c->since = now;                     /* its slice in progress: from here on */
    }
    t->base = base;
    t->s = none;
    t->since = now;
}

/* A thread of the process ends (its last switch; `task` is current): the split of the
 * process's time the kernel last reported (to its own getrusage or times, or to a reader of
 * /proc/PID/stat), a floor of the split wait4 reports at its reap. Read at each thread's end:
 * the last one's stands (the kernel changes it only when asked for the times). */
static __always_inline void sched_read_prev(u32 serial, struct task_struct *task)
{
#if SIGNAL_PREV_UTIME >= 0 && SIGNAL_PREV_STIME == SIGNAL_PREV_UTIME + 8
    void *sig = 0;
    struct sched_prev p = {};
    bpf_probe_read_kernel(&sig, sizeof(sig), (void *)task + TASK_SIGNAL);
    /* Only while user space knows the process (it deletes the entry when it forgets it; one
     * written in between, it deletes at its next read). */
    if (procs.lookup(&serial) && sig &&
        !bpf_probe_read_kernel(&p, sizeof(p), sig + SIGNAL_PREV_UTIME))
        sched_prev.update(&serial, &p);
#endif
}

/* Move an ended thread's figures into its process's `sched_ended` entry (a thread whose tid is
 * taken by a new one, or by a thread that execs, before user space took them). Its process
 * forgotten: late. */
static __always_inline void sched_fold(struct sched_thread *t)
{
    u32 serial = t->serial;
    if (!procs.lookup(&serial)) {
        diag_inc(DIAG_SCHED_LATE);
        return;
    }
    struct sched_sums *e = sched_ended.lookup(&serial);
    if (!e) {
        struct sched_sums none = {};
        sched_ended.insert(&serial, &none);
        e = sched_ended.lookup(&serial);
    }
    if (!e) {
        diag_inc(DIAG_SCHED_FULL);
        return;
    }
    /* Threads of one process may end at once on several CPUs. */
    for (int i = 0; i < 4; i++)
        __sync_fetch_and_add(&e->ns[i], t->s.ns[i]);
    __sync_fetch_and_add(&e->voluntary, t->s.voluntary);
    __sync_fetch_and_add(&e->involuntary, t->s.involuntary);
    __sync_fetch_and_add(&e->minor_faults, t->s.minor_faults);
    __sync_fetch_and_add(&e->major_faults, t->s.major_faults);
    __sync_fetch_and_add(&e->utime, t->s.utime);
    __sync_fetch_and_add(&e->stime, t->s.stime);
}

/* A task of ours begins (task_newtask, the parent's context): nothing known until it runs. */
static __always_inline void sched_new_task(u32 tid, u32 serial)
{
    struct sched_thread *old = sched_threads.lookup(&tid);
    if (old && old->state == SCHED_GONE)
        sched_fold(old);                    /* its tid is reused before user space took it */
    struct sched_thread t = {.serial = serial, .state = SCHED_UNKNOWN};
    if (sched_threads.update(&tid, &t))
        diag_inc(DIAG_SCHED_FULL);
    else {
        u32 w = pid_word(tid);
        pid_bit_set(sched_bits.lookup(&w), tid, 1);
    }
}

/* A thread other than the leader execs (sched_process_exec, its context): it now has the
 * leader's tid. Its entry moves there; the old leader's (ended, its last switch seen under
 * that tid, or on its way out) is folded into the process's sums. Its switches are followed
 * under the new tid from now on, and its CPU's slot names it so. */
static __always_inline void sched_tid_taken(u32 from, u32 to)
{
    struct sched_thread *t = sched_threads.lookup(&from);
    if (!t || t->state == SCHED_GONE)
        return;  /* (GONE: the old leader's last switch came under this tid: left as it is) */
    struct sched_thread moved = *t;
    struct sched_thread *leader = sched_threads.lookup(&to);
    if (leader)
        sched_fold(leader);
    if (sched_threads.update(&to, &moved)) {
        diag_inc(DIAG_SCHED_FULL);
        return;
    }
    sched_threads.delete(&from);
    u32 w = pid_word(from);
    pid_bit_set(sched_bits.lookup(&w), from, 0);
    w = pid_word(to);
    pid_bit_set(sched_bits.lookup(&w), to, 1);
    u32 zero = 0;
    struct sched_cpu *c = sched_cpu.lookup(&zero);
    if (c && c->tid == from)
        c->tid = to;
}

TRACEPOINT_PROBE(sched, sched_switch)
{
    u32 prev = args->prev_pid;
    u32 next = args->next_pid;
    long prev_state = args->prev_state;
    u32 zero = 0;
    struct sched_cpu *c = sched_cpu.lookup(&zero);
    if (!c)
        return 0;
    u64 now = 0;
    u32 w = pid_word(next);
    if (next && pid_bit_maybe(sched_bits.lookup(&w), next)) {
        now = bpf_ktime_get_ns();           /* one of ours (maybe) goes in */
        c->since = now;
        c->tid = next;
    } else if (c->since) {
        c->since = 0;                       /* none of ours on this CPU now */
        c->tid = 0;
    }
    if (!prev)
        return 0;                           /* the idle task */
    w = pid_word(prev);
    struct pid_bits *bits = sched_bits.lookup(&w);
    if (!pid_bit_maybe(bits, prev))
        return 0;                           /* surely not ours */
    if (!now)
        now = bpf_ktime_get_ns();
    struct sched_thread *t = sched_threads.lookup(&prev);
    if (!t || t->state == SCHED_GONE)
        return 0;                           /* not ours, or ended: a GONE entry is final */
    u64 was_on = t->s.ns[SCHED_ON_CPU], was_runq = t->s.ns[SCHED_RUNQ];
    /* The tracepoint runs before the switch: the current task is still `prev`. */
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    sched_close_run(t, task);
    /* Still asleep (or in D) for us: its wakeup was not seen (~2 % of short naps here). The
     * nap ended before this slice: it is the time since it switched out that it spent neither
     * on a CPU nor waiting for one (the task's own counters, exact). */
    if ((t->state == SCHED_SLEEP || t->state == SCHED_DISK) && t->since && now > t->since) {
        u64 busy = (t->s.ns[SCHED_ON_CPU] - was_on) + (t->s.ns[SCHED_RUNQ] - was_runq);
        u64 nap = now - t->since > busy ? now - t->since - busy : 0;
        if (t->state == SCHED_SLEEP)
            t->s.ns[SCHED_SLEEP] += nap;
        else
            t->s.ns[SCHED_DISK] += nap;
        diag_inc(DIAG_SCHED_LATE_WAKE);
    }
    /* prev_state & 0xff: 0x10 or 0x20 (X, Z): the task is dead, this was its last switch;
     * 0: still runnable, preempted (0x100 marks kernel preemption); 2: D; else asleep. */
    u32 st = prev_state & 0xff;
    if (st & 0x30) {
        sched_read_prev(t->serial, task);   /* first: user space reads it after the threads */
        t->state = SCHED_GONE;              /* final: user space reads it once and deletes it */
        pid_bit_set(bits, prev, 0);
    }
    else if (st == 0)
        t->state = SCHED_RUNQ;
    else
        t->state = st == 2 ? SCHED_DISK : SCHED_SLEEP;
    t->since = now;
    return 0;
}

/* Close a sleep: the thread is runnable from now on. Only from S or D: a wakeup of a thread
 * that has not switched out yet (it was woken on its way to sleep) changes nothing. */
static __always_inline void sched_woken(u32 tid, int new_task)
{
    u32 w = pid_word(tid);
    if (!pid_bit_maybe(sched_bits.lookup(&w), tid))
        return;
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
