/*
 * denet-tui, family "network": types. Each process's socket traffic, by direction and kind of
 * socket, counted in the kernel.
 */

#define NET_CLASSES 4                /* NET_UNIX, NET_TCP, NET_UDP, NET_OTHER */
#define NET_UNIX 0
#define NET_TCP 1
#define NET_UDP 2
#define NET_OTHER 3

/* One process's figures since it joined the tree, flat (BCC's Python view of a map's value
 * flattens arrays of arrays wrongly): NET_BYTES(dir, class) and NET_CALLS(dir, class), dir 0
 * received, 1 sent; calls count every call, failed or not. */
struct net_val {
    u64 v[4 * NET_CLASSES];
};
#define NET_BYTES(dir, cls) ((dir) * NET_CLASSES + (cls))
#define NET_CALLS(dir, cls) ((2 + (dir)) * NET_CLASSES + (cls))

/* A TCP socket: the tree's (in `conns`, by socket address) or, until a process of the tree
 * uses it, one the kernel changed the state of (`sk_seen`, the newest kept). */
struct conn {
    u64 start_ns;                   /* its first state change seen, or its first use */
    u64 end_ns;                     /* it reached TCP_CLOSE; 0: not yet */
    u64 rx_bytes;
    u64 tx_bytes;
    u32 serial;                     /* the process of the tree that used it last; 0: none */
    u32 tgid;
    u32 state;                      /* TCP_* (1 ESTABLISHED … 12 NEW_SYN_RECV) */
    u16 sport;
    u16 dport;
    u16 family;                     /* AF_INET, AF_INET6; 0: its addresses were never seen */
    u8 dir;                         /* CONN_* */
    u8 pad;
    u32 pad2;
    u8 saddr[16];                   /* IPv4: the first 4 bytes */
    u8 daddr[16];
};
struct conn_owner {
    u32 serial;
    u32 tgid;
};
#define CONN_UNKNOWN 0              /* in use before we saw how it began */
#define CONN_CONNECT 1
#define CONN_ACCEPT 2
#define CONN_LISTEN 3

/* A UDP endpoint pair of the tree: one socket of one process, and one remote endpoint. */
struct udp_key {
    u64 sk;
    u32 serial;
    u16 family;                     /* the remote's: AF_INET, AF_INET6; 0: not seen */
    u16 rport;                      /* network order */
    u8 raddr[16];
};
struct udp_val {
    u64 first_ns;
    u64 last_ns;
    u64 rx_bytes;
    u64 tx_bytes;
    u32 tgid;
    u16 lport;                      /* host order (the socket's own port) */
    u16 lfamily;                    /* the socket's */
    u8 sent_first;
    u8 connected;                   /* the socket had a peer of its own (connect) */
    u16 pad;
    u32 pad2;
    u8 laddr[16];
};

/* The remote endpoint of the datagram a thread of the tree is sending, from the syscall's own
 * address argument (user memory), read at its entry. */
struct udp_peer {
    u64 mmsg;                       /* sendmmsg: its vector; the next message's address there */
    u32 index;                      /* sendmmsg: the next message */
    u16 family;
    u16 port;                       /* network order */
    u8 addr[16];
};

/* A receive of a thread of the tree that asked for the sender's address: the datagrams'
 * bytes wait for the syscall's exit, where the kernel has written the address out. */
struct udp_rx {
    u64 where;                      /* recvfrom, recvmsg: the address buffer; recvmmsg: vector */
    u64 sk;                         /* the socket (0: no UDP datagram received yet) */
    u64 bytes;
    u16 family;                     /* the socket's */
    u8 vector;                      /* recvmmsg */
    u8 pad;
    u32 pad2;
};
