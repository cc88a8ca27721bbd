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
