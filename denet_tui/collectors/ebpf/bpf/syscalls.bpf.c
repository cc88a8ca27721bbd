/*
 * denet-tui, family "syscalls": exact syscall counts, errors and latency for the tree.
 *
 *   raw_syscalls:sys_enter / sys_exit  raw tracepoints: no event record is formatted; with
 *                                      SHARED_RAW, they also serve the other families'
 *                                      shared programs (tree.bpf.h)
 *
 * Where the figures live (fastest first, measured on the getppid loop):
 *   - per thread, in its state (task storage): an array indexed by syscall number. The hot
 *     path does no hash lookup for a tracked thread: one task-storage get, one array slot.
 *     User space reads a live thread's array through a pidfd.
 *   - when a thread ends, its array is added into its process's `proc_stats` entry; user
 *     space drains `proc_stats` at each sample (one entry per process, whatever it called).
 *   - latency histograms per syscall for the whole tree, per CPU (`hist`).
 */

BPF_F_TABLE("hash", struct stat_key, struct counts, stats, MAX_STATS, BPF_F_NO_PREALLOC);
/* Allocated up front (6 MB): a process's entry then costs no allocation at its first thread's
 * exit (an allocation of its 12 KB took ~17 µs there); more processes between two samples than
 * it holds go to `proc_stats_more`, allocated as needed. */
