/*
 * denet-tui, family "memory": each process's resident memory and its peak, and the tree's sum.
 *
 *   kmem:rss_stat            a process's resident memory changed (one member: file, anon,
 *                            swap entries or shmem, its new size), in its own context when
 *                            `curr`: about one event per page mapped or unmapped
 *   sched_process_exit       (in tree.bpf.h) a process ends: its memory leaves the tree's sum
 *
 * An event gives one member's new size; on a new address space (an exec, or the first event
 * of a forked child, whose counters were copied from its parent's in the parent's context)
 * the program reads all of the process's own counters (mm->rss_stat, what VmRSS and VmHWM are
 * made of). The hot path reads no kernel memory. The peak is per address space, as VmHWM's
 * is. The tree's sum is kept here too, at each change, so its peak is exact, not sampled.
 * Changes made from another context (reclaim, the teardown after exit) are not seen: the
 * process's next own change of that member, or its exit, puts its figures right. A forked
 * child that maps no page of its own (copy-on-write faults change no counter) is not in the
 * sum. (Page faults are counted by the sched family, from each task's own counters.)
 */

/* Keyed by tgid, so the hot path's one lookup both says "ours" and finds the entry. */
BPF_F_TABLE("hash", u32, struct mem_proc, mem_live, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_F_TABLE("hash", u32, struct mem_proc, mem_ended, MAX_PROCS, BPF_F_NO_PREALLOC);
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

/* The current process's entry. Made on its first change if it is ours and past run mode's
 * gate (before its exec, the gated child is a copy of denet-tui: its memory is not the
 * command's); 0 for any other process (one hash lookup). */
static __always_inline struct mem_proc *mem_entry(void)
{
    u32 tgid = current_tgid();
    struct mem_proc *e = mem_live.lookup(&tgid);
    if (e)
        return e;
    struct track_val *t = tracked_get(tgid);
    if (!t || (t->flags & (TRK_WAIT_EXEC | TRK_WAIT_MM)))
        return 0;
    struct mem_proc none = {.serial = t->serial};
    mem_live.insert(&tgid, &none);          /* another thread may have been first: fine */
    e = mem_live.lookup(&tgid);
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

/* Its rss is now the sum of its members: keep its peak and the tree's sum. */
static __always_inline void mem_apply(struct mem_proc *e)
{
    s64 rss = e->member[0] + e->member[1] + e->member[2];
    s64 old = __sync_lock_test_and_set(&e->rss, rss);  /* threads may race: the sum must not */
    if (rss == old)
        return;
    if (rss > e->peak)
        e->peak = rss;
    int i_sum = MEM_SUM, i_peak = MEM_SUM_PEAK, i_seeded = MEM_SEEDED;
    s64 *sum = tree_mem.lookup(&i_sum);
    s64 *peak = tree_mem.lookup(&i_peak);
    s64 *seeded = tree_mem.lookup(&i_seeded);
    if (!sum || !peak || !seeded)
        return;
    atomic_max(peak, __sync_add_and_fetch(sum, rss - old) + *seeded);
}

/* A new address space (an exec), or the first sight of one: read all of its counters (one
 * event tells one member), as the kernel does for VmRSS; its peak starts here. */
static __always_inline void mem_read_all(struct mem_proc *e, u64 mm)
{
    s64 raw[(3 * PCPU_SIZE + PCPU_COUNT) / 8 + 1];
    if (bpf_probe_read_kernel(raw, sizeof(raw), (void *)mm + MM_RSS_STAT))
        return;
    s64 file = raw[PCPU_COUNT / 8];                         /* MM_FILEPAGES */
    s64 anon = raw[(PCPU_SIZE + PCPU_COUNT) / 8];           /* MM_ANONPAGES */
    s64 shmem = raw[(3 * PCPU_SIZE + PCPU_COUNT) / 8];      /* MM_SHMEMPAGES */
    /* Never below 0, as the kernel reads them. */
    e->member[0] = file > 0 ? file * PAGE_BYTES : 0;
    e->member[1] = anon > 0 ? anon * PAGE_BYTES : 0;
    e->member[2] = shmem > 0 ? shmem * PAGE_BYTES : 0;
    e->mm = mm;
    e->peak = 0;
    mem_apply(e);
}

/* One member changed to `size` bytes (rss_stat gives the exact sum over CPUs). The hot path:
 * no read of kernel memory while the address space stays the same. */
TRACEPOINT_PROBE(kmem, rss_stat)
{
    int member = args->member;
    if (!args->curr || member < 0 || member == 2 || member > 3)
        return 0;                           /* another address space; swap entries */
    struct mem_proc *e = mem_entry();
    if (!e)
        return 0;
    if (e->mm_id != args->mm_id) {
        u64 mm = current_mm();
        if (!mm)
            return 0;
        if (e->mm != mm)
            mem_read_all(e, mm);            /* a new address space */
        e->mm_id = args->mm_id;
    }
    if (member == 0)
        e->member[0] = args->size;          /* MM_FILEPAGES */
    else if (member == 1)
        e->member[1] = args->size;          /* MM_ANONPAGES */
    else
        e->member[2] = args->size;          /* MM_SHMEMPAGES */
    mem_apply(e);
    return 0;
}

/* The process ended (its last thread, after it let go of its memory): out of the sum, and
 * its figures kept by serial until user space has read them. */
static __always_inline void memory_process_exit(u32 serial)
{
    u32 tgid = current_tgid();
    struct mem_proc *e = mem_live.lookup(&tgid);
    if (!e)
        return;
    s64 old = __sync_lock_test_and_set(&e->rss, 0);
    int i_sum = MEM_SUM;
    s64 *sum = tree_mem.lookup(&i_sum);
    if (sum)
        __sync_fetch_and_add(sum, -old);
    if (mem_ended.update(&serial, e))
        diag_inc(DIAG_MEM_FULL);
    mem_live.delete(&tgid);
}
