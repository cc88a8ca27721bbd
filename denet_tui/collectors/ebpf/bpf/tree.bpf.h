/*
 * denet-tui: the process tree, followed in the kernel, and the one per-thread state.
 *
 * The loader (collectors/ebpf/loader.py) joins one compile unit: the kernel headers, each
 * enabled family's `<family>.bpf.h` (its types, and its fields of the per-thread state), this
 * header, then each family's `<family>.bpf.c` (its maps and hooks). A family is switched on by
 * `-DFAMILY_<NAME>=1`; its hooks below are called only then. Tracepoints only (no kprobes):
 *
 *   task:task_newtask           a new task; clone_flags tells a thread from a process
 *                               (families are told of each new thread of the tree)
 *   sched:sched_process_exec    the process has a new name (and the arguments read at entry);
 *                               run mode's gate is open
 *   syscalls:sys_enter_execve, sys_enter_execveat   an exec's arguments, read from the caller
 *   sched:sched_process_exit    a thread ends; with group_dead, the whole process
 *   syscalls:sys_enter_exit_group   the process's exit code
 *
 * A process created by a tracked process is tracked before it runs its first instruction, so
 * a child that lives for a millisecond is still seen. Each thread of a tracked process gets
 * one `task_state` in task storage (made on its first event by `adopt`): the families' hot
 * paths share that one lookup, after a bit per pid (`tracked_bits`) has told the tasks of
 * every other process "not ours" for the price of one array slot.
 *
 * Every knob is an integer -D from user space; no string from the user is ever part of the
 * source (PIDs reach the program through the `tracked` map).
 *
 *   MAX_PROCS        processes tracked / kept until user space has read them
 *   PID_LIMIT        pids the `pid_bits` arrays have a bit for (the kernel's largest pid_max)
 *   SERIAL_CPU_BITS  bits of a serial that hold the CPU it was made on
 *   HAVE_GROUP_DEAD  sched_process_exit has the group_dead field (Linux >= 6.13)
 *   NR_EXECVE, NR_EXECVEAT  this architecture's numbers (run mode waits for the exec)
 *   ARGV_BYTES, ARGV_MAX    what is kept of an exec's arguments (see `exec_argv`)
 *
 * Layouts shared with user space are mirrored once, in collectors/ebpf/layout.py; a test
 * compares their sizes with the ones BCC derives from this source.
 */

/* The records of the syscalls:sys_enter_<call> and sys_exit_<call> tracepoints (their format
 * files: the call's number at 8; from 16, each argument in 8 bytes whatever its C type, or the
 * result). A program taking one serves several calls, told apart by number (CALL_NR_<CALL>): the
 * loader attaches it to each (`Family.shared`), so its body is compiled and verified once,
 * not once per call; or, with SHARED_RAW (below), the raw syscall programs hand it the calls. */
struct sys_enter_args {
    u64 common;
    int nr;
    u64 a[6];
};
struct sys_exit_args {
    u64 common;
    int nr;
    long ret;
};
#if SHARED_RAW
/* The syscalls family's raw programs, which run for every call anyway and have the thread's
 * state at hand, hand each of these calls over (`shared_enter`, `shared_exit`: written by the
 * loader from `Family.shared`): no tracepoint is attached per call. A formatted record cost
 * ~230 ns per call pair here (tar: 60,000 opens a second). */
#define SHARED_EXIT(fn) static __always_inline int fn(struct sys_exit_args *args)
#define SHARED_ENTER_OF_TREE(prog, fn)                                      \
    static __always_inline void prog(struct task_state *s, long nr, u64 *a) \
    {                                                                       \
        fn(s, nr, a[0], a[1], a[2], a[3], a[4]);                            \
    }
