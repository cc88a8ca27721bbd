/*
 * denet-tui, family "network": every byte the tree's processes send and receive through a
 * socket, per process, by direction and kind of socket (unix, TCP, UDP, other).
 *
 *   sock:sock_send_length   a send on a socket (sendmsg and write alike), in the caller's
 *   sock:sock_recv_length   context: its result (bytes, or an error) and flags; a receive
 *                           with MSG_PEEK moved nothing and counts as a call only
 *
 *   sock:inet_sock_set_state   a TCP socket changes state (its addresses and ports are in
 *                           the event): a socket of the tree is updated; a connect or listen
 *                           by a process of the tree (process context) makes it the tree's;
 *                           any other is remembered (`sk_seen`, machine-wide, the newest
 *                           kept): several changes run in softirq, where `current` is anyone,
 *                           so a socket becomes the tree's when a process of the tree first
 *                           sends or receives through it (an accepted connection)
 *
 * The figures are kept per process (`net_procs`, by serial) and per open TCP socket of the
 * tree (`conns`), read at each sample; a process's entry stays until user space forgets it; a
 * closed socket's (data still queued is read after TCP_CLOSE) until user space saw it quiet,
 * or a new socket takes its address (then it goes to user space through a ring buffer). A
 * full map loses the call or the socket (DIAG_NET_FULL), a full ring buffer a closed socket
 * (DIAG_CONNS_LOST): never silent.
 */

#define MSG_PEEK 2
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
#define TCP_LISTEN 10

BPF_F_TABLE("hash", u32, struct net_val, net_procs, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_F_TABLE("hash", u64, struct conn, conns, MAX_CONNS, BPF_F_NO_PREALLOC);
BPF_TABLE("lru_hash", u64, struct conn, sk_seen, 8192);
/* A socket of the tree that closed, with its final figures, when a new socket takes its
 * address before user space took it out: 256 KiB, ~2,900 between two samples. */
BPF_RINGBUF_OUTPUT(conn_closed, 64);

/* The tree's entry of TCP socket `sk`, made at its first use by a process of the tree. */
static __always_inline struct conn *conn_used(u64 sk, struct task_state *s)
{
    struct conn *c = conns.lookup(&sk);
    if (c) {
        c->serial = s->serial;
        c->tgid = current_tgid();
        return c;
    }
    struct conn *seen = sk_seen.lookup(&sk);
    struct conn fresh = {};
    if (seen) {
        fresh = *seen;
        sk_seen.delete(&sk);
    } else {
        fresh.start_ns = bpf_ktime_get_ns();  /* in use before we saw it begin */
    }
    fresh.serial = s->serial;
    fresh.tgid = current_tgid();
    if (conns.insert(&sk, &fresh)) {
        diag_inc(DIAG_NET_FULL);
        return 0;
    }
    return conns.lookup(&sk);
}

static __always_inline void net_count(int dir, u64 sk, u16 family, u16 protocol, int ret,
                                      int flags)
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
    if (ret <= 0 || (flags & MSG_PEEK))
        return;
    __sync_fetch_and_add(&v->v[NET_BYTES(dir & 1, cls & 3)], ret);
    if (cls != NET_TCP)
        return;
    struct conn *c = conn_used(sk, s);
    if (c) {
        if (dir)
            __sync_fetch_and_add(&c->tx_bytes, ret);
        else
            __sync_fetch_and_add(&c->rx_bytes, ret);
    }
}

TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
    if (args->protocol != 6)
        return 0;                           /* TCP only */
    u64 sk = (u64)args->skaddr;
    u32 now_state = args->newstate;
    struct conn *c = conns.lookup(&sk);
    if (c && c->end_ns) {
        /* A new socket at the address of one of the tree's that closed: that one goes out
         * with its final figures first. */
        struct conn *e = conn_closed.ringbuf_reserve(sizeof(struct conn));
        if (e) {
            __builtin_memcpy(e, c, sizeof(*e));
            conn_closed.ringbuf_submit(e, 0);
        } else {
            diag_inc(DIAG_CONNS_LOST);
        }
        conns.delete(&sk);
        c = 0;
    }
    struct conn fresh = {};
    if (!c) {
        c = sk_seen.lookup(&sk);
        if (!c) {
            /* A connect or listen by a process of the tree: its socket from the start. */
            struct task_state *s = 0;
            if (now_state == TCP_SYN_SENT || now_state == TCP_LISTEN)
                s = thread_state(bpf_get_current_task_btf());
            fresh.start_ns = bpf_ktime_get_ns();
            if (s && !(s->flags & TRK_WAIT_EXEC)) {
                fresh.serial = s->serial;
                fresh.tgid = current_tgid();
                if (conns.insert(&sk, &fresh))
                    diag_inc(DIAG_NET_FULL);
                c = conns.lookup(&sk);
            } else {
                sk_seen.update(&sk, &fresh);
                c = sk_seen.lookup(&sk);
            }
            if (!c)
                return 0;
        }
    }
    c->state = now_state;
    if (now_state == TCP_SYN_SENT)
        c->dir = CONN_CONNECT;
    else if (now_state == TCP_SYN_RECV && c->dir == CONN_UNKNOWN)
        c->dir = CONN_ACCEPT;
    else if (now_state == TCP_LISTEN)
        c->dir = CONN_LISTEN;
    c->sport = args->sport;
    c->dport = args->dport;
    c->family = args->family;
    if (args->family == AF_INET) {
        __builtin_memcpy(c->saddr, args->saddr, 4);
        __builtin_memcpy(c->daddr, args->daddr, 4);
    } else {
        __builtin_memcpy(c->saddr, args->saddr_v6, 16);
        __builtin_memcpy(c->daddr, args->daddr_v6, 16);
    }
    if (now_state == TCP_CLOSE) {
        if (c->serial)
            c->end_ns = bpf_ktime_get_ns(); /* (data still queued may be read after this) */
        else
            sk_seen.delete(&sk);
    }
    return 0;
}

TRACEPOINT_PROBE(sock, sock_recv_length)
{
    net_count(0, (u64)args->sk, args->family, args->protocol, args->ret, args->flags);
    return 0;
}

TRACEPOINT_PROBE(sock, sock_send_length)
{
    net_count(1, (u64)args->sk, args->family, args->protocol, args->ret, 0);
    return 0;
}
