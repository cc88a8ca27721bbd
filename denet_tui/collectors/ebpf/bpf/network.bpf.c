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
 *
 * UDP: per endpoint pair (`udp_pairs`: a socket of a process of the tree, and a remote
 * endpoint), bytes each way. The remote is the socket's own peer when it is connected; else,
 * for a datagram sent, the address the syscall passed (sendto, sendmsg, sendmmsg: read from
 * the caller's memory at entry, `udp_tx_peer`, forgotten at exit); for one received, the
 * sender's address the kernel wrote out for the caller (recvfrom, recvmsg, recvmmsg: the
 * bytes wait in `udp_rx_wait` for the syscall's exit, where the address is read): one program
 * at the six calls' entries (`sys_enter_net`) and one at each side's exits (`sys_exit_send`,
 * `sys_exit_recv`), or the raw syscall programs' hand-over (tree.bpf.h). A datagram
 * whose remote none of these gave (read or recv on an unconnected socket: the program did not
 * ask) is counted under a remote "not seen". Entries stay until their process is forgotten.
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
/* The tree's listening sockets, by network namespace, port and family: a connection the kernel
 * accepts for one (in softirq, `current` anyone) is the tree's from its start, the listener's
 * process its owner until a process of the tree uses it. */
struct listen_key {
    u64 net;
    u16 port;
    u16 family;
    u32 pad;
};
BPF_HASH(listeners, struct listen_key, struct conn_owner, 1024);
/* A socket of the tree that closed, with its final figures, when a new socket takes its
 * address before user space took it out: 256 KiB, ~2,900 between two samples. */
BPF_RINGBUF_OUTPUT(conn_closed, 64);
BPF_F_TABLE("hash", struct udp_key, struct udp_val, udp_pairs, MAX_UDP_PAIRS, BPF_F_NO_PREALLOC);
BPF_TABLE("lru_hash", u32, struct udp_peer, udp_tx_peer, 4096);  /* by thread */
BPF_TABLE("lru_hash", u32, struct udp_rx, udp_rx_wait, 4096);

/* A thread of the tree (not run mode's launcher), or 0. */
static __always_inline struct task_state *net_thread(void)
{
    struct task_state *s = thread_state();
    return s && !(s->flags & TRK_WAIT_EXEC) ? s : 0;
}

/* The address in a sockaddr of the caller's memory (family 0: not an IP one). */
static __always_inline void peer_from_user(struct udp_peer *p, const void *sa)
{
    u16 family = 0;
    read_user(&family, sizeof(family), sa);
    if (family == AF_INET) {
        read_user(&p->port, 2, sa + 2);
        read_user(p->addr, 4, sa + 4);
    } else if (family == AF_INET6) {
        read_user(&p->port, 2, sa + 2);
        read_user(p->addr, 16, sa + 8);
    } else {
        family = 0;
    }
    p->family = family;
}

static __always_inline void tx_peer_set(struct udp_peer *p)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    udp_tx_peer.update(&tid, p);
}

/* A send to the address `name` (a sockaddr in the caller's memory; 0: none passed). */
static __always_inline void tx_to(const void *name)
{
    if (!name)
        return;
    struct udp_peer p = {};
    peer_from_user(&p, name);
    tx_peer_set(&p);
}

/* Only the tree's threads have an entry: no need to ask whose this one is (without the raw
 * programs' hand-over, every send of the machine comes here). */
static __always_inline void tx_peer_clear(void)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    if (udp_tx_peer.lookup(&tid))
        udp_tx_peer.delete(&tid);
}

SHARED_EXIT(sys_exit_send)               /* sendto, sendmsg, sendmmsg */
{
    tx_peer_clear();
    return 0;
}

static __always_inline void rx_wait(u64 where, u8 vector)
{
    if (!where)
        return;                             /* (a thread of the tree: sys_enter_net) */
    struct udp_rx w = {};
    w.where = where;
    w.vector = vector;
    u32 tid = (u32)bpf_get_current_pid_tgid();
    udp_rx_wait.update(&tid, &w);
}

/* A send or receive of the tree (sendto, sendmsg, sendmmsg, recvfrom, recvmsg, recvmmsg): the
 * peer's address it names, if any, for its exit (`sys_enter_net`, one program for all six). */