#else
#define SHARED_ENTER(fn) int fn(struct sys_enter_args *args)
#define SHARED_EXIT(fn) int fn(struct sys_exit_args *args)
/* A shared enter that hands a call of the tree's threads (not run mode's launcher) to
 * `fn(state, nr, a0, a1, a2, a3, a4)`. The arguments are copied rather than loaded: the kernel
 * attaches a program only where every field it loads is in the call's record, and a call with
 * fewer arguments has a shorter one. (The program's context is the kernel's six-argument copy
 * on its stack, so the copy never fails; past a call's own arguments it holds leftovers, which
 * no `fn` reads.) */
#define SHARED_ENTER_OF_TREE(prog, fn)                                      \
    SHARED_ENTER(prog)                                                      \
    {                                                                       \
        struct task_state *s = thread_state();                              \
        if (!s || (s->flags & TRK_WAIT_EXEC))                               \
            return 0;                                                       \
        u64 a[5] = {};                                                      \
        bpf_probe_read_kernel(a, sizeof(a), args->a);                       \
        fn(s, args->nr, a[0], a[1], a[2], a[3], a[4]);                      \
        return 0;                                                           \
    }
#endif

/* `tracked`: live tgid -> its serial. The hot path's one lookup for a task it does not know. */
struct track_val {
    u32 serial;
    u32 flags;                      /* TRK_* */
};
#define TRK_WAIT_EXEC 1             /* run mode: count nothing until the process execs */
#define TRK_FLUSHING 2              /* task_state only: its figures are being moved to maps;
                                     * user space must not read this thread's state any more */
#define TRK_WAIT_MM 4               /* run mode: its memory is the launcher's until its exec is
                                     * done (the syscalls family ends TRK_WAIT_EXEC at execve's
                                     * entry, while the old address space is still in place) */

/* `procs`: serial -> one process. Kept after it exits, until user space has read it. */
struct proc_info {
    u32 tgid;
    u32 ppid;                       /* tgid of the process that created it (seeded: from /proc) */
    u32 flags;                      /* PROC_* */
    u32 exit_status;                /* 1 + its exit_group code; 0 while not known */
    u64 start_ns;                   /* bpf_ktime_get_ns() at creation (seeded: 0) */
    u64 exit_ns;
    char comm[TASK_COMM_LEN];       /* at creation, then after each exec */
};
#define PROC_EXITED 1
#define PROC_EXECED 2

/* A bit per pid (`pid_bits` arrays): a set bit says "may be ours, look it up", a clear one
 * "surely not", so that a task of another process (most of what runs on the machine) is told
 * so by one array slot instead of a hash lookup. Each half of a word has one kind of writer:
 * the programs set and clear `kernel` (atomic ops); user space sets `user` for what it seeds
 * (through a memory mapping) and clears it when it lets go. A stale bit only costs a lookup. */
struct pid_bits {
    u64 kernel;
    u64 user;
};
#define PID_WORDS (PID_LIMIT / 64)
/* `id`'s word of a pid_bits array; then whether its bit may be set (1 without the word), and
 * setting or clearing it in the kernel half. */
static __always_inline u32 pid_word(u32 id)
{
    return (id >> 6) & (PID_WORDS - 1);
}

static __always_inline int pid_bit_maybe(struct pid_bits *b, u32 id)
{
    return !b || ((b->kernel | b->user) & (1ULL << (id & 63)));
}

static __always_inline void pid_bit_set(struct pid_bits *b, u32 id, int on)
{
    if (!b)
        return;
    if (on)
        __sync_fetch_and_or(&b->kernel, 1ULL << (id & 63));
    else
        __sync_fetch_and_and(&b->kernel, ~(1ULL << (id & 63)));
}

#ifndef SYSCALLS_THREAD_STATE
#define SYSCALLS_THREAD_STATE
#endif
#ifndef FILES_THREAD_STATE
#define FILES_THREAD_STATE
#endif
#ifndef PRIVILEGES_THREAD_STATE
#define PRIVILEGES_THREAD_STATE
#endif

/* Per thread: which process it counts for, then each enabled family's own fields. Only the
 * thread itself writes here (its own events, then its exit), so plain increments are exact. */
