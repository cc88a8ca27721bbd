/*
 * denet-tui, family "signals": signals sent to or from the tree, and taken by it, as events.
 *
 *   signal:signal_generate   a signal is sent (the sender's context): kept if the sender or
 *                            the target is in the tree (the other side may be outside it)
 *   signal:signal_deliver    a process of the tree takes a signal (its own context), with the
 *                            action it has for it
 *
 * A process that ends is no longer tracked, yet sends SIGCHLD to its parent while it ends:
 * that signal is its own (`signal_ending`), even when the parent is outside the tree.
 *
 * Events go through a ring buffer drained at each sample; a full buffer is counted
 * (DIAG_SIGNALS_LOST). The target is the task the signal was aimed at: a thread other than a
 * process's first one is named by its process, found by its tid in the sched family's table
 * of the tree's threads (without that family, user space asks the thread's /proc entry).
 */

BPF_RINGBUF_OUTPUT(signal_events, 256);    /* 1 MiB: ~11,000 signals between two samples */
/* tgid -> the process of the tree that is ending with it; the oldest go first. */
BPF_TABLE("lru_hash", u32, struct signal_ending, signal_ending, 4096);

static __always_inline void signals_process_exit(u32 tgid, u32 serial)
{
    struct signal_ending v = {.task = (u64)bpf_get_current_task(), .serial = serial};
    signal_ending.update(&tgid, &v);
}

static __always_inline u32 serial_of(u32 tgid)
{
    struct track_val *t = tracked_get(tgid);
    return t ? t->serial : 0;
}

/* A target that is a thread of the tree other than its process's first one: its process's
 * serial, and `*tgid` set to that process. */
static __always_inline u32 thread_serial_of(u32 *tgid)
{
#if FAMILY_SCHED
    u32 tid = *tgid;
    struct sched_thread *t = sched_threads.lookup(&tid);
    if (!t)
        return 0;
    u32 serial = t->serial;
    struct proc_info *info = procs.lookup(&serial);
    if (!info)
        return 0;
    *tgid = info->tgid;
    return serial;
#else
    return 0;
#endif
}

/* The sender's serial: tracked, or ending in this very task. */
static __always_inline u32 sender_serial_of(u32 tgid)
{
    u32 serial = serial_of(tgid);
    if (serial)
        return serial;
    struct signal_ending *x = signal_ending.lookup(&tgid);
    return x && x->task == (u64)bpf_get_current_task() ? x->serial : 0;
}

static __always_inline struct signal_event *signal_start(u32 kind, int sig)
{
    struct signal_event *e = signal_events.ringbuf_reserve(sizeof(struct signal_event));
    if (!e) {
        diag_inc(DIAG_SIGNALS_LOST);
        return 0;
    }
    e->ns = bpf_ktime_get_ns();
    e->kind = kind;
    e->sig = sig;
    e->handler = 0;
    e->result = 0;
    e->group = 0;
    return e;
}

TRACEPOINT_PROBE(signal, signal_generate)
{
    u32 sender = current_tgid();
    u32 target = args->pid;
    u32 sender_serial = sender_serial_of(sender);
    u32 target_serial = serial_of(target);
    if (!target_serial)
        target_serial = thread_serial_of(&target);
    if (!sender_serial && !target_serial)
        return 0;                           /* none of ours */
    struct signal_event *e = signal_start(SIGNAL_SENT, args->sig);
    if (!e)
        return 0;
    e->result = args->result;
    e->group = args->group;
    e->sender = sender;
    e->sender_serial = sender_serial;
    e->target = target;
    e->target_serial = target_serial;
    bpf_get_current_comm(e->sender_comm, sizeof(e->sender_comm));
    bpf_probe_read_kernel(e->target_comm, sizeof(e->target_comm), args->comm);
    signal_events.ringbuf_submit(e, 0);
    return 0;
}

TRACEPOINT_PROBE(signal, signal_deliver)
{
    u32 me = current_tgid();
    u32 serial = serial_of(me);
    if (!serial)
        return 0;                           /* none of ours */
    struct signal_event *e = signal_start(SIGNAL_DELIVERED, args->sig);
    if (!e)
        return 0;
    e->handler = args->sa_handler;
    e->sender = 0;
    e->sender_serial = 0;
    e->target = me;
    e->target_serial = serial;
    __builtin_memset(e->sender_comm, 0, sizeof(e->sender_comm));
    bpf_get_current_comm(e->target_comm, sizeof(e->target_comm));
    signal_events.ringbuf_submit(e, 0);
    return 0;
}
