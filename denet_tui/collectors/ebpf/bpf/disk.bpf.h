/*
 * denet-tui, family "disk": types. Block I/O requests of the tree, and the kernel's writeback,
 * per device: requests, bytes and a log2 latency histogram; per process: requests and bytes.
 *
 *   DISK_BUCKETS     log2 latency buckets (ns): the last holds that long or longer
 *   MAX_INFLIGHT     requests followed between their start and their end
 */

#define DISK_READ 0
#define DISK_WRITE 1
#define DISK_OTHER 2                /* discard, flush alone, … */
#define DISK_TREE 0                 /* issued in the context of a process of the tree */
#define DISK_WRITEBACK 1            /* issued by a kernel thread: not attributable */

/* A request in flight, by device, first sector and kind: a discard of freed blocks (the
 * journal's, a kernel thread's) can be in flight at the sectors a new write reuses. */
struct disk_req_key {
    u32 dev;
    u32 rw;                         /* DISK_READ, DISK_WRITE, DISK_OTHER */
    u64 sector;
};

struct disk_req {
    u64 start_ns;
    u32 who;                        /* DISK_TREE or DISK_WRITEBACK */
    u32 rw;                         /* DISK_READ, DISK_WRITE, DISK_OTHER */
};

struct disk_dev_key {
    u32 dev;
    u32 who;
    u32 rw;
    u32 pad;
};

struct disk_dev_val {
    u64 ops;                        /* requests started */
    u64 bytes;
    u64 done;                       /* requests ended (the histogram's count) */
    u64 lat_ns;                     /* their summed latency */
    u64 merged;                     /* requests merged into another before they were sent */
    u64 hist[DISK_BUCKETS];
};

/* A process's requests: reads and writes, requests and bytes. */
struct disk_proc_val {
    u64 read_ops;
    u64 read_bytes;
    u64 write_ops;
    u64 write_bytes;
};
