/*
 * denet-tui, family "privileges": what the tree did that needs or changes privilege.
 *
 *   capability:cap_capable      a capability check of a thread of the tree: counted per
 *                               (process, program, capability, granted or denied): in the
 *                               thread's own run of equal checks (`cap_run`), then in
 *                               `cap_stats`; it fires thousands of times a second, so it is
 *                               never streamed
 *   syscalls:sys_enter_<call>   a privileged call of the tree: its arguments kept in the
 *                               thread's task storage (one program for every call:
 *                               `sys_enter_privileges`)
 *   syscalls:sys_exit_<call>    its result, the string argument read now (faulted in by the
 *                               call), and the uid/gid after it: one ring-buffer event
 *                               (`sys_exit_privileges`)
 *   (With the syscalls family's raw programs, these two are handed the calls from there
 *   instead: tree.bpf.h, SHARED_RAW.)
 *
 * A full table or ring buffer loses a count or an event and the program counts it
 * (DIAG_CAPS_FULL, DIAG_PRIVILEGES_LOST): never silent.
 */

BPF_F_TABLE("hash", struct cap_key, struct cap_val, cap_stats, MAX_CAP_KEYS, BPF_F_NO_PREALLOC);
BPF_RINGBUF_OUTPUT(priv_events, 64);       /* 256 KiB: ~1,100 calls between two samples */

/* The thread's run of checks goes to `cap_stats` (it ends, or another check comes). */
static __always_inline void cap_run_flush(struct task_state *s)
{
    struct cap_run *r = &s->cr;
    if (!r->count)
        return;
    struct cap_key k = {.tgid = r->tgid, .serial = s->serial, .cap = r->cap,
                        .denied = r->denied};
    __builtin_memcpy(k.comm, r->comm, sizeof(k.comm));
    struct cap_val none = {.first_ns = r->first_ns};
    struct cap_val *v = cap_stats.lookup_or_try_init(&k, &none);
    if (v) {
        __sync_fetch_and_add(&v->count, r->count);
        if (r->last_ns > v->last_ns)
            v->last_ns = r->last_ns;
    } else {
        diag_add(DIAG_CAPS_FULL, r->count);
    }
    r->count = 0;
}

static __always_inline void privileges_thread_exit(struct task_state *s)
{
    cap_run_flush(s);
}

/* The execve or execveat the thread is in, by its entry time (0: none; the syscalls family
 * timing calls knows the call in progress: without it, 0). */
static __always_inline u32 in_exec_call(struct task_state *s)
{
#if FAMILY_SYSCALLS && LATENCY
    if (s->sc.enter_ns && (s->sc.nr == NR_EXECVE || s->sc.nr == NR_EXECVEAT))
        return (u32)s->sc.enter_ns | 1;
#endif
    return 0;
}

/* One capability check of the current thread (cap_capable's `cap`, and `ret`: 0 granted). A
 * run of equal checks keeps the thread's name from when it began (reading the name at every
 * check cost ~55 ns of ~190): an exec or PR_SET_NAME ends the run (`privileges_renamed`); a name
 * written to /proc/.../comm (by another thread, or the thread itself) takes effect at the next
 * different check. The checks made during an execve are a run of their own, which a
 * successful one names after the program it loaded (they are of loading it: run mode's
 * command was listed as `denet-tui`, its launcher). */
static __always_inline void cap_checked(u32 cap, int ret)
{
    struct task_state *s = thread_state();
    if (!s || (s->flags & TRK_WAIT_EXEC))
        return;                             /* none of ours, or run mode's launcher */
    u32 denied = ret != 0;
    u64 now = event_time(s);
    u32 in_exec = in_exec_call(s);
    struct cap_run *r = &s->cr;
    mark_active(s, 0);
    if (r->count && r->cap == cap && r->denied == denied && r->in_exec == in_exec) {
        r->count++;                         /* the same check again: the common case */
        r->last_ns = now;
        return;
    }
    cap_run_flush(s);
    r->count = 1;
    r->first_ns = r->last_ns = now;
    r->cap = cap;
    r->denied = denied;
    r->in_exec = in_exec;
    r->tgid = current_tgid();
    bpf_get_current_comm(r->comm, sizeof(r->comm));
}

/* The thread's name changed (an exec, or its own PR_SET_NAME): its run so far was the old
 * name's, but for a run of this exec's own checks, which is the new program's. */
static __always_inline void privileges_renamed(struct task_state *s)
{
    mark_active(s, 0);                      /* before the move, as at every change */
    struct cap_run *r = &s->cr;
    u32 exec = in_exec_call(s);
    if (r->count && exec && r->in_exec == exec)
        bpf_get_current_comm(r->comm, sizeof(r->comm));
    else
        cap_run_flush(s);
}

#if CAP_RAW
/* The raw tracepoint: the kernel hands over its arguments (cred, target_ns, capable_ns, cap,
 * ret: checked against the event's format at load) without building a trace record first.
 * A build runs hundreds of thousands of checks a second (tar: 4 per file opened), and the
 * record was most of their cost. */
RAW_TRACEPOINT_PROBE(cap_capable)
{
    cap_checked((u32)ctx->args[3], (int)ctx->args[4]);
    return 0;
}
#else
TRACEPOINT_PROBE(capability, cap_capable)
{
    cap_checked(args->cap, args->ret);
    return 0;
}
#endif

