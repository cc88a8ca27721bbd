/*
 * denet-tui, family "privileges": types. Capability checks of the tree, counted in the kernel
 * per (process, capability, result); and each privileged call of the tree (uid/gid changes,
 * capset, ptrace, mount and namespace operations, chroot, bpf, memfd_create, seccomp, prctl)
 * as an event with its arguments and result.
 *
 *   PRIV_STR        bytes kept of a call's path or name argument (a longer one is cut)
 *   MAX_CAP_KEYS    (process, capability, result) entries kept between two samples
 *   PRIV_PRCTL      prctl's PRIV_* value (layout.PRIV_CALLS)
 */

#include <linux/capability.h>       /* capset's tracepoint arguments name its types */

struct cap_key {
    u32 tgid;
    u32 serial;
    u32 cap;                        /* CAP_* number */
    u32 denied;                     /* 0 granted, 1 denied */
    char comm[TASK_COMM_LEN];       /* the program checked (a process may exec several) */
};

struct cap_val {
    u64 count;
    u64 first_ns;
    u64 last_ns;
};

struct priv_event {
    u64 ns;                         /* bpf_ktime_get_ns() at the call's exit */
    u64 args[4];                    /* the call's integer arguments (PRIV_* says which) */
    s64 ret;
    u32 pid;                        /* tgid */
    u32 tid;
    u32 call;                       /* PRIV_* */
    u32 uid;                        /* real uid and gid after the call */
    u32 gid;
    u32 str_cut;                    /* the string argument was longer than PRIV_STR - 1 bytes */
    char comm[TASK_COMM_LEN];
    char str[PRIV_STR];             /* the call's path or name argument, if it has one */
};

/* A call in progress, kept from its entry to its exit in the thread's task storage. */
struct priv_arg {
    u64 args[4];
    u64 str;                        /* user address of its string argument; 0: none */
    u32 call;                       /* PRIV_* + 1; 0: no call in progress */
    u32 pad;
};
/* The thread's run of checks of one capability with one result by one program, counted in
 * its own task storage (no map operation: most checks repeat the one before); it goes to
 * `cap_stats` when a different check comes, or the thread ends. User space reads it in the
 * live thread's state. */
struct cap_run {
    u64 count;                      /* 0: none */
    u64 first_ns;
    u64 last_ns;
    u32 cap;
    u32 denied;
    u32 tgid;
    u32 in_exec;                    /* its checks are of this execve (in_exec_call), or 0 */
    char comm[TASK_COMM_LEN];
};
#define PRIVILEGES_THREAD_STATE struct priv_arg pa; struct cap_run cr;