struct task_state {
    u32 serial;
    u32 flags;                      /* TRK_* copied from `tracked` when the thread is adopted */
    u32 marked;                     /* the `generation` its process was last marked active in */
    u32 pad;
    SYSCALLS_THREAD_STATE
    FILES_THREAD_STATE
    PRIVILEGES_THREAD_STATE
};

/* Nothing is dropped silently: each way of losing a figure has a counter. */
enum {
    DIAG_STATS_FULL = 0,            /* syscalls: an ended thread's figures lost: map full */
    DIAG_PROCS_FULL,                /* a new process not tracked: `procs`/`tracked` full */
    DIAG_STORAGE_FAIL,              /* a thread not followed: its storage could not be made */
    DIAG_NEW_PROCS,                 /* processes that joined the tree */
    DIAG_EXITS,                     /* processes that left it */
    DIAG_ACTIVE_FULL,               /* a change not marked in `active`: map full (retried) */
    DIAG_SCHED_LATE,                /* sched: a thread's last switch came after its process
                                     * was reported ended (its figures went without it) */
    DIAG_SCHED_FULL,                /* sched: a thread not followed, or an ended one's figures
                                     * lost: `sched_threads` or `sched_ended` full */
    DIAG_MEM_FULL,                  /* memory: a process's memory not followed: map full */
    DIAG_EXEC_LOST,                 /* exec: an event lost, its ring buffer full */
    DIAG_FILES_FULL,                /* files: a call not counted: no id left for its path */
    DIAG_SIGNALS_LOST,              /* signals: an event lost, its ring buffer full */
    DIAG_PRIVILEGES_LOST,           /* privileges: an event lost, its ring buffer full */
    DIAG_CAPS_FULL,                 /* privileges: a capability check not counted: map full */
    DIAG_NET_FULL,                  /* network: a call not counted: `net_procs` full */
    DIAG_DISK_FULL,                 /* disk: a request not counted or not timed: map full */
    DIAG_CONNS_LOST,                /* network: a closed connection lost, its ring buffer full */
    DIAG_SCHED_LATE_WAKE,           /* sched: a nap whose wakeup was not seen, closed at the
                                     * thread's next switch from its own counters */
    DIAG_N,
};

BPF_F_TABLE("hash", u32, struct track_val, tracked, MAX_PROCS, BPF_F_NO_PREALLOC);
/* `tracked_bits`: the tgids in `tracked` (and a few more, see pid_bits). */
BPF_F_TABLE("array", u32, struct pid_bits, tracked_bits, PID_WORDS, BPF_F_MMAPABLE);

/* Whether process `tgid` may be tracked: 0 means surely not (its bit is clear). */
static __always_inline int maybe_tracked(u32 tgid)
{
    u32 w = pid_word(tgid);
    return pid_bit_maybe(tracked_bits.lookup(&w), tgid);
}

/* The `tracked` entry of process `tgid`, if it has one: most tasks are told "none" by their
 * bit alone. */
static __always_inline struct track_val *tracked_get(u32 tgid)
{
    if (!maybe_tracked(tgid))
        return 0;
    return tracked.lookup(&tgid);
}