static __always_inline void net_call_entered(struct task_state *s, long nr, u64 a0, u64 a1,
                                             u64 a2, u64 a3, u64 a4)
{
    u64 name = 0;
    if (nr == CALL_NR_SENDTO) {
        tx_to((const void *)a4);            /* its address: the fifth argument */
    } else if (nr == CALL_NR_SENDMSG) {
        if (a1) {
            read_user(&name, sizeof(name), (void *)a1);  /* msg_name: user_msghdr's first */
            tx_to((const void *)name);
        }
    } else if (nr == CALL_NR_SENDMMSG) {
        if (a1) {
            struct udp_peer p = {};
            p.mmsg = a1;
            tx_peer_set(&p);
        }
    } else if (nr == CALL_NR_RECVFROM) {
        rx_wait(a4, 0);
    } else if (nr == CALL_NR_RECVMSG) {
        if (a1)
            read_user(&name, sizeof(name), (void *)a1);  /* msg_name */
        rx_wait(name, 0);
    } else if (nr == CALL_NR_RECVMMSG) {
        rx_wait(a1, 1);
    }
}

SHARED_ENTER_OF_TREE(sys_enter_net, net_call_entered)

/* An IPv4 address written as IPv6 (::ffff:a.b.c.d) as the IPv4 one. */
static __always_inline void unmap_v4(u16 *family, u8 *addr)
{
    if (*family != AF_INET6 || addr[10] != 0xff || addr[11] != 0xff)
        return;
    for (int i = 0; i < 10; i++)
        if (addr[i])
            return;
    *family = AF_INET;
    __builtin_memcpy(addr, addr + 12, 4);
    __builtin_memset(addr + 4, 0, 12);
}

/* One of a socket's addresses: the IPv4 one at offset `v4`, or the IPv6 one at `v6`. */
static __always_inline void sock_addr(u8 *to, const void *sock, u16 family, int v4, int v6)
{
    if (family == AF_INET)
        bpf_probe_read_kernel(to, 4, sock + v4);
    else
        bpf_probe_read_kernel(to, 16, sock + v6);
}

/* `bytes` sent (dir 1) or received through UDP socket `sk` of `family`, to or from the remote
 * in `k` (family 0: not seen; then the socket's own peer, if it has one). */
static __always_inline void udp_add(struct udp_key *k, int dir, u64 sk, u16 family, u64 bytes,
                                    struct task_state *s)
{
    const void *sock = (const void *)sk;
    k->sk = sk;
    k->serial = s->serial;
    u16 lport = 0, dport = 0;
    bpf_probe_read_kernel(&lport, 2, sock + SKC_NUM);
    bpf_probe_read_kernel(&dport, 2, sock + SKC_DPORT);
    if (!k->family && dport) {
        k->family = family;
        k->rport = dport;
        sock_addr(k->raddr, sock, family, SKC_DADDR, SKC_V6_DADDR);
    }
    unmap_v4(&k->family, k->raddr);
    struct udp_val zero = {};
    struct udp_val *v = udp_pairs.lookup_or_try_init(k, &zero);
    if (!v) {
        diag_inc(DIAG_NET_FULL);
        return;
    }
    u64 now = bpf_ktime_get_ns();
    if (!v->first_ns) {
        v->first_ns = now;
        v->sent_first = dir;
        v->lfamily = family;
        sock_addr(v->laddr, sock, family, SKC_RCV_SADDR, SKC_V6_RCV_SADDR);
    }
    v->lport = lport;
    v->connected = dport != 0;
    v->tgid = current_tgid();
    v->last_ns = now;
    if (dir)
        __sync_fetch_and_add(&v->tx_bytes, bytes);
    else
        __sync_fetch_and_add(&v->rx_bytes, bytes);
}

static __always_inline void peer_key(struct udp_key *k, struct udp_peer *p)
{
    k->family = p->family;
    k->rport = p->port;
    __builtin_memcpy(k->raddr, p->addr, 16);
}

