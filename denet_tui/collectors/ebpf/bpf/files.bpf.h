/*
 * denet-tui, family "files": types. The files the tree opened, removed, created, renamed or
 * truncated, per process and path, counted in the kernel (one entry per process, path and kind
 * of call, however many calls).
 *
 *   FILE_PATH        bytes kept of a path (a longer one is cut, and its entry says so)
 *   MAX_FILE_KEYS    (process, path) entries kept at once
 */

struct file_key {
    u32 serial;                     /* the process */
    u32 op;                         /* FILE_OP_* */
    char path[FILE_PATH];           /* as passed, NUL-padded */
};
#define FILE_OP_OPEN 0              /* open, openat, openat2, creat */
#define FILE_OP_UNLINK 1            /* unlink, unlinkat */
#define FILE_OP_RMDIR 2             /* rmdir, unlinkat(AT_REMOVEDIR) */
#define FILE_OP_MKDIR 3             /* mkdir, mkdirat */
#define FILE_OP_RENAME_FROM 4       /* rename, renameat, renameat2: the old name */
#define FILE_OP_RENAME_TO 5         /* ... and the new one (counted under both) */
#define FILE_OP_TRUNCATE 6          /* truncate (by path; ftruncate has none) */

struct file_val {
    u64 calls;
    u64 failures;
    u64 first_ns;                   /* bpf_ktime_get_ns() of the first call */
    u64 last_ns;
    u32 last_errno;                 /* of the last failure */
    u32 modes;                      /* FILE_MODE_* of every call, or-ed */
};
#define FILE_MODE_READ 1
#define FILE_MODE_WRITE 2
#define FILE_MODE_CREATE 4
#define FILE_MODE_CUT 8             /* the path was longer than FILE_PATH - 1 bytes */

/* A call in progress: its arguments, saved at entry and read at exit (the path's page may not
 * be in memory yet at entry), in the thread's own task storage (tree.bpf.h's task_state). */
struct file_arg {
    u64 path;                       /* user address; 0: no call in progress */
    u64 path2;                      /* a rename's new name */
    u32 flags;                      /* open flags */
    u32 op;
};
#define FILES_THREAD_STATE struct file_arg fa;