BPF_F_TABLE("hash", u32, struct proc_info, procs, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_TASK_STORAGE(tstate, struct task_state);
/* Serials are made per CPU, without atomics: (counter << SERIAL_CPU_BITS) | cpu. */
BPF_PERCPU_ARRAY(next_serial, u32, 1);
BPF_PERCPU_ARRAY(diag, u64, DIAG_N);
/* `active`: serial -> the `generation` in which a thread of that process last changed its
 * state (made a call, or ended). User space bumps `generation` at each sample and reads the
 * states of marked processes only: an idle process costs it nothing. A thread marks once per
 * generation; entries go when the process is reaped. */
BPF_ARRAY(generation, u32, 1);
BPF_F_TABLE("hash", u32, u32, active, MAX_PROCS, BPF_F_NO_PREALLOC);

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

/* The thread's state changed (or is about to): mark its process in `active`. ``always``: even
 * if marked in this generation already (a thread that ends marks before moving its figures,
 * so user space never keeps a copy of a state that is also in the maps). */
static __always_inline void mark_active(struct task_state *s, int always)
{
    u32 zero = 0;
    u32 *g = generation.lookup(&zero);
    if (!g)
        return;
    u32 gen = *g;
    if (s->marked == gen && !always)
        return;
    if (active.update(&s->serial, &gen))
        diag_inc(DIAG_ACTIVE_FULL);         /* not marked: the next change tries again */
    else
        s->marked = gen;
}

/* floor(log2(v)), clamped to the last of `buckets`; 0 for v < 2 (the families' histograms). */
static __always_inline u32 log2_bucket(u64 v, u32 buckets)
{
    u32 r = 0;
#pragma unroll
    for (int shift = 32; shift > 0; shift >>= 1) {
        if (v >= (1ULL << shift)) {
            v >>= shift;
            r += shift;
        }
    }
    return r < buckets ? r : buckets - 1;
}

static __always_inline u32 current_tgid(void)
{
    return bpf_get_current_pid_tgid() >> 32;
}

/* The state of the current thread, made on its first event if its process is tracked;
 * 0 when the thread is none of ours (its process's bit; then a task-storage get and a hash
 * lookup). */
static __always_inline struct task_state *thread_state(void)
{
    u32 tgid = current_tgid();
    if (!maybe_tracked(tgid))
        return 0;                           /* the common case: another process's task */
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_state *s = tstate.task_storage_get(task, 0, 0);
    if (s)
        return s;
    struct track_val *t = tracked.lookup(&tgid);
    if (!t)
        return 0;
    s = tstate.task_storage_get(task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!s) {
        diag_inc(DIAG_STORAGE_FAIL);
        return 0;
    }
    s->serial = t->serial;
    s->flags = t->flags;
    return s;
}

/* The current thread's state, if it has one (none is made). */
static __always_inline struct task_state *current_state(void)
{
    if (!maybe_tracked(current_tgid()))
        return 0;
    return tstate.task_storage_get(bpf_get_current_task_btf(), 0, 0);
}

/* When something the thread does now happened: during a system call the syscalls family
 * timed, the call's entry (it read the clock then), else now. A clock read costs ~30 ns here
 * (`read_tsc`), and some of what the families count comes by the hundred thousand within
 * calls (tar's 215,000 capability checks: its tmpfs writes' memory accounting). */
static __always_inline u64 event_time(struct task_state *s)
{
#if FAMILY_SYSCALLS && LATENCY
    if (s->sc.enter_ns)
        return s->sc.enter_ns;
#endif
    return bpf_ktime_get_ns();
}

/* Run mode: the gated child is tracked before it execs; what it does until then is the
 * launcher's, not the command's. Its first execve ends the wait (for later threads too). */
#if FAMILY_SCHED
static __always_inline void sched_command_begins(void);
#endif

/* Run mode: the command begins with this exec (its own work from here on, for every family
 * alike): where the process's flag is cleared first (whichever of the syscall-entry programs
 * runs first, or at the exec itself). */
static __always_inline void command_begins(struct track_val *t)
{
    if (!(t->flags & TRK_WAIT_EXEC))
        return;
    t->flags &= ~TRK_WAIT_EXEC;
#if FAMILY_SCHED
    sched_command_begins();
#endif
}

static __always_inline int still_waiting(struct task_state *s, u32 nr)
{
    if (!(s->flags & TRK_WAIT_EXEC))
        return 0;
    if (nr != NR_EXECVE && nr != NR_EXECVEAT)
        return 1;
    s->flags &= ~TRK_WAIT_EXEC;
    u32 tgid = current_tgid();
    struct track_val *t = tracked_get(tgid);
    if (t)
        command_begins(t);
    return 0;
}

/* Each family's hooks when a thread of the tree begins, execs or ends (defined in its .bpf.c). */
#if FAMILY_SYSCALLS
static __always_inline void syscalls_thread_exit(struct task_state *s);
#endif
#if FAMILY_SCHED
static __always_inline void sched_new_task(u32 tid, u32 serial);
static __always_inline void sched_tid_taken(u32 from, u32 to);
#endif
#if FAMILY_MEMORY
static __always_inline void memory_process_exit(u32 serial);
#endif
#if FAMILY_FILES
static __always_inline void files_new_process(u32 ptgid, u32 pserial, u32 tgid, u32 serial);
static __always_inline void files_process_exit(u32 serial);
#endif
#if FAMILY_SIGNALS
static __always_inline void signals_process_exit(u32 tgid, u32 serial);
#endif
#if FAMILY_PRIVILEGES
static __always_inline void privileges_thread_exit(struct task_state *s);
static __always_inline void privileges_renamed(struct task_state *s);
#endif
#if FAMILY_EXEC
struct exec_argv;
static __always_inline void exec_entered(u64 path);
static __always_inline void exec_succeeded(u32 serial, void *ctx, u32 loc, struct exec_argv *a);
#endif

#if SHARED_RAW
/* The shared programs' calls, from the raw programs (the loader writes them at the end). */
static __always_inline void shared_enter(struct task_state *s, u32 nr, void *regs);
static __always_inline void shared_exit(u32 nr, long ret);

/* A call's first five arguments, from its registers at sys_enter (one read of the span of
 * pt_regs that holds them). */
#define ARG_AT(r) __builtin_offsetof(struct pt_regs, r)
#define ARG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ARG_MAX(a, b) ((a) > (b) ? (a) : (b))
#define ARGS_FROM ARG_MIN(ARG_MIN(ARG_MIN(ARG_AT(SYSCALL_ARG0), ARG_AT(SYSCALL_ARG1)), \
                                  ARG_MIN(ARG_AT(SYSCALL_ARG2), ARG_AT(SYSCALL_ARG3))), \
                          ARG_AT(SYSCALL_ARG4))
