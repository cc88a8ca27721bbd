/*
 * denet-tui, family "disk": the block I/O the tree causes, per device and per process.
 *
 *   block:block_io_start   a request starts (its I/O accounting begins), in the context that
 *                          submits it: a process of the tree (attributed to it), or a kernel
 *                          thread (writeback and the like: the device's "not attributable"
 *                          figures; the pages may be anyone's); other processes' are skipped
 *   block:block_io_done    it ends (interrupt context): its latency into the device's
 *                          histogram; matched to its start by (device, kind, sector)
 *   block:block_rq_merge   it was merged into another request before it was sent: it ends
 *                          with that one (counted apart: ops = done + merged + in flight)
 *
 * A kernel thread is told by its task's PF_KTHREAD flag, at the offset the kernel's BTF gives
 * (TASK_FLAGS). A full table loses a request: counted (DIAG_DISK_FULL), never silent.
 */

#define PF_KTHREAD 0x00200000

BPF_F_TABLE("hash", struct disk_req_key, struct disk_req, disk_inflight, MAX_INFLIGHT,
            BPF_F_NO_PREALLOC);
BPF_F_TABLE("hash", struct disk_dev_key, struct disk_dev_val, disk_devs, 1024,
            BPF_F_NO_PREALLOC);
BPF_F_TABLE("hash", u32, struct disk_proc_val, disk_procs, MAX_PROCS, BPF_F_NO_PREALLOC);

/* R, W, or other, from the request's rwbs text ("R", "WS", "FWS", "D", "N", …). */
static __always_inline u32 disk_rw(const char *rwbs)
{
    char c0 = rwbs[0], c1 = rwbs[1];
    if (c0 == 'F')
        c0 = c1;                            /* a preflush before the data */
    return c0 == 'R' ? DISK_READ : c0 == 'W' ? DISK_WRITE : DISK_OTHER;
}

static __always_inline struct disk_dev_val *disk_dev(u32 dev, u32 who, u32 rw)
{
    struct disk_dev_key k = {.dev = dev, .who = who, .rw = rw};
    struct disk_dev_val zero = {};
    struct disk_dev_val *v = disk_devs.lookup_or_try_init(&k, &zero);
    if (!v)
        diag_inc(DIAG_DISK_FULL);
    return v;
}

TRACEPOINT_PROBE(block, block_io_start)
{
    u32 who = DISK_TREE;
    struct task_state *s = thread_state();
    if (!s || (s->flags & TRK_WAIT_EXEC)) {
        u32 flags = 0;
        bpf_probe_read_kernel(&flags, sizeof(flags), (void *)bpf_get_current_task() + TASK_FLAGS);
        if (!(flags & PF_KTHREAD))
            return 0;                       /* another process's: none of ours */
        who = DISK_WRITEBACK;
    }
    u32 rw = disk_rw(args->rwbs);
    u32 bytes = args->bytes;
    struct disk_dev_val *d = disk_dev(args->dev, who, rw);
    if (d) {
        __sync_fetch_and_add(&d->ops, 1);
        __sync_fetch_and_add(&d->bytes, bytes);
    }
    if (who == DISK_TREE && rw != DISK_OTHER) {
        struct disk_proc_val zero = {};
        struct disk_proc_val *p = disk_procs.lookup_or_try_init(&s->serial, &zero);
        if (!p)
            diag_inc(DIAG_DISK_FULL);
        else if (rw == DISK_READ) {
            __sync_fetch_and_add(&p->read_ops, 1);
            __sync_fetch_and_add(&p->read_bytes, bytes);
        } else {
            __sync_fetch_and_add(&p->write_ops, 1);
            __sync_fetch_and_add(&p->write_bytes, bytes);
        }
    }
    struct disk_req_key k = {.dev = args->dev, .rw = rw, .sector = args->sector};
    struct disk_req r = {.start_ns = bpf_ktime_get_ns(), .who = who, .rw = rw};
    if (disk_inflight.update(&k, &r))
        diag_inc(DIAG_DISK_FULL);
    return 0;
}

/* A request merged into another one in the queue: it never ends by itself (its bytes end with
 * the other's). */
TRACEPOINT_PROBE(block, block_rq_merge)
{
    struct disk_req_key k = {.dev = args->dev, .rw = disk_rw(args->rwbs), .sector = args->sector};
    struct disk_req *r = disk_inflight.lookup(&k);
    if (!r)
        return 0;
    struct disk_dev_val *d = disk_dev(args->dev, r->who, r->rw);
    disk_inflight.delete(&k);
    if (d)
        __sync_fetch_and_add(&d->merged, 1);
    return 0;
}

TRACEPOINT_PROBE(block, block_io_done)
{
    struct disk_req_key k = {.dev = args->dev, .rw = disk_rw(args->rwbs), .sector = args->sector};
    struct disk_req *r = disk_inflight.lookup(&k);
    if (!r)
        return 0;                           /* none of ours, or started before we were */
    u64 lat = bpf_ktime_get_ns() - r->start_ns;
    struct disk_dev_val *d = disk_dev(args->dev, r->who, r->rw);
    disk_inflight.delete(&k);
    if (!d)
        return 0;
    __sync_fetch_and_add(&d->done, 1);
    __sync_fetch_and_add(&d->lat_ns, lat);
    u32 b = log2_bucket(lat, DISK_BUCKETS);
    if (b < DISK_BUCKETS)
        __sync_fetch_and_add(&d->hist[b], 1);
    return 0;
}