static __always_inline void priv_returned(long ret)
{
    struct task_state *s = current_state();
    if (!s || !s->pa.call)
        return;                             /* not ours, or no call of ours in progress */
    if (s->pa.call - 1 == PRIV_PRCTL && s->pa.args[0] == 15 && ret == 0)
        privileges_renamed(s);              /* PR_SET_NAME (even if the event is lost) */
    struct priv_event *e = priv_events.ringbuf_reserve(sizeof(struct priv_event));
    if (!e) {
        s->pa.call = 0;
        diag_inc(DIAG_PRIVILEGES_LOST);
        return;
    }
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u64 uid_gid = bpf_get_current_uid_gid();
    e->ns = bpf_ktime_get_ns();
    e->args[0] = s->pa.args[0];
    e->args[1] = s->pa.args[1];
    e->args[2] = s->pa.args[2];
    e->args[3] = s->pa.args[3];
    e->ret = ret;
    e->pid = pid_tgid >> 32;
    e->tid = (u32)pid_tgid;
    e->call = s->pa.call - 1;
    e->uid = (u32)uid_gid;
    e->gid = uid_gid >> 32;
    e->str_cut = 0;
    e->str[0] = 0;
    if (s->pa.str) {
        long n = read_user_str(e->str, sizeof(e->str), (void *)s->pa.str);
        if (n < 0)
            e->str[0] = 0;
        e->str_cut = n == PRIV_STR;
    }
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    s->pa.call = 0;
    priv_events.ringbuf_submit(e, 0);
}

/* Each call's entry: which of its arguments (A0..A3, in the call's order) are kept, by PRIV_*
 * (the call's value: layout.PRIV_CALLS), and which is its string (0: none). */
#define A0 a0
#define A1 a1
#define A2 a2
#define A3 a3
#define PRIV_CALL(name, value, x0, x1, x2, x3, str_)                      \
    else if (nr == CALL_NR_##name) {                                        \
        call = value;                                                       \
        k0 = (x0);                                                          \
        k1 = (x1);                                                          \
        k2 = (x2);                                                          \
        k3 = (x3);                                                          \
        str = (str_);                                                       \
    }

static __always_inline void priv_call_entered(struct task_state *s, long nr, u64 a0, u64 a1,
                                              u64 a2, u64 a3, u64 a4)
{
    u32 call = 0;
    u64 k0 = 0, k1 = 0, k2 = 0, k3 = 0, str = 0;
    if (nr < 0)
        return;
    PRIV_CALL(SETUID, 0, A0 /* uid */, 0, 0, 0, 0)
    PRIV_CALL(SETGID, 1, A0 /* gid */, 0, 0, 0, 0)
    PRIV_CALL(SETREUID, 2, A0 /* ruid */, A1 /* euid */, 0, 0, 0)
    PRIV_CALL(SETREGID, 3, A0 /* rgid */, A1 /* egid */, 0, 0, 0)
    PRIV_CALL(SETRESUID, 4, A0 /* ruid */, A1 /* euid */, A2 /* suid */, 0, 0)
    PRIV_CALL(SETRESGID, 5, A0 /* rgid */, A1 /* egid */, A2 /* sgid */, 0, 0)
    PRIV_CALL(SETFSUID, 6, A0 /* uid */, 0, 0, 0, 0)
    PRIV_CALL(SETFSGID, 7, A0 /* gid */, 0, 0, 0, 0)
    PRIV_CALL(CAPSET, 8, 0, 0, 0, 0, 0)
    PRIV_CALL(PTRACE, 9, A0 /* request */, A1 /* pid */, 0, 0, 0)
    PRIV_CALL(MOUNT, 10, A3 /* flags */, 0, 0, 0, A1 /* dir_name */)
    PRIV_CALL(UMOUNT2, 11, A1 /* flags */, 0, 0, 0, A0 /* name */)
    PRIV_CALL(UNSHARE, 12, A0 /* unshare_flags */, 0, 0, 0, 0)
    PRIV_CALL(SETNS, 13, A0 /* fd */, A1 /* flags */, 0, 0, 0)
    PRIV_CALL(CHROOT, 14, 0, 0, 0, 0, A0 /* filename */)
    PRIV_CALL(PIVOT_ROOT, 15, 0, 0, 0, 0, A0 /* new_root */)
    PRIV_CALL(BPF, 16, A0 /* cmd */, 0, 0, 0, 0)
    PRIV_CALL(MEMFD_CREATE, 17, A1 /* flags */, 0, 0, 0, A0 /* uname */)
    PRIV_CALL(SECCOMP, 18, A0 /* op */, A1 /* flags */, 0, 0, 0)
    PRIV_CALL(PRCTL, PRIV_PRCTL, A0 /* option */, A1 /* arg2 */, A2 /* arg3 */, 0,
              A0 == 15 ? A1 : 0 /* PR_SET_NAME: the name */)
    PRIV_CALL(SETGROUPS, 20, A0 /* gidsetsize */, 0, 0, 0, 0)
    else
        return;
#undef A0
#undef A1
#undef A2
#undef A3
#undef PRIV_CALL
    s->pa.args[0] = k0;
    s->pa.args[1] = k1;
    s->pa.args[2] = k2;
    s->pa.args[3] = k3;
    s->pa.str = str;
    s->pa.call = call + 1;
}

SHARED_ENTER_OF_TREE(sys_enter_privileges, priv_call_entered)

/* Every call's exit: its result. */
SHARED_EXIT(sys_exit_privileges)
{
    priv_returned(args->ret);
    return 0;
}