#define ARGS_TO ARG_MAX(ARG_MAX(ARG_MAX(ARG_AT(SYSCALL_ARG0), ARG_AT(SYSCALL_ARG1)), \
                                ARG_MAX(ARG_AT(SYSCALL_ARG2), ARG_AT(SYSCALL_ARG3))), \
                        ARG_AT(SYSCALL_ARG4))
/* A 32-bit program's call (ia32 emulation) has numbers and registers of its own: the raw
 * tracepoints see it, the formatted ones do not. Not handed over. */
static __always_inline int compat_call(void)
{
    u32 status = 0;
    bpf_probe_read_kernel(&status, sizeof(status), (char *)bpf_get_current_task() + TASK_TI_STATUS);
    return status & TS_COMPAT;
}

static __always_inline void shared_args(u64 *a, void *regs)
{
    u64 w[(ARGS_TO - ARGS_FROM) / 8 + 1] = {};
    bpf_probe_read_kernel(w, sizeof(w), (char *)regs + ARGS_FROM);
    a[0] = w[(ARG_AT(SYSCALL_ARG0) - ARGS_FROM) / 8];
    a[1] = w[(ARG_AT(SYSCALL_ARG1) - ARGS_FROM) / 8];
    a[2] = w[(ARG_AT(SYSCALL_ARG2) - ARGS_FROM) / 8];
    a[3] = w[(ARG_AT(SYSCALL_ARG3) - ARGS_FROM) / 8];
    a[4] = w[(ARG_AT(SYSCALL_ARG4) - ARGS_FROM) / 8];
}
#endif

/* A new task. When the parent (current) is tracked and the task is a process, track it. */
TRACEPOINT_PROBE(task, task_newtask)
{
    u32 ptgid = current_tgid();
    struct track_val *parent = tracked_get(ptgid);
    if (!parent)
        return 0;
    if (args->clone_flags & CLONE_THREAD) {
        /* A thread: adopted into task storage on its first event. */
#if FAMILY_SCHED
        sched_new_task(args->pid, parent->serial);
#endif
        return 0;
    }
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
    u32 w = pid_word(child);
    pid_bit_set(tracked_bits.lookup(&w), child, 1);
#if FAMILY_SCHED
    sched_new_task(child, serial);
#endif
#if FAMILY_FILES
    files_new_process(ptgid, parent->serial, child, serial);
#endif
    diag_inc(DIAG_NEW_PROCS);
    return 0;
}

