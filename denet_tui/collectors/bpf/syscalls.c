/*
 * denet-tui: exact syscall counts, errors and latency for one process tree.
 *
 * Loaded by denet_tui/collectors/ebpf.py with BCC. Tracepoints only (no kprobes, no fentry):
 *
 *   raw_syscalls:sys_enter / sys_exit  raw tracepoints: no event record is formatted
 *   task:task_newtask                  a new task; clone_flags tells a thread from a process
 *   sched:sched_process_exec           the process has a new name
 *   sched:sched_process_exit           a thread ends; with group_dead, the whole process
 *
 * The tree is followed in the kernel: a process created by a tracked process is tracked before
 * it runs its first instruction, so a child that lives for a millisecond is still counted.
 *
 * Where the figures live (fastest first, measured on the getppid loop):
 *   - per thread, in task storage: an array indexed by syscall number. The hot path does no
 *     hash lookup for a tracked thread: one task-storage get, one array slot. User space reads
 *     a live thread's array through a pidfd.
 *   - when a thread ends, its array is added into `stats` (process serial, syscall) and the
 *     storage is deleted; user space reads `stats` for everything that has ended.
 *   - latency histograms per syscall for the whole tree, per CPU (`hist`).
 *
 * Every knob is an integer -D from user space; no string from the user is ever part of this
 * source (PIDs reach the program through the `tracked` map).
 *
 *   LATENCY          1: count on sys_enter, time each call to its sys_exit (two tracepoints)
 *                    0: count and errors on sys_exit only (one tracepoint)
 *   NR_SLOTS         syscall numbers with a slot in the per-thread array (others: `stats`);
 *                    a power of two
 *   MAX_PROCS        processes tracked / kept until user space has read them
 *   MAX_STATS        (process, syscall) pairs of ended threads kept until user space reads them
 *   HIST_BUCKETS     log2 latency buckets: bucket i holds calls of [2^i, 2^(i+1)) ns;
 *                    the last one also holds everything longer
 *   SERIAL_CPU_BITS  bits of a serial that hold the CPU it was made on
 *   HAVE_GROUP_DEAD  sched_process_exit has the group_dead field (Linux >= 6.13)
 *   NR_*             syscall numbers of this architecture that need special care
 */
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>

/* --- values shared with user space (mirrored as ctypes structures in ebpf.py) -------------- */

/* `tracked`: live tgid -> its serial. The hot path's one lookup for a task it does not know. */
struct track_val {
    u32 serial;
    u32 flags;                      /* TRK_* */
};
#define TRK_WAIT_EXEC 1             /* run mode: count nothing until the process execs */
#define TRK_FLUSHING 2              /* task_state only: being added into `stats`; user space
                                     * must not read this thread's array any more */

/* `procs`: serial -> one process. Kept after it exits, until user space has read it. */
struct proc_info {
    u32 tgid;
    u32 ppid;                       /* tgid of the process that created it (seeded: from /proc) */
    u32 flags;                      /* PROC_* */
    u32 _pad;
    u64 start_ns;                   /* bpf_ktime_get_ns() at creation (seeded: 0) */
    u64 exit_ns;
    char comm[TASK_COMM_LEN];       /* at creation, then after each exec */
};
#define PROC_EXITED 1
#define PROC_EXECED 2

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

/* Per thread: which process it counts for, the call in progress, and its counts. Only the
 * thread itself writes here (its own sys_enter/sys_exit, then its exit), so plain increments
 * are exact: nothing else can interleave with them. */
struct task_state {
    u32 serial;
    u32 flags;                      /* TRK_* copied from `tracked` when the thread is adopted */
    u64 enter_ns;                   /* LATENCY: 0 when no call is in progress */
    u32 nr;                         /* LATENCY: the call in progress */
    u32 dropped;                    /* at exit: slots `stats` had no room for */
    struct counts c[NR_SLOTS];
};

struct hist_val {
    u64 b[HIST_BUCKETS];
};

/* Nothing is dropped silently: each way of losing a figure has a counter. */
enum {
    DIAG_STATS_FULL = 0,            /* an ended thread's figures for one syscall: `stats` full */
    DIAG_PROCS_FULL,                /* a new process not tracked: `procs`/`tracked` full */
    DIAG_STORAGE_FAIL,              /* a thread not followed: its storage could not be made */
    DIAG_NEW_PROCS,                 /* processes that joined the tree */
    DIAG_EXITS,                     /* processes that left it */
    DIAG_N,
};

/* --- maps ------------------------------------------------------------------------------------ */

