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
#define CONN_UNKNOWN 0              /* in use before we saw how it began */
#define CONN_CONNECT 1
#define CONN_ACCEPT 2
#define CONN_LISTEN 3
