/*
 * denet-tui, family "syscalls": types, and its fields of the per-thread state.
 *
 *   LATENCY          1: count on sys_enter, time each call to its sys_exit (two tracepoints)
 *                    0: count and errors on sys_exit only (one tracepoint)
 *   NR_SLOTS         syscall numbers with a slot in the per-thread array (others: `stats`);
 *                    a power of two
 *   PROC_STATS_FAST  processes in `proc_stats` (allocated up front) between two samples
 *   MAX_STATS        (process, syscall) pairs in `stats` (numbers without a slot) kept until
 *                    user space reads them
 *   HIST_BUCKETS     log2 latency buckets: bucket i holds calls of [2^i, 2^(i+1)) ns;
 *                    the last one also holds everything longer
 *   NR_*             syscall numbers of this architecture that need special care
 *   SYSCALL_NR_REG   the pt_regs member that holds the number at sys_exit
 *   SHARED_RAW       1: the raw programs serve the shared programs (tree.bpf.h)
 *   SYSCALL_ARG0..4  the pt_regs members that hold a call's first five arguments at sys_enter
 *   TASK_TI_STATUS, TS_COMPAT  where task_struct's thread_info.status is, and its bit for a
 *                    32-bit call
 */

/* One syscall's figures, in a thread's array and in `stats`. */
struct counts {
    u64 count;
    u64 errors;                     /* returned -4095..-1 */
#if LATENCY
    u64 time_ns;
#endif
};

/* `proc_stats`: process serial -> its ended threads' arrays, summed (drained at each sample).
 * `stats`: (process serial, syscall number) -> a number without a slot (none on x86_64 or
 * aarch64 today). */
struct sc_counts {
    u64 used[NR_SLOTS / 64];        /* a bit per slot that any of its threads used */
    struct counts c[NR_SLOTS];
};
struct stat_key {
    u32 serial;
    u32 nr;
};

struct hist_val {
    u64 b[HIST_BUCKETS];
};

/* In each thread's state: the call in progress and its counts, indexed by syscall number. */
struct syscalls_thread {
    u64 enter_ns;                   /* LATENCY: 0 when no call is in progress */
    u32 nr;                         /* LATENCY: the call in progress */
    u32 shared;                     /* SHARED_RAW: it has a shared exit program */
    u64 used[NR_SLOTS / 64];        /* a bit per slot used: at exit only those are read (the
                                     * whole array, cold by then, costs ~20 µs to scan) */
    struct counts c[NR_SLOTS];
};
#define SYSCALLS_THREAD_STATE struct syscalls_thread sc;
