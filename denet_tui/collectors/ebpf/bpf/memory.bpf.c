/*
 * denet-tui, family "memory": each process's resident memory, its peak, and its page faults.
 *
 *   kmem:rss_stat            a process's resident memory changed (one member: file, anon,
 *                            swap entries or shmem), in its own context when `curr`
 *   perf software events     PAGE_FAULTS_MIN and PAGE_FAULTS_MAJ, one program run per fault
 *                            (attached by user space, on every CPU)
 *   sched_process_exit       (in tree.bpf.h) a process ends: its memory leaves the tree's sum
 *
 * At each change the program reads the three resident members of the process's own counters
 * (mm->rss_stat: what VmRSS and VmHWM are made of), so one event is enough to know the whole:
 * a forked child starts with a copy of its parent's counters, made in the parent's context.
 * The peak is per address space: an exec starts a new one (the kernel's VmHWM does the same).
 * The tree's sum is kept here too, at each change, so its peak is exact, not sampled. Changes
 * made from another context (reclaim, the teardown after exit) are not seen: a process's next
 * own change, or its exit, puts its figures right.
 */

BPF_F_TABLE("hash", u32, struct mem_proc, mem_procs, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_ARRAY(tree_mem, s64, 3);

/* *p = max(*p, v), with other CPUs updating it too. */
static __always_inline void atomic_max(s64 *p, s64 v)
{
    for (int i = 0; i < 8; i++) {
        s64 seen = *p;
        if (v <= seen)
            return;
        if (__sync_val_compare_and_swap(p, seen, v) == seen)
            return;
    }
}

/* The current process, if it is ours and past run mode's gate (before its exec, the gated
 * child is a copy of denet-tui: its memory is not the command's). */
static __always_inline struct track_val *mem_tracked(void)
{
    u32 tgid = current_tgid();
    struct track_val *t = tracked.lookup(&tgid);
    if (!t || (t->flags & TRK_WAIT_EXEC))
        return 0;
    return t;
}

static __always_inline struct mem_proc *mem_entry(u32 serial)
{
    struct mem_proc *e = mem_procs.lookup(&serial);
    if (e)
        return e;
    struct mem_proc none = {};
    mem_procs.insert(&serial, &none);       /* another thread may have been first: fine */
    e = mem_procs.lookup(&serial);
    if (!e)
        diag_inc(DIAG_MEM_FULL);
    return e;
}

static __always_inline u64 current_mm(void)
{
    u64 mm = 0;
    bpf_probe_read_kernel(&mm, sizeof(mm), (void *)bpf_get_current_task() + TASK_MM);
    return mm;
}

/* The process's resident memory now, from its address space's own counters. */
static __always_inline void mem_update(struct mem_proc *e, u64 mm)
{
    if (e->exited)
        return;
    s64 raw[(3 * PCPU_SIZE + PCPU_COUNT) / 8 + 1];
    if (bpf_probe_read_kernel(raw, sizeof(raw), (void *)mm + MM_RSS_STAT))
        return;
    s64 pages = 0;
    s64 file = raw[PCPU_COUNT / 8];                         /* MM_FILEPAGES */
    s64 anon = raw[(PCPU_SIZE + PCPU_COUNT) / 8];           /* MM_ANONPAGES */
    s64 shmem = raw[(3 * PCPU_SIZE + PCPU_COUNT) / 8];      /* MM_SHMEMPAGES */
    /* As the kernel reads them (percpu_counter_read_positive): never below 0. */
    pages += file > 0 ? file : 0;
    pages += anon > 0 ? anon : 0;
    pages += shmem > 0 ? shmem : 0;
    s64 rss = pages * PAGE_BYTES;
    if (e->mm != mm) {
        e->mm = mm;                         /* a new address space: an exec */
        e->peak = 0;
    }
    s64 old = __sync_lock_test_and_set(&e->rss, rss);
    atomic_max(&e->peak, rss);
    int i_sum = MEM_SUM, i_peak = MEM_SUM_PEAK, i_seeded = MEM_SEEDED;
    s64 *sum = tree_mem.lookup(&i_sum);
    s64 *peak = tree_mem.lookup(&i_peak);
    s64 *seeded = tree_mem.lookup(&i_seeded);
    if (!sum || !peak || !seeded)
        return;
    atomic_max(peak, __sync_add_and_fetch(sum, rss - old) + *seeded);
}

TRACEPOINT_PROBE(kmem, rss_stat)
{
    if (!args->curr)
        return 0;                           /* another address space than the caller's */
    struct track_val *t = mem_tracked();
    if (!t)
        return 0;
    struct mem_proc *e = mem_entry(t->serial);
    u64 mm = current_mm();
    if (e && mm)
        mem_update(e, mm);
    return 0;
}

/* A page fault of the current task (perf software event, after the fault was handled). A
 * forked child's faults may change none of its counters (copy-on-write of anonymous pages):
 * the first one on an address space also reads its memory. */
static __always_inline void mem_fault(int major)
{
    struct track_val *t = mem_tracked();
    if (!t)
        return;
    struct mem_proc *e = mem_entry(t->serial);
    if (!e)
        return;
    if (major)
        __sync_fetch_and_add(&e->major, 1);
    else
        __sync_fetch_and_add(&e->minor, 1);
    u64 mm = current_mm();
    if (mm && e->mm != mm)
        mem_update(e, mm);
}

int memory_minor_fault(struct bpf_perf_event_data *ctx)
{
    mem_fault(0);
    return 0;
}

int memory_major_fault(struct bpf_perf_event_data *ctx)
{
    mem_fault(1);
    return 0;
}

/* The process ended (its last thread, after it let go of its memory): out of the sum. */
static __always_inline void memory_process_exit(u32 serial)
{
    struct mem_proc *e = mem_procs.lookup(&serial);
    if (!e)
        return;
    e->exited = 1;
    s64 old = __sync_lock_test_and_set(&e->rss, 0);
    int i_sum = MEM_SUM;
    s64 *sum = tree_mem.lookup(&i_sum);
    if (sum)
        __sync_fetch_and_add(sum, -old);
}
