/*
 * denet-tui, family "memory": types. Resident memory and page faults of each process.
 *
 *   TASK_MM          byte offset of task_struct.mm
 *   MM_RSS_STAT      byte offset of mm_struct.rss_stat (struct percpu_counter[NR_MM_COUNTERS])
 *   PCPU_COUNT       byte offset of percpu_counter.count
 *   PCPU_SIZE        sizeof(struct percpu_counter)
 *   PAGE_BYTES       the page size
 *                    (offsets and sizes from the running kernel's BTF)
 */

/* `mem_procs`: serial -> one process's memory. */
struct mem_proc {
    u64 mm;                         /* the address space its rss and peak are of (0: none yet) */
    s64 rss;                        /* bytes resident (file + anon + shmem) at its last change */
    s64 peak;                       /* the largest rss of this address space seen */
    u64 minor;                      /* page faults since it is followed */
    u64 major;
    u32 exited;                     /* its process has ended: its rss left the tree's sum */
    u32 pad;
};

/* `tree_mem` slots: the tree's resident memory, summed over its processes. */
#define MEM_SUM 0                   /* the sum now, of the processes the kernel updated */
#define MEM_SUM_PEAK 1              /* the largest the whole sum has been */
#define MEM_SEEDED 2                /* user space's part: what seeded processes had at seeding */
