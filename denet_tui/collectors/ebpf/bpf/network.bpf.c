/*
 * denet-tui, family "network": every byte the tree's processes send and receive through a
 * socket, per process, by direction and kind of socket (unix, TCP, UDP, other).
 *
 *   sock:sock_send_length   a send on a socket (sendmsg and write alike), in the caller's
 *   sock:sock_recv_length   context: its result (bytes, or an error) and flags; a receive
 *                           with MSG_PEEK moved nothing and counts as a call only
 *
 * The figures are kept per process (`net_procs`, by serial) and read at each sample; an entry
 * stays until user space forgets the process. A full map loses the call: counted
 * (DIAG_NET_FULL), never silent.
 */

#define MSG_PEEK 2
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

BPF_F_TABLE("hash", u32, struct net_val, net_procs, MAX_PROCS, BPF_F_NO_PREALLOC);

static __always_inline void net_count(int dir, u16 family, u16 protocol, int ret, int flags)
{
    struct task_state *s = thread_state(bpf_get_current_task_btf());
    if (!s || (s->flags & TRK_WAIT_EXEC))
        return;                             /* not ours, or run mode's launcher */
    u32 cls = NET_OTHER;
    if (family == AF_UNIX)
        cls = NET_UNIX;
    else if (family == AF_INET || family == AF_INET6)
        cls = protocol == 6 ? NET_TCP : protocol == 17 || protocol == 136 ? NET_UDP : NET_OTHER;
    struct net_val zero = {};
    struct net_val *v = net_procs.lookup_or_try_init(&s->serial, &zero);
    if (!v) {
        diag_inc(DIAG_NET_FULL);
        return;
    }
    __sync_fetch_and_add(&v->v[NET_CALLS(dir & 1, cls & 3)], 1);
    if (ret > 0 && !(flags & MSG_PEEK))
        __sync_fetch_and_add(&v->v[NET_BYTES(dir & 1, cls & 3)], ret);
}

TRACEPOINT_PROBE(sock, sock_recv_length)
{
    net_count(0, args->family, args->protocol, args->ret, args->flags);
    return 0;
}

TRACEPOINT_PROBE(sock, sock_send_length)
{
    net_count(1, args->family, args->protocol, args->ret, 0);
    return 0;
}
