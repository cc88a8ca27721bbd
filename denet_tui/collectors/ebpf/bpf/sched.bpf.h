/*
 * denet-tui, family "sched": types. Where each thread of the tree spends its wall time.
 *
 *   MAX_THREADS      threads of the tree followed at once
 *   RUNQ_BUCKETS     log2 buckets of run-queue waits: bucket i holds waits of [2^i, 2^(i+1)) ns;
 *                    the last one also holds everything longer
 *   TASK_SUM_EXEC, TASK_RUN_DELAY, TASK_UTIME, TASK_STIME, TASK_NVCSW, TASK_NIVCSW,
 *   TASK_MIN_FLT, TASK_MAJ_FLT
 *                    byte offsets in struct task_struct of se.sum_exec_runtime,
 *                    sched_info.run_delay, utime, stime, nvcsw, nivcsw, min_flt, maj_flt
 *                    (u64 each), from the kernel's BTF
 *   TASK_SIGNAL, SIGNAL_PREV_UTIME, SIGNAL_PREV_STIME
 *                    offsets of task_struct.signal and of signal_struct.prev_cputime's utime
 *                    and stime; -1 where the kernel has none (its split is then a fresh one)
 */

/* A thread's time is in one of four states; the first is only ever closed, never open. */
#define SCHED_ON_CPU 0
#define SCHED_RUNQ 1                /* runnable, waiting for a CPU (woken, or preempted) */
#define SCHED_SLEEP 2               /* S, and every other state off the run queue but D */
#define SCHED_DISK 3                /* D: uninterruptible (disk and other kernel waits) */
#define SCHED_UNKNOWN 4             /* seeded or new: nothing seen yet */
#define SCHED_GONE 5                /* ended (its last switch): final, for user space to take */

/* Figures of a thread (closed intervals), and of a process's ended threads (`sched_ended`). */
struct sched_sums {
    u64 ns[4];                      /* by SCHED_* state */
    u64 voluntary;                  /* switched out asleep (any state but runnable) */
    u64 involuntary;                /* switched out runnable: preempted */
    u64 minor_faults;               /* page faults: the task's own counts, like switches */
    u64 major_faults;
    u64 utime;                      /* user and system time by the ticks (ns): the split of */
    u64 stime;                      /* the exact time on CPU, as the kernel makes it (getrusage) */
};

/* `sched_prev`: process serial -> the user/system split the kernel last reported of it
 * (signal_struct.prev_cputime, ns): its split for getrusage and wait4 never goes below it. */
struct sched_prev {
    u64 utime;
    u64 stime;
};

/* `sched_threads`: tid -> its process and its state machine. In a hash, not in task storage:
 * wakeups run in the waker's context, which knows only the wakee's tid. */
struct sched_thread {
    u32 serial;
    u32 state;                      /* SCHED_*: where the open interval is */
    u64 since;                      /* when it began (bpf_ktime_get_ns) */
    struct sched_sums s;
    /* The task's own counters when we began to follow it (0 for a task born since): on CPU
     * se.sum_exec_runtime, waiting sched_info.run_delay, nvcsw/nivcsw, min_flt/maj_flt,
     * utime/stime. */
    struct sched_sums base;
};

/* Per CPU: the task of ours (maybe: see pid_bits) switched in last, and when; `since` 0 when
 * the CPU runs none of ours. User space adds the slice in progress of a thread on a CPU. */
struct sched_cpu {
    u64 since;
    u32 tid;
    u32 pad;
};
