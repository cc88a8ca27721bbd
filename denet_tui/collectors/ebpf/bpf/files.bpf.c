/*
 * denet-tui, family "files": every open of the tree, and every unlink, rmdir, mkdir, rename and
 * truncate by path, per process and path (kernel-side counts).
 *
 *   syscalls:sys_enter_<call>   a call of the tree: its arguments kept in the thread's task
 *                               storage (open, openat, openat2, creat, unlink, unlinkat, rmdir,
 *                               mkdir, mkdirat, rename, renameat, renameat2, truncate)
 *   syscalls:sys_exit_<call>    its result: the path read now (from the caller's memory,
 *                               faulted in by the call) and counted under (process, path, op);
 *                               a rename under both of its names
 *
 * The path is the one passed (relative ones stay relative). A full table loses the call: the
 * program counts it (DIAG_FILES_FULL), never silent.
 */

BPF_F_TABLE("hash", struct file_key, struct file_val, file_stats, MAX_FILE_KEYS,
            BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(file_scratch, struct file_key, 1);

static __always_inline void file_entered(u32 op, u64 path, u64 path2, u32 flags)
{
    struct task_state *s = thread_state(bpf_get_current_task_btf());
    if (!s || (s->flags & TRK_WAIT_EXEC))
        return;                             /* not ours, or run mode's launcher */
    s->fa.path = path;
    s->fa.path2 = path2;
    s->fa.flags = flags;
    s->fa.op = op;
}

static __always_inline u32 file_modes(u32 flags)
{
    u32 acc = flags & 3;                    /* O_RDONLY 0, O_WRONLY 1, O_RDWR 2 */
    u32 m = 0;
    if (acc == 0 || acc == 2)
        m |= FILE_MODE_READ;
    if (acc == 1 || acc == 2)
        m |= FILE_MODE_WRITE;
    if (flags & 0100)                       /* O_CREAT */
        m |= FILE_MODE_CREATE;
    return m;
}

static __always_inline void file_count(u32 serial, u32 op, u64 path, u32 modes, long ret)
{
    u32 zero = 0;
    struct file_key *k = file_scratch.lookup(&zero);
    if (!k)
        return;
    __builtin_memset(k, 0, sizeof(*k));     /* the key is compared whole: no stale bytes */
    k->serial = serial;
    k->op = op;
    long n = bpf_probe_read_user_str(k->path, sizeof(k->path), (void *)path);
    if (n == FILE_PATH)
        modes |= FILE_MODE_CUT;
    u64 now = bpf_ktime_get_ns();
    struct file_val *v = file_stats.lookup(k);
    if (!v) {
        struct file_val none = {.first_ns = now};
        file_stats.insert(k, &none);        /* another thread may have been first: fine */
        v = file_stats.lookup(k);
        if (!v) {
            diag_inc(DIAG_FILES_FULL);
            return;
        }
    }
    __sync_fetch_and_add(&v->calls, 1);
    if (ret < 0) {
        __sync_fetch_and_add(&v->failures, 1);
        v->last_errno = (u32)-ret;
    }
    v->last_ns = now;
    v->modes |= modes;
}

static __always_inline void file_returned(long ret)
{
    struct task_state *s = tstate.task_storage_get(bpf_get_current_task_btf(), 0, 0);
    if (!s || !s->fa.path)
        return;                             /* not ours, or no call of ours in progress */
    u64 path = s->fa.path, path2 = s->fa.path2;
    u32 op = s->fa.op;
    u32 modes = op == FILE_OP_OPEN ? file_modes(s->fa.flags)
              : op == FILE_OP_TRUNCATE ? FILE_MODE_WRITE : 0;
    s->fa.path = 0;
    file_count(s->serial, op, path, modes, ret);
    if (op == FILE_OP_RENAME_FROM)
        file_count(s->serial, FILE_OP_RENAME_TO, path2, 0, ret);
}

/* Each call's entry (its arguments) and exit (its result). */
#define FILE_EXIT(call)                                                     \
    TRACEPOINT_PROBE(syscalls, sys_exit_##call)                             \
    {                                                                       \
        long ret = args->ret;                                               \
        file_returned(ret);                                                 \
        return 0;                                                           \
    }

TRACEPOINT_PROBE(syscalls, sys_enter_open)
{
    file_entered(FILE_OP_OPEN, (u64)args->filename, 0, (u32)args->flags);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_openat)
{
    file_entered(FILE_OP_OPEN, (u64)args->filename, 0, (u32)args->flags);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_openat2)
{
    u64 how_flags = 0;                      /* struct open_how: flags is its first member */
    bpf_probe_read_user(&how_flags, sizeof(how_flags), (void *)args->how);
    file_entered(FILE_OP_OPEN, (u64)args->filename, 0, (u32)how_flags);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_creat)
{
    /* O_WRONLY | O_CREAT | O_TRUNC */
    file_entered(FILE_OP_OPEN, (u64)args->pathname, 0, 01 | 0100 | 01000);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_unlink)
{
    file_entered(FILE_OP_UNLINK, (u64)args->pathname, 0, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_unlinkat)
{
    u32 op = args->flag & 0x200 ? FILE_OP_RMDIR : FILE_OP_UNLINK;  /* AT_REMOVEDIR */
    file_entered(op, (u64)args->pathname, 0, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_rmdir)
{
    file_entered(FILE_OP_RMDIR, (u64)args->pathname, 0, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_mkdir)
{
    file_entered(FILE_OP_MKDIR, (u64)args->pathname, 0, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_mkdirat)
{
    file_entered(FILE_OP_MKDIR, (u64)args->pathname, 0, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_rename)
{
    file_entered(FILE_OP_RENAME_FROM, (u64)args->oldname, (u64)args->newname, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_renameat)
{
    file_entered(FILE_OP_RENAME_FROM, (u64)args->oldname, (u64)args->newname, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_renameat2)
{
    file_entered(FILE_OP_RENAME_FROM, (u64)args->oldname, (u64)args->newname, 0);
    return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_truncate)
{
    file_entered(FILE_OP_TRUNCATE, (u64)args->path, 0, 0);
    return 0;
}

FILE_EXIT(open)
FILE_EXIT(openat)
FILE_EXIT(openat2)
FILE_EXIT(creat)
FILE_EXIT(unlink)
FILE_EXIT(unlinkat)
FILE_EXIT(rmdir)
FILE_EXIT(mkdir)
FILE_EXIT(mkdirat)
FILE_EXIT(rename)
FILE_EXIT(renameat)
FILE_EXIT(renameat2)
FILE_EXIT(truncate)