/* A datagram of `ret` bytes sent (dir 1) or received through UDP socket `sk`. */
static __always_inline void udp_count(int dir, u64 sk, u16 family, int ret, struct task_state *s)
{
    struct udp_key k = {};
    u32 tid = (u32)bpf_get_current_pid_tgid();
    if (!dir) {
        struct udp_rx *w = udp_rx_wait.lookup(&tid);
        if (w && (!w->sk || w->sk == sk)) {
            w->sk = sk;                     /* counted at the syscall's exit */
            w->family = family;
            w->bytes += ret;
            return;
        }
        udp_add(&k, 0, sk, family, ret, s);
        return;
    }
    struct udp_peer *q = udp_tx_peer.lookup(&tid);
    if (q && q->mmsg) {
        /* sendmmsg: each message is sent (and traced) in order. */
        const void *name = 0;
        read_user(&name, sizeof(name), (const void *)(q->mmsg + (u64)q->index * MMSGHDR_SIZE));
        q->index++;
        if (name) {
            struct udp_peer p = {};
            peer_from_user(&p, name);
            peer_key(&k, &p);
        }
    } else if (q) {
        peer_key(&k, q);
    }
    udp_add(&k, 1, sk, family, ret, s);
}

/* The end of a receive that asked for the sender's address: its datagrams counted under it. */
static __always_inline void rx_done(long ret)
{
    u32 tid = (u32)bpf_get_current_pid_tgid();
    struct udp_rx *w = udp_rx_wait.lookup(&tid);  /* (only the tree's threads have one) */
    if (!w)
        return;
    struct udp_rx got = *w;
    udp_rx_wait.delete(&tid);
    struct task_state *s = net_thread();
    if (!s || !got.sk || !got.bytes)
        return;
    struct udp_key k = {};
    struct udp_peer p = {};
    if (!got.vector) {
        if (ret > 0)
            peer_from_user(&p, (const void *)got.where);
        peer_key(&k, &p);
        udp_add(&k, 0, got.sk, got.family, got.bytes, s);
        return;
    }
    /* recvmmsg: `ret` messages, each with its address and length in the vector. */
    u64 left = got.bytes;
    /* (not unrolled: udp_add inlined once, not RECVMMSG_SEEN times; the verifier walks it) */
#pragma clang loop unroll(disable)
    for (int i = 0; i < RECVMMSG_SEEN; i++) {
        if (i >= ret || !left)
            break;
        const void *m = (const void *)(got.where + (u64)i * MMSGHDR_SIZE);
        const void *name = 0;
        u32 len = 0;
        read_user(&name, sizeof(name), m);
        read_user(&len, sizeof(len), m + MMSG_LEN);
        if (len > left)
            len = left;
        struct udp_peer one = {};
        if (name)
            peer_from_user(&one, name);
        struct udp_key mk = {};
        peer_key(&mk, &one);
        udp_add(&mk, 0, got.sk, got.family, len, s);
        left -= len;
    }
    if (left) {                             /* beyond the messages looked at: not seen */
        struct udp_key rest = {};
        udp_add(&rest, 0, got.sk, got.family, left, s);
    }
}

SHARED_EXIT(sys_exit_recv)               /* recvfrom, recvmsg, recvmmsg */
{
    rx_done(args->ret);
    return 0;
}

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
    struct task_state *s = net_thread();
    if (!s)
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
    if (cls == NET_UDP && (family == AF_INET || family == AF_INET6))
        udp_count(dir, sk, family, ret, s);
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
    struct listen_key lk = {};
    bpf_probe_read_kernel(&lk.net, sizeof(lk.net), (const void *)sk + SKC_NET);
    lk.port = args->sport;
    lk.family = args->family;
    if (!c) {
        c = sk_seen.lookup(&sk);
        if (!c) {
            /* A connect or listen by a process of the tree: its socket from the start; one
             * accepted for a listener of the tree too. */
            struct task_state *s = 0;
            if (now_state == TCP_SYN_SENT || now_state == TCP_LISTEN)
                s = thread_state();
            struct conn_owner *l = 0;
            if (now_state == TCP_SYN_RECV)
                l = listeners.lookup(&lk);
            fresh.start_ns = bpf_ktime_get_ns();
            if ((s && !(s->flags & TRK_WAIT_EXEC)) || l) {
                fresh.serial = l ? l->serial : s->serial;
                fresh.tgid = l ? l->tgid : current_tgid();
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
    if (now_state == TCP_LISTEN && c->serial) {
        struct conn_owner o = {.serial = c->serial, .tgid = c->tgid};
        listeners.update(&lk, &o);
    }
    if (now_state == TCP_CLOSE) {
        if (c->dir == CONN_LISTEN)
            listeners.delete(&lk);
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
