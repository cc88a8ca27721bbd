/*
 * denet-tui, family "exec": types. Every exec of the tree, as an event: the path it asked for,
 * its arguments, and its result.
 *
 *   EXEC_PATH        bytes kept of the path (a longer one is cut: `flags` says so)
 */

/* One exec, in `exec_events` (a ring buffer), in the order the kernel saw them. */
struct exec_event {
    u64 ns;                         /* bpf_ktime_get_ns() when it succeeded or failed */
    u32 serial;                     /* the process's serial (procs) */
    u32 pid;                        /* tgid */
    u32 ppid;                       /* tgid of the process that created it */
    s32 ret;                        /* 0, or -errno */
    u32 flags;                      /* EXEC_* */
    u32 pad;
    char comm[TASK_COMM_LEN];       /* its name after (success) or still (failure) */
    char path[EXEC_PATH];
    /* struct exec_argv (tree.bpf.h), spelled out: this header comes first */
    u32 argc;
    u32 len;
    u32 argv_flags;                 /* ARGV_* */
    u32 argv_pad;
    char buf[2 * ARGV_BYTES];
};
#define EXEC_PATH_CUT 1             /* the path was longer than EXEC_PATH - 1 bytes */
#define EXEC_PATH_FAULT 2           /* the path could not be read */
