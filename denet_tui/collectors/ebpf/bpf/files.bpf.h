/*
 * denet-tui, family "files": types. The files the tree opened, removed, created, renamed or
 * truncated, per path and kind of call, counted in the kernel: each (path, call, working
 * directory) gets an id the first time the tree uses it, and its figures (calls, failures, the
 * processes that made them: each counted once) are kept under that id however many processes
 * use it. User space reads only what changed; nothing of a process has to be deleted after it.
 *
 *   FILE_PATH        bytes kept of a path (a longer one is cut, and its name says so)
 *   FILE_SHORT       a path shorter than FILE_SHORT - 1 bytes is looked up in the short table
 *   MAX_FILE_IDS     (path, call, directory) ids, for the whole run (a power of two); calls on
 *                    paths beyond are counted as lost (DIAG_FILES_FULL)
 */

#define FILE_KEY(name, size)                                                                \
    struct name {                                                                           \
        u32 op;                     /* FILE_OP_*, | FILE_AT_DIRFD */                        \
        u32 cwd;                    /* a relative path's working directory (a `cwd_id`) */  \
        char path[size];            /* as passed, NUL-padded */                             \
    }
/* Two tables by the path's length: the key is hashed whole at every lookup, and most paths
 * are short (under FILE_SHORT - 1 bytes). */
FILE_KEY(file_key, FILE_PATH);
FILE_KEY(file_key_short, FILE_SHORT);
/* What a new id counts, for user space to name it by: a ring buffer record, as long as its
 * path (up to its NUL). */
struct file_name {
    u32 id;
    u32 op;
    u32 cwd;
    u32 cut;                        /* FILE_MODE_CUT: the path was longer than FILE_PATH - 1 */
    char path[FILE_PATH];
};
/* The ids a process used: a bit each, so that a path counts each process once. Dropped at the
 * process's exit, in the kernel. */
struct file_bits {
    u64 w[MAX_FILE_IDS / 64];
};
#define FILE_OP_OPEN 0              /* open, openat, openat2, creat */
#define FILE_OP_UNLINK 1            /* unlink, unlinkat */
#define FILE_OP_RMDIR 2             /* rmdir, unlinkat(AT_REMOVEDIR) */
#define FILE_OP_MKDIR 3             /* mkdir, mkdirat */
#define FILE_OP_RENAME_FROM 4       /* rename, renameat, renameat2: the old name */
#define FILE_OP_RENAME_TO 5         /* ... and the new one (counted under both) */
#define FILE_OP_TRUNCATE 6          /* truncate (by path; ftruncate has none) */
#define FILE_AT_DIRFD 0x100         /* relative to a directory fd, not to the working directory */
#define FILE_TAIL 0x200             /* a path longer than FILE_PATH - 1 bytes: its last ones */
#define PATH_STEPS 17               /* PATH_MAX (4,096 with its NUL) in FILE_PATH - 1 steps */

/* A process's working directory, named by an id that stands for one directory for as long as
 * it is the process's: a child inherits its parent's id; a chdir or fchdir gives a new one
 * (FILE_CWD_CHANGING while the call runs). User space learns an id's path from
 * /proc/PID/cwd of a live process that holds it; the id never has to be read from a process
 * that has ended. */
struct cwd_val {
    u32 id;
    u32 tgid;
};
#define FILE_CWD_CHANGING 0xffffffff

/* What a successful chdir named: its new directory is `path` under the one it left (or `path`
 * itself if absolute). Kept by the new id until user space reads it. */
struct cwd_name {
    u32 from;                       /* the id it left */
    u32 pad;
    char path[FILE_PATH];           /* as passed */
};
struct file_val {
    u64 calls;
    u64 failures;
    u64 processes;                  /* processes that made one at least */
    u64 first_ns;                   /* bpf_ktime_get_ns() of the first call */
    u64 last_ns;
    u32 last_errno;                 /* of the last failure */
    u32 modes;                      /* FILE_MODE_* of every call, or-ed */
    u32 last_serial;                /* the last process counted */
    u32 pad;
    u64 first_serial;               /* the process counted by its claim, not by a bit (64
                                     * bits: a 32-bit compare-and-swap needs alu32) */
};
#define FILE_MODE_READ 1
#define FILE_MODE_WRITE 2
#define FILE_MODE_CREATE 4
#define FILE_MODE_CUT 8             /* the path was longer than FILE_PATH - 1 bytes */
#define FILE_MODE_UNNAMED 16        /* its name was lost (ring buffer full): not shown */

/* A call in progress: its arguments, saved at entry and read at exit (the path's page may not
 * be in memory yet at entry), in the thread's own task storage (tree.bpf.h's task_state). */
struct file_arg {
    u64 path;                       /* user address; 0: no call in progress */
    u64 path2;                      /* a rename's new name */
    u32 flags;                      /* open flags */
    u32 op;
    s32 dfd;                        /* the directory fd of a relative path (AT_FDCWD: none) */
    s32 dfd2;                       /* ... of a rename's new name */
    u32 from_cwd;                   /* chdir, fchdir: the id of the directory it leaves */
    u32 pad;
};
#define FILES_THREAD_STATE struct file_arg fa;
