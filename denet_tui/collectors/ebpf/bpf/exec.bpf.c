/*
 * denet-tui, family "exec": every exec of the tree, successful or not, as an event.
 *
 *   syscalls:sys_enter_execve(at)   (tree.bpf.h reads the arguments) the path's address, kept
 *   sched:sched_process_exec       (tree.bpf.h) it succeeded: the kernel's path, the arguments
 *   syscalls:sys_exit_execve(at)    it failed (a negative result): the path read now, from the
 *                                   caller's memory (at entry the page may not be in yet); one
 *                                   program for both, or the raw sys_exit's (SHARED_RAW)
 *
 * Events go through a ring buffer that user space drains at each sample; a reserve that fails
 * (the buffer full) is counted (DIAG_EXEC_LOST), never silent. Only the tree's execs are seen:
 * the first thing each program does is the tree's "is this ours" lookup.
 */

BPF_RINGBUF_OUTPUT(exec_events, 1024);      /* 4 MiB: ~3,000 execs between two samples */
/* tid -> the path argument of its exec in progress (user memory). */
BPF_HASH(exec_path_arg, u32, u64, MAX_PROCS);

static __always_inline void exec_entered(u64 path)
{
    u32 tgid = current_tgid();
    if (!tracked_get(tgid))
        return;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    exec_path_arg.update(&tid, &path);
}

/* A new event of the current process, its arguments copied from `a` (if any). */
static __always_inline struct exec_event *exec_start(u32 serial, s32 ret, struct exec_argv *a)
{
    struct exec_event *e = exec_events.ringbuf_reserve(sizeof(struct exec_event));
    if (!e) {
        diag_inc(DIAG_EXEC_LOST);
        return 0;
    }
    e->ns = bpf_ktime_get_ns();
    e->serial = serial;
    e->pid = current_tgid();
    struct proc_info *info = procs.lookup(&serial);
    e->ppid = info ? info->ppid : 0;
    e->ret = ret;
    e->flags = 0;
    e->pad = 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    if (a) {
        e->argc = a->argc;
        e->len = a->len;
        e->argv_flags = a->flags;
        bpf_probe_read_kernel(e->buf, sizeof(e->buf), a->buf);
    } else {
        e->argc = 0;
        e->len = 0;
        e->argv_flags = 0;
    }
    e->argv_pad = 0;
    return e;
}

static __always_inline void exec_path_flags(struct exec_event *e, long n)
{
    if (n <= 0) {
        e->flags |= EXEC_PATH_FAULT;
        e->path[0] = 0;
    } else if (n == EXEC_PATH) {
        e->flags |= EXEC_PATH_CUT;
    }
}

/* It succeeded (sched_process_exec, in tree.bpf.h): `loc` is the tracepoint's __data_loc of
 * the path, relative to `ctx`. */
static __always_inline void exec_succeeded(u32 serial, void *ctx, u32 loc, struct exec_argv *a)
{
    struct exec_event *e = exec_start(serial, 0, a);
    if (!e)
        return;
    long n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), (char *)ctx + (loc & 0xFFFF));
    exec_path_flags(e, n);
    exec_events.ringbuf_submit(e, 0);
}

/* Its result: a failure is an event of its own (a success was one at sched_process_exec). */
static __always_inline void exec_returned(long ret)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    u64 *arg = exec_path_arg.lookup(&tid);
    if (!arg)
        return;                             /* none of ours */
    u64 path = *arg;
    exec_path_arg.delete(&tid);
    if (ret >= 0)
        return;
    u32 tgid = current_tgid();
    struct track_val *t = tracked_get(tgid);
    if (!t)
        return;
    struct exec_argv *a = exec_pending.lookup(&tid);
    struct exec_event *e = exec_start(t->serial, (s32)ret, a);
    if (a)
        exec_pending.delete(&tid);
    if (!e)
        return;
    long n = read_user_str(e->path, sizeof(e->path), (void *)path);
    exec_path_flags(e, n);
    exec_events.ringbuf_submit(e, 0);
}

SHARED_EXIT(sys_exit_exec)               /* execve, execveat */
{
    exec_returned(args->ret);
    return 0;
}
