/*
 * denet-tui, family "signals": types. Every signal sent to or from the tree, and each one the
 * tree's processes took delivery of, as an event.
 */

struct signal_event {
    u64 ns;                         /* bpf_ktime_get_ns() */
    u64 handler;                    /* delivered: the action (0 default, 1 ignored, else a handler) */
    u32 kind;                       /* SIGNAL_SENT or SIGNAL_DELIVERED */
    s32 sig;
    s32 result;                     /* sent: 0 delivered, 1 ignored, 2 already pending, 3 overflow,
                                     * 4 info lost */
    u32 group;                      /* sent: to the whole process (1) or one thread (0) */
    u32 sender;                     /* tgid of the sender (sent); 0: not known (delivered) */
    u32 sender_serial;              /* its serial if it is in the tree, else 0 */
    u32 target;                     /* pid of the target task */
    u32 target_serial;              /* its serial if it is in the tree, else 0 */
    char sender_comm[TASK_COMM_LEN];
    char target_comm[TASK_COMM_LEN];
};
#define SIGNAL_SENT 0
#define SIGNAL_DELIVERED 1

/* A process of the tree on its way out: no longer tracked (its pid may be reused once it is
 * reaped), but the signals it sends while it ends (SIGCHLD to its parent, a child's
 * parent-death signal) are still its own. Known by the ending task itself. */
struct signal_ending {
    u64 task;                       /* the task that ended the process */
    u32 serial;
    u32 pad;
};