BPF_F_TABLE("hash", u32, struct sc_counts, proc_stats, PROC_STATS_FAST, 0);
BPF_F_TABLE("hash", u32, struct sc_counts, proc_stats_more, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(sc_zero, struct sc_counts, 1);     /* never written: a new entry */
BPF_PERCPU_ARRAY(hist, struct hist_val, NR_SLOTS);

/* The `stats` entry of (serial, nr), made if missing. Several threads of a process may end at
 * once on different CPUs: writers use atomic adds. */
static __always_inline struct counts *stat_for(u32 serial, u32 nr)
{
    struct stat_key key = {.serial = serial, .nr = nr};
    struct counts *v = stats.lookup(&key);
    if (v)
        return v;
    struct counts zero = {};
    stats.insert(&key, &zero);
    return stats.lookup(&key);
}

static __always_inline void add_counts(struct counts *to, struct counts *from)
{
    __sync_fetch_and_add(&to->count, from->count);
    if (from->errors)
        __sync_fetch_and_add(&to->errors, from->errors);
#if LATENCY
    __sync_fetch_and_add(&to->time_ns, from->time_ns);
#endif
}

static __always_inline int is_error(long ret)
{
    return ret < 0 && ret >= -4095;
}

/* A syscall number without a slot (none on x86_64 today): straight into `stats`. */
static __always_inline void count_outside(struct task_state *s, u32 nr, long ret, u64 dt)
{
    struct counts c = {.count = 1, .errors = is_error(ret)};
#if LATENCY
    c.time_ns = dt;
#endif
    struct counts *v = stat_for(s->serial, nr);
    if (v)
        add_counts(v, &c);
    else
        diag_inc(DIAG_STATS_FULL);
}

#if LATENCY

/* ctx->args: [0] struct pt_regs *, [1] syscall number */
RAW_TRACEPOINT_PROBE(sys_enter)
{
    struct task_state *s = thread_state();
    if (!s)
        return 0;                           /* not ours */
    u32 nr = ctx->args[1];
    if (still_waiting(s, nr))
        return 0;
    mark_active(s, 0);
    /* Counted on entry: exit and exit_group never return, a successful execve returns into a
     * new program, fork returns twice, rt_sigreturn returns into the interrupted code. */
    if (nr < NR_SLOTS) {
        s->sc.c[nr & (NR_SLOTS - 1)].count++;
        s->sc.used[(nr >> 6) & (NR_SLOTS / 64 - 1)] |= 1ULL << (nr & 63);
    }
    s->sc.nr = nr;
    s->sc.enter_ns = bpf_ktime_get_ns();
#if SHARED_RAW
    shared_enter(s, nr, (void *)ctx->args[0]);
#endif
    return 0;
}

/* ctx->args: [0] struct pt_regs *, [1] return value */
RAW_TRACEPOINT_PROBE(sys_exit)
{
    struct task_state *s = current_state();
    /* No call in progress: not ours, or a new thread or child returning from fork. */
    if (!s || !s->sc.enter_ns)
        return 0;
    /* Again: a call that sleeps through a sample ends in a later generation. */
    mark_active(s, 0);
    u64 dt = bpf_ktime_get_ns() - s->sc.enter_ns;
    u32 nr = s->sc.nr;
    long ret = ctx->args[1];
#if SHARED_RAW
    u32 shared = s->sc.shared;
    s->sc.shared = 0;
#endif
    if (nr >= NR_SLOTS) {
        count_outside(s, nr, ret, dt);
    } else {
        struct counts *c = &s->sc.c[nr & (NR_SLOTS - 1)];
        if (is_error(ret))
            c->errors++;
        c->time_ns += dt;
        struct hist_val *h = hist.lookup(&nr);
        if (h) {
            u32 b = log2_bucket(dt, HIST_BUCKETS);
            /* Atomic although per CPU: syscall tracepoints may be preempted on PREEMPT
             * kernels, and another task's program could then bump the same bucket on this
             * CPU. */
            if (b < HIST_BUCKETS)           /* always; keeps the verifier sure */
                __sync_fetch_and_add(&h->b[b], 1);
        }
    }
#if SHARED_RAW
    /* Last: the verifier then walks the shared programs' paths once, not once per path of
     * the counting above (it took 0.22 s of every start). */
    if (shared)
        shared_exit(nr, ret);               /* (they date the call by its entry: event_time) */
#endif
    s->sc.enter_ns = 0;
    return 0;
}

#else /* !LATENCY: one tracepoint, counted on exit */

RAW_TRACEPOINT_PROBE(sys_exit)
{
    struct task_state *s = thread_state();
    if (!s)
        return 0;
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    long nr = -1;
    bpf_probe_read_kernel(&nr, sizeof(nr), &regs->SYSCALL_NR_REG);
    long ret = ctx->args[1];
    if (nr < 0)
        nr = NR_RT_SIGRETURN;               /* rt_sigreturn restores the number as -1 */
    else if (ret == 0 && (nr == NR_CLONE || nr == NR_CLONE3 || nr == NR_FORK || nr == NR_VFORK))
        return 0;                           /* the child's return from fork: the parent counts */
    u32 n = nr;                             /* unsigned from here: the verifier bounds it */
    if (still_waiting(s, n))
        return 0;
    mark_active(s, 0);
    if (n >= NR_SLOTS) {
        count_outside(s, n, ret, 0);
        return 0;
    }
    struct counts *c = &s->sc.c[n & (NR_SLOTS - 1)];  /* the mask: for the verifier's sake */
    c->count++;
    s->sc.used[(n >> 6) & (NR_SLOTS / 64 - 1)] |= 1ULL << (n & 63);
    if (is_error(ret))
        c->errors++;
    return 0;
}

#endif /* LATENCY */

/* A thread of the tree ends: add its array into its process's `proc_stats` entry. */
static __always_inline void syscalls_thread_exit(struct task_state *s)
{
    u32 serial = s->serial;
    struct sc_counts *p = proc_stats.lookup(&serial);
    if (!p)
        p = proc_stats_more.lookup(&serial);
    if (!p) {
        /* (Another thread of it may make one at once: user space adds up both tables.) */
        u32 zero = 0;
        struct sc_counts *none = sc_zero.lookup(&zero);
        if (none && proc_stats.insert(&serial, none) == 0)
            p = proc_stats.lookup(&serial);
        else if (none && proc_stats_more.insert(&serial, none) == 0)
            p = proc_stats_more.lookup(&serial);
    }
    if (!p) {
        diag_inc(DIAG_STATS_FULL);          /* the thread's calls are lost: map full */
        return;
    }
    /* Only the slots used: their bits, in registers (the loops stay plain: one path per slot
     * for the verifier, nothing unrolled). */
#pragma clang loop unroll(disable)
    for (u32 w = 0; w < NR_SLOTS / 64; w++) {
        u64 bits = s->sc.used[w];
        if (!bits)
            continue;
        __sync_fetch_and_or(&p->used[w], bits);
#pragma clang loop unroll(disable)
        for (u32 b = 0; b < 64; b++) {
            if (!((bits >> b) & 1))
                continue;
            u32 nr = (w * 64 + b) & (NR_SLOTS - 1);
            struct counts *from = &s->sc.c[nr];
            struct counts *v = &p->c[nr];
            __sync_fetch_and_add(&v->count, from->count);
            __sync_fetch_and_add(&v->errors, from->errors);
#if LATENCY
            __sync_fetch_and_add(&v->time_ns, from->time_ns);
#endif
        }
    }
}