BPF_F_TABLE("hash", u32, struct track_val, tracked, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_F_TABLE("hash", u32, struct proc_info, procs, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_F_TABLE("hash", struct stat_key, struct counts, stats, MAX_STATS, BPF_F_NO_PREALLOC);
BPF_TASK_STORAGE(tstate, struct task_state);
BPF_PERCPU_ARRAY(hist, struct hist_val, NR_SLOTS);
/* Serials are made per CPU, without atomics: (counter << SERIAL_CPU_BITS) | cpu. */
BPF_PERCPU_ARRAY(next_serial, u32, 1);
BPF_PERCPU_ARRAY(diag, u64, DIAG_N);

/* --- helpers --------------------------------------------------------------------------------- */

static __always_inline void diag_add(int i, u64 n)
{
    u64 *v = diag.lookup(&i);
    if (v)
        __sync_fetch_and_add(v, n);
}

static __always_inline void diag_inc(int i)
{
    diag_add(i, 1);
}

static __always_inline u32 current_tgid(void)
{
    return bpf_get_current_pid_tgid() >> 32;
}

/* First syscall event of a thread we hold no state for: is its process tracked? */
static __always_inline struct task_state *adopt(struct task_struct *task)
{
    u32 tgid = current_tgid();
    struct track_val *t = tracked.lookup(&tgid);
    if (!t)
        return 0;
    struct task_state *s = tstate.task_storage_get(task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!s) {
        diag_inc(DIAG_STORAGE_FAIL);
        return 0;
    }
    s->serial = t->serial;
    s->flags = t->flags;
    return s;
}

/* Run mode: the gated child is tracked before it execs; what it does until then is the
 * launcher's, not the command's. Its first execve ends the wait (for later threads too). */
static __always_inline int still_waiting(struct task_state *s, u32 nr)
{
    if (!(s->flags & TRK_WAIT_EXEC))
        return 0;
    if (nr != NR_EXECVE && nr != NR_EXECVEAT)
        return 1;
    s->flags &= ~TRK_WAIT_EXEC;
    u32 tgid = current_tgid();
    struct track_val *t = tracked.lookup(&tgid);
    if (t)
        t->flags &= ~TRK_WAIT_EXEC;
    return 0;
}

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
    v = stats.lookup(&key);
    if (!v)
        diag_inc(DIAG_STATS_FULL);
    return v;
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

/* floor(log2(v)), clamped to the last bucket; 0 for v < 2. */
static __always_inline u32 log2_bucket(u64 v)
{
    u32 r = 0;
#pragma unroll
    for (int shift = 32; shift > 0; shift >>= 1) {
        if (v >= (1ULL << shift)) {
            v >>= shift;
            r += shift;
        }
    }
    return r < HIST_BUCKETS ? r : HIST_BUCKETS - 1;
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
}

/* --- syscalls -------------------------------------------------------------------------------- */

#if LATENCY

/* ctx->args: [0] struct pt_regs *, [1] syscall number */
RAW_TRACEPOINT_PROBE(sys_enter)
{
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_state *s = tstate.task_storage_get(task, 0, 0);
    if (!s) {
        s = adopt(task);
        if (!s)
            return 0;                       /* not ours: one hash lookup, done */
    }
    u32 nr = ctx->args[1];
    if (still_waiting(s, nr))
        return 0;
    /* Counted on entry: exit and exit_group never return, a successful execve returns into a
     * new program, fork returns twice, rt_sigreturn returns into the interrupted code. */
    if (nr < NR_SLOTS)
        s->c[nr & (NR_SLOTS - 1)].count++;
    s->nr = nr;
    s->enter_ns = bpf_ktime_get_ns();
    return 0;
}

/* ctx->args: [0] struct pt_regs *, [1] return value */
RAW_TRACEPOINT_PROBE(sys_exit)
{
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_state *s = tstate.task_storage_get(task, 0, 0);
    /* No call in progress: not ours, or a new thread or child returning from fork. */
    if (!s || !s->enter_ns)
        return 0;
    u64 dt = bpf_ktime_get_ns() - s->enter_ns;
    s->enter_ns = 0;
    u32 nr = s->nr;
    long ret = ctx->args[1];
    if (nr >= NR_SLOTS) {
        count_outside(s, nr, ret, dt);
        return 0;
    }
    struct counts *c = &s->c[nr & (NR_SLOTS - 1)];
    if (is_error(ret))
        c->errors++;
    c->time_ns += dt;
    struct hist_val *h = hist.lookup(&nr);
    if (h) {
        u32 b = log2_bucket(dt);
        /* Atomic although per CPU: syscall tracepoints may be preempted on PREEMPT kernels,
         * and another task's program could then bump the same bucket on this CPU. */
        if (b < HIST_BUCKETS)               /* always; keeps the verifier sure */
            __sync_fetch_and_add(&h->b[b], 1);
    }
    return 0;
}

#else /* !LATENCY: one tracepoint, counted on exit */

RAW_TRACEPOINT_PROBE(sys_exit)
{
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_state *s = tstate.task_storage_get(task, 0, 0);
    if (!s) {
        s = adopt(task);
        if (!s)
            return 0;
    }
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
    if (n >= NR_SLOTS) {
        count_outside(s, n, ret, 0);
        return 0;
    }
    struct counts *c = &s->c[n & (NR_SLOTS - 1)];  /* the mask: for the verifier's sake */
    c->count++;
    if (is_error(ret))
        c->errors++;
    return 0;
}

#endif /* LATENCY */

/* --- the tree -------------------------------------------------------------------------------- */

/* A new task. When the parent (current) is tracked and the task is a process, track it. */
TRACEPOINT_PROBE(task, task_newtask)
{
    if (args->clone_flags & CLONE_THREAD)
        return 0;                           /* a thread: adopted on its first syscall */
    u32 ptgid = current_tgid();
    if (!tracked.lookup(&ptgid))
        return 0;
    u32 zero = 0;
    u32 *next = next_serial.lookup(&zero);
    if (!next)
        return 0;
    u32 serial = (*next << SERIAL_CPU_BITS) | bpf_get_smp_processor_id();
    (*next)++;
    struct proc_info info = {};
    info.tgid = args->pid;
    info.ppid = ptgid;
    info.start_ns = bpf_ktime_get_ns();
    __builtin_memcpy(info.comm, args->comm, TASK_COMM_LEN);
    if (procs.insert(&serial, &info)) {
        diag_inc(DIAG_PROCS_FULL);
        return 0;
    }
    u32 child = args->pid;
    struct track_val tv = {.serial = serial, .flags = 0};
    if (tracked.update(&child, &tv)) {
        procs.delete(&serial);
        diag_inc(DIAG_PROCS_FULL);
        return 0;
    }
    diag_inc(DIAG_NEW_PROCS);
    return 0;
}

TRACEPOINT_PROBE(sched, sched_process_exec)
{
    u32 tgid = current_tgid();
    struct track_val *t = tracked.lookup(&tgid);
    if (!t)
        return 0;
    u32 serial = t->serial;
    struct proc_info *info = procs.lookup(&serial);
    if (info) {
        bpf_get_current_comm(info->comm, sizeof(info->comm));
        info->flags |= PROC_EXECED;
    }
    return 0;
}

/* A thread ends: add its array into `stats`, then drop its storage (user space stops reading
 * it there). With group_dead, the process is gone: mark it and stop tracking its tgid. */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
#if HAVE_GROUP_DEAD
    int group_dead = args->group_dead;
#else
    u64 id = bpf_get_current_pid_tgid();
    int group_dead = (u32)id == (u32)(id >> 32);  /* older kernels: the leader stands for it */
#endif
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_state *s = tstate.task_storage_get(task, 0, 0);
    if (s) {
        u32 serial = s->serial;
        /* Set before the first add: user space reads `stats` first and thread arrays second,
         * so a thread is never counted in both places. */
        s->flags |= TRK_FLUSHING;
        /* A plain loop keeps the verifier's work linear: one path per slot, nothing unrolled. */
#pragma clang loop unroll(disable)
        for (u32 nr = 0; nr < NR_SLOTS; nr++) {
            u64 count = s->c[nr].count;
            if (!count)
                continue;
            struct stat_key key = {.serial = serial, .nr = nr};
            struct counts *v = stats.lookup(&key);
            if (!v) {
                struct counts zero = {};
                stats.insert(&key, &zero);
                v = stats.lookup(&key);
            }
            if (!v) {
                s->dropped++;   /* in the map value, not a register: states still prune */
                continue;
            }
            __sync_fetch_and_add(&v->count, count);
            __sync_fetch_and_add(&v->errors, s->c[nr].errors);
#if LATENCY
            __sync_fetch_and_add(&v->time_ns, s->c[nr].time_ns);
#endif
        }
        if (s->dropped)
            diag_add(DIAG_STATS_FULL, s->dropped);
        tstate.task_storage_delete(task);
    }
    if (!group_dead)
        return 0;                           /* a thread; the process lives on */
    u32 tgid = current_tgid();
    struct track_val *t = tracked.lookup(&tgid);
    if (!t)
        return 0;
    u32 serial = t->serial;
    struct proc_info *info = procs.lookup(&serial);
    if (info) {
        info->exit_ns = bpf_ktime_get_ns();
        info->flags |= PROC_EXITED;
    }
    /* Untrack now: the pid may be reused by a process that is none of ours. */
    tracked.delete(&tgid);
    diag_inc(DIAG_EXITS);
    return 0;
}