/* The `procs` entry of the current process, if it is tracked. */
static __always_inline struct proc_info *current_proc(void)
{
    u32 tgid = current_tgid();
    struct track_val *t = tracked_get(tgid);
    if (!t)
        return 0;
    u32 serial = t->serial;
    return procs.lookup(&serial);
}

/* The arguments of an exec, as NUL-terminated strings in `buf`, so that a process /proc never
 * read (it lived a millisecond) still has its command line. Read at entry, from the caller's
 * memory (after a successful exec it is gone): a page not yet faulted in cannot be read from
 * here, which `flags` says. At most ARGV_MAX arguments; a string may start anywhere below
 * ARGV_BYTES and run for up to ARGV_BYTES more (so that the verifier can bound each read). */
struct exec_argv {
    u32 argc;                       /* strings in buf */
    u32 len;                        /* bytes of buf used */
    u32 flags;                      /* ARGV_* */
    u32 pad;
    char buf[2 * ARGV_BYTES];
};
#define ARGV_TRUNCATED 1            /* more arguments or longer ones than were kept */
#define ARGV_FAULT 2                /* a read failed: the rest is missing */

BPF_PERCPU_ARRAY(argv_scratch, struct exec_argv, 1);
/* tid -> the arguments of its exec in progress; serial -> those of its last successful exec. */
BPF_F_TABLE("hash", u32, struct exec_argv, exec_pending, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_F_TABLE("hash", u32, struct exec_argv, exec_argv, MAX_PROCS, BPF_F_NO_PREALLOC);

static __always_inline void read_argv(u64 argv)
{
    u32 tgid = current_tgid();
    struct track_val *t = tracked_get(tgid);
    if (!t)
        return;
    if (t->flags & TRK_WAIT_EXEC) {
        /* (The memory family still waits for the new address space.) */
        struct task_state *s = current_state();
        if (s)
            s->flags &= ~TRK_WAIT_EXEC;
        command_begins(t);
    }
    u32 zero = 0;
    struct exec_argv *a = argv_scratch.lookup(&zero);
    if (!a)
        return;
    a->argc = 0;
    a->flags = 0;
    u32 off = 0;
    for (int i = 0; i <= ARGV_MAX; i++) {
        u64 p = 0;
        if (read_user(&p, sizeof(p), (void *)(argv + i * sizeof(u64)))) {
            a->flags |= ARGV_FAULT;
            break;
        }
        if (!p)
            break;
        if (i == ARGV_MAX || off >= ARGV_BYTES) {
            a->flags |= ARGV_TRUNCATED;
            break;
        }
        long n = read_user_str(&a->buf[off & (ARGV_BYTES - 1)], ARGV_BYTES, (void *)p);
        if (n <= 0) {
            a->flags |= ARGV_FAULT;
            break;
        }
        if (n == ARGV_BYTES)
            a->flags |= ARGV_TRUNCATED;     /* cut to fit, or exactly this long: we cannot tell */
        off = (off & (ARGV_BYTES - 1)) + n;
        a->argc++;
    }
    a->len = off;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    exec_pending.update(&tid, a);
}

TRACEPOINT_PROBE(syscalls, sys_enter_execve)
{
    read_argv((u64)args->argv);
#if FAMILY_EXEC
    exec_entered((u64)args->filename);
#endif
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_execveat)
{
    read_argv((u64)args->argv);
#if FAMILY_EXEC
    exec_entered((u64)args->filename);
#endif
    return 0;
}

TRACEPOINT_PROBE(sched, sched_process_exec)
{
    u32 tgid = current_tgid();
    struct track_val *t = tracked_get(tgid);
    if (!t)
        return 0;
    u32 waited = t->flags & TRK_WAIT_EXEC;  /* (neither program at the execve's entry saw it) */
    t->flags &= ~TRK_WAIT_MM;               /* run mode: the command runs */
    struct task_state *s = current_state();
    if (s) {
        s->flags &= ~TRK_WAIT_EXEC;         /* (the syscalls family, if on, did at the entry) */
#if FAMILY_PRIVILEGES
        privileges_renamed(s);
#endif
    }
    u32 serial = t->serial;
    struct proc_info *info = procs.lookup(&serial);
    if (info) {
        bpf_get_current_comm(info->comm, sizeof(info->comm));
        info->flags |= PROC_EXECED;
    }
    /* A thread other than the leader that execs takes the leader's pid: old_pid was its own. */
    u32 old = args->old_pid;
#if FAMILY_SCHED
    if (old != tgid)
        sched_tid_taken(old, tgid);
#endif
    if (waited)
        command_begins(t);                  /* (after: the thread's entry is under its tid) */
    struct exec_argv *a = exec_pending.lookup(&old);
#if FAMILY_EXEC
    exec_succeeded(serial, (void *)args, args->data_loc_filename, a);
#endif
    if (a) {
        exec_argv.update(&serial, a);
        exec_pending.delete(&old);
    }
    return 0;
}

/* A thread ends: each family moves its figures out of the thread's state, which is then
 * dropped. With group_dead, the process is gone: mark it and stop tracking its tgid. */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
#if HAVE_GROUP_DEAD
    int group_dead = args->group_dead;
#else
    u64 id = bpf_get_current_pid_tgid();
    int group_dead = (u32)id == (u32)(id >> 32);  /* older kernels: the leader stands for it */
#endif
    if (!maybe_tracked(current_tgid()))
        return 0;                           /* none of ours */
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_state *s = tstate.task_storage_get(task, 0, 0);
    if (s) {
        /* Set before the first move: user space reads the maps first and thread states
         * second, so a thread is never counted in both places. */
        s->flags |= TRK_FLUSHING;
        mark_active(s, 1);
#if FAMILY_SYSCALLS
        syscalls_thread_exit(s);
#endif
#if FAMILY_PRIVILEGES
        privileges_thread_exit(s);
#endif
        tstate.task_storage_delete(task);
    }
    u32 tgid = current_tgid();
    struct track_val *t = tracked_get(tgid);
    if (!t)
        return 0;                           /* none of ours */
    u32 tid = (u32)bpf_get_current_pid_tgid();
    exec_pending.delete(&tid);              /* an exec that failed, the last thing it tried */
    if (!group_dead)
        return 0;                           /* a thread; the process lives on */
    u32 serial = t->serial;
    struct proc_info *info = procs.lookup(&serial);
    if (info) {
        info->exit_ns = bpf_ktime_get_ns();
        info->flags |= PROC_EXITED;
    }
#if FAMILY_MEMORY
    memory_process_exit(serial);
#endif
#if FAMILY_FILES
    files_process_exit(serial);
#endif
#if FAMILY_SIGNALS
    signals_process_exit(tgid, serial);
#endif
    /* Untrack now: the pid may be reused by a process that is none of ours. */
    tracked.delete(&tgid);
    u32 w = pid_word(tgid);
    pid_bit_set(tracked_bits.lookup(&w), tgid, 0);
    diag_inc(DIAG_EXITS);
    return 0;
}

/* The exit code, from the process's own exit_group (the first call wins). A process killed by
 * a signal calls none: its status stays unknown (the signal delivered then is SIGKILL whatever
 * was sent, so it cannot be told from here). */
TRACEPOINT_PROBE(syscalls, sys_enter_exit_group)
{
    struct proc_info *info = current_proc();
    if (info && !info->exit_status)
        info->exit_status = (args->error_code & 0xff) + 1;
    return 0;
}
