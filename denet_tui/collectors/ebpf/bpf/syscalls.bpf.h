/*
 * denet-tui, family "syscalls": types, and its fields of the per-thread state.
 *
 *   LATENCY          1: count on sys_enter, time each call to its sys_exit (two tracepoints)
 *                    0: count and errors on sys_exit only (one tracepoint)
 *   NR_SLOTS         syscall numbers with a slot in the per-thread array (others: `stats`);
 *                    a power of two
 *   MAX_STATS        (process, syscall) pairs of ended threads kept until user space reads them
 *   HIST_BUCKETS     log2 latency buckets: bucket i holds calls of [2^i, 2^(i+1)) ns;
 *                    the last one also holds everything longer
 *   NR_*             syscall numbers of this architecture that need special care
 *   SYSCALL_NR_REG   the pt_regs member that holds the number at sys_exit
 */

/* One syscall's figures, in a thread's array and in `stats`. */
struct counts {
    u64 count;
    u64 errors;                     /* returned -4095..-1 */
#if LATENCY
    u64 time_ns;
#endif
};

/* `stats`: (process serial, syscall number) -> figures of the process's ended threads. */
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
    u32 dropped;                    /* at exit: slots `stats` had no room for */
    struct counts c[NR_SLOTS];
};
#define SYSCALLS_THREAD_STATE struct syscalls_thread sc;
