/*
 * denet-tui, family "memory": types. Resident memory of each process, and of the tree.
 *
 *   TASK_MM          byte offset of task_struct.mm
 *   MM_RSS_STAT      byte offset of mm_struct.rss_stat (struct percpu_counter[NR_MM_COUNTERS])
 *   PCPU_COUNT       byte offset of percpu_counter.count
 *   PCPU_SIZE        sizeof(struct percpu_counter)
 *   PAGE_BYTES       the page size
 *                    (offsets and sizes from the running kernel's BTF)
 */

/* One process's memory: in `mem_live` by tgid while it runs, in `mem_ended` by serial after. */
struct mem_proc {
    u64 mm;                         /* the address space its figures are of (0: none read yet) */
    s64 member[3];                  /* bytes: file, anon and shmem pages, as last known */
    s64 rss;                        /* their sum */
    s64 peak;                       /* the largest rss of this address space seen */
    u32 mm_id;                      /* rss_stat's name of `mm` (0: not seen yet) */
    u32 serial;
};

/* `tree_mem` slots: the tree's resident memory, summed over its processes. */
#define MEM_SUM 0                   /* the sum now, of the processes the kernel updated */
#define MEM_SUM_PEAK 1              /* the largest the whole sum has been */
#define MEM_SEEDED 2                /* user space's part: what seeded processes had at seeding */
