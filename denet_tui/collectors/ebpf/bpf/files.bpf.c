/*
 * denet-tui, family "files": every open of the tree, and every unlink, rmdir, mkdir, rename and
 * truncate by path, per process and path (kernel-side counts).
 *
 *   syscalls:sys_enter_<call>   a call of the tree: its arguments kept in the thread's task
 *                               storage (open, openat, openat2, creat, unlink, unlinkat, rmdir,
 *                               mkdir, mkdirat, rename, renameat, renameat2, truncate; one
 *                               program for them all, `sys_enter_files`)
 *   syscalls:sys_exit_<call>    its result: the path read now (from the caller's memory,
 *                               faulted in by the call) and counted under the id of (path,
 *                               op, directory), the process once; a rename under both names
 *                               (`sys_exit_files`)
 *   syscalls:sys_enter_chdir, sys_enter_fchdir, and their exits (`sys_enter_cwd`,
 *                               `sys_exit_cwd`): the working directory changes: a new `cwd_id`
 *   (Each of these programs serves several calls. With the syscalls family's raw programs, they
 *   are handed the calls from there instead: tree.bpf.h, SHARED_RAW.)
 *   (tree.bpf.h's task_newtask and sched_process_exit: a child inherits the parent's id; an
 *   ended process's entry goes)
 *
 * The path is the one passed; a relative one is counted with the id of the working directory
 * it was opened in (or marked relative to a directory fd). A call on a new path when every id
 * is given loses the call: the program counts it (DIAG_FILES_FULL), never silent.
 */

#define AT_FDCWD -100

/* (path, call, directory) -> its id. The short table is allocated up front: a new path then
 * costs no allocation; the long one, seldom used, as it fills. */
BPF_F_TABLE("hash", struct file_key_short, u32, file_ids_short, MAX_FILE_IDS, 0);
BPF_F_TABLE("hash", struct file_key, u32, file_ids, MAX_FILE_IDS, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(file_scratch_short, struct file_key_short, 1);
BPF_PERCPU_ARRAY(file_scratch, struct file_key, 1);
/* id -> its figures; ids are handed out in order from 0 (`file_next`). */
BPF_ARRAY(file_stats, struct file_val, MAX_FILE_IDS);
BPF_ARRAY(file_next, u64, 1);
/* New ids' names (struct file_name, its path as long as it is), in a ring buffer: no
 * allocation at a new path. 4 MiB: ~50,000 names between two samples. */
BPF_RINGBUF_OUTPUT(file_names, 1024);
BPF_PERCPU_ARRAY(file_name_scratch, struct file_name, 1);
/* serial -> the ids it used, for live processes that used one. */
BPF_F_TABLE("hash", u32, struct file_bits, file_seen, MAX_PROCS, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(file_bits_zero, struct file_bits, 1);      /* never written: a new set */
/* serial -> the id of its working directory, for live processes that have one yet. */
BPF_F_TABLE("hash", u32, struct cwd_val, cwds, MAX_PROCS, BPF_F_NO_PREALLOC);
/* Ids are made per CPU, without atomics, like serials: (counter << SERIAL_CPU_BITS) | cpu. */
BPF_PERCPU_ARRAY(next_cwd, u32, 1);
/* new id -> what the chdir that made it named; drained at each sample. */
BPF_F_TABLE("hash", u32, struct cwd_name, cwd_names, MAX_CWD_NAMES, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(cwd_scratch, struct cwd_name, 1);

static __always_inline u32 fresh_cwd_id(void)
{
    u32 zero = 0;
    u32 *next = next_cwd.lookup(&zero);
    if (!next)
        return FILE_CWD_CHANGING;           /* (never: an array's slot) an id never learned */
    (*next)++;
    return (*next << SERIAL_CPU_BITS) | bpf_get_smp_processor_id();
}

/* The id of the process's working directory; its first one is made when first needed (a
 * process that was seeded, or that forked nothing and chdir-ed nowhere since). A full map
 * gives an id no process holds: its paths stay as passed. */
static __always_inline u32 cwd_of(u32 serial, u32 tgid)
{
    struct cwd_val *c = cwds.lookup(&serial);
    if (c)
        return c->id;
    struct cwd_val v = {.id = fresh_cwd_id(), .tgid = tgid};
    cwds.update(&serial, &v);
    return v.id;
}

static __always_inline void files_new_process(u32 ptgid, u32 pserial, u32 tgid, u32 serial)
{
    struct cwd_val v = {.id = cwd_of(pserial, ptgid), .tgid = tgid};
    cwds.update(&serial, &v);
}

static __always_inline void files_process_exit(u32 serial)
{
    cwds.delete(&serial);
    file_seen.delete(&serial);
}

/* chdir and fchdir: the directory is unknown while the call runs (another thread's relative
 * open then is counted under an id never learned); after it, a new id (with chdir's path, for
 * user space to name it by), or the old one again if the call failed. */
static __always_inline void cwd_leaving(struct task_state *s, long nr, u64 a0, u64 a1, u64 a2,
                                        u64 a3, u64 a4)
{
    u64 path = nr == CALL_NR_CHDIR ? a0 : 0;    /* fchdir's is a descriptor: no path */
    struct cwd_val *c = cwds.lookup(&s->serial);
    s->fa.from_cwd = c ? c->id : 0;
    s->fa.path2 = path;                     /* (not an open's: fa.path stays 0) */
    struct cwd_val v = {.id = FILE_CWD_CHANGING, .tgid = current_tgid()};
    cwds.update(&s->serial, &v);
}

static __always_inline void cwd_arrived(long ret)
{
    struct task_state *s = current_state();
    if (!s)
        return;
    u32 from = s->fa.from_cwd;
    u64 path = s->fa.path2;
    s->fa.path2 = 0;
    struct cwd_val v = {.id = ret == 0 || !from ? fresh_cwd_id() : from, .tgid = current_tgid()};
    cwds.update(&s->serial, &v);
    if (ret != 0 || !path)
        return;
    u32 zero = 0;
    struct cwd_name *n = cwd_scratch.lookup(&zero);
    if (!n)
        return;
    n->from = from;
    if (read_user_str(n->path, sizeof(n->path), (void *)path) >= FILE_PATH)
        return;                             /* cut: no name for it */
    cwd_names.update(&v.id, n);             /* full: the id is named from /proc, or not at all */
}

SHARED_ENTER_OF_TREE(sys_enter_cwd, cwd_leaving)    /* chdir, fchdir */

SHARED_EXIT(sys_exit_cwd)                /* chdir, fchdir */
{
    cwd_arrived(args->ret);
    return 0;
}

/* A call of the tree (`nr`, its arguments `a0`..`a4`): what it names, kept in the thread's state
 * until its exit. */
static __always_inline void files_call_entered(struct task_state *s, long nr, u64 a0, u64 a1,
                                               u64 a2, u64 a3, u64 a4)
{
    u32 op = FILE_OP_OPEN, flags = 0;
    int dfd = AT_FDCWD, dfd2 = 0;
    u64 path = a0, path2 = 0;
    if (nr == CALL_NR_OPENAT) {
        dfd = (int)a0;
        path = a1;
        flags = (u32)a2;
    } else if (nr == CALL_NR_OPEN) {
        flags = (u32)a1;
    } else if (nr == CALL_NR_OPENAT2) {
        u64 how_flags = 0;                  /* struct open_how: flags is its first member */
        read_user(&how_flags, sizeof(how_flags), (void *)a2);
        dfd = (int)a0;
        path = a1;
        flags = (u32)how_flags;
    } else if (nr == CALL_NR_CREAT) {
        flags = 01 | 0100 | 01000;          /* O_WRONLY | O_CREAT | O_TRUNC */
    } else if (nr == CALL_NR_UNLINK) {
        op = FILE_OP_UNLINK;
    } else if (nr == CALL_NR_UNLINKAT) {
        op = a2 & 0x200 ? FILE_OP_RMDIR : FILE_OP_UNLINK;   /* AT_REMOVEDIR */
        dfd = (int)a0;
        path = a1;
    } else if (nr == CALL_NR_RMDIR) {
        op = FILE_OP_RMDIR;
    } else if (nr == CALL_NR_MKDIR) {
        op = FILE_OP_MKDIR;
    } else if (nr == CALL_NR_MKDIRAT) {
        op = FILE_OP_MKDIR;
        dfd = (int)a0;
        path = a1;
    } else if (nr == CALL_NR_RENAME) {
        op = FILE_OP_RENAME_FROM;
        dfd2 = AT_FDCWD;
        path2 = a1;
    } else if (nr == CALL_NR_RENAMEAT || nr == CALL_NR_RENAMEAT2) {
        op = FILE_OP_RENAME_FROM;
        dfd = (int)a0;
        path = a1;
        dfd2 = (int)a2;
        path2 = a3;
    } else if (nr == CALL_NR_TRUNCATE) {
        op = FILE_OP_TRUNCATE;
    } else {
        return;
    }
    s->fa.path = path;
    s->fa.path2 = path2;
    s->fa.flags = flags;
    s->fa.op = op;
    s->fa.dfd = dfd;
    s->fa.dfd2 = dfd2;
}

static __always_inline u32 file_modes(u32 flags)
{
    u32 acc = flags & 3;                    /* O_RDONLY 0, O_WRONLY 1, O_RDWR 2 */
    u32 m = 0;
    if (acc == 0 || acc == 2)
        m |= FILE_MODE_READ;
    if (acc == 1 || acc == 2)
        m |= FILE_MODE_WRITE;
    if (flags & 0100)                       /* O_CREAT */
        m |= FILE_MODE_CREATE;
    return m;
}

/* An id for what the key names (`ks`, or `k` for a long path; `len`: its path's bytes with
 * the NUL): the one it has, or a new one (MAX_FILE_IDS: none left), named for user space.
 * Another CPU may give the key an id first: then that one is used (this one stays at zero). */
static __always_inline u32 file_id(struct file_key_short *ks, struct file_key *k, long len,
                                   u32 *cut)
{
    u32 *idp = k ? file_ids.lookup(k) : file_ids_short.lookup(ks);
    if (idp)
        return *idp;
    u32 zero = 0;
    u64 *next = file_next.lookup(&zero);
    struct file_name *n = file_name_scratch.lookup(&zero);
    if (!next || !n)
        return MAX_FILE_IDS;
    u64 next_id = __sync_fetch_and_add(next, 1);  /* (64 bits: a 32-bit fetch needs alu32) */
    if (next_id >= MAX_FILE_IDS)
        return MAX_FILE_IDS;
    u32 id = next_id;
    if (k ? file_ids.insert(k, &id) : file_ids_short.insert(ks, &id)) {
        idp = k ? file_ids.lookup(k) : file_ids_short.lookup(ks);
        return idp ? *idp : MAX_FILE_IDS;
    }
    n->id = id;
    if (k) {
        n->op = k->op;
        n->cwd = k->cwd;
        __builtin_memcpy(n->path, k->path, sizeof(k->path));
    } else {
        n->op = ks->op;
        n->cwd = ks->cwd;
        __builtin_memcpy(n->path, ks->path, sizeof(ks->path));
    }
    n->cut = len == FILE_PATH ? FILE_MODE_CUT : 0;
    *cut = n->cut;
    if (len < 1)
        len = 1;
    u64 size = __builtin_offsetof(struct file_name, path) + ((u64)len & (2 * FILE_PATH - 1));
    if (size > sizeof(*n))
        size = sizeof(*n);
    if (file_names.ringbuf_output(n, size, 0))
        *cut |= FILE_MODE_UNNAMED;          /* lost: user space counts its calls so */
    return id;
}

/* A path longer than `buf` (which holds its first bytes): its last FILE_PATH - 1 bytes
 * instead, so that its file name stays and paths that share their first bytes keep rows of
 * their own. Returns what read_user_str does (FILE_PATH: the tail and its NUL). */
static __always_inline long read_path_tail(char *buf, u64 path)
{
    u64 off = 0;
    long got = FILE_PATH;
    for (int i = 0; i < PATH_STEPS && got == FILE_PATH; i++) {
        off += FILE_PATH - 1;
        got = read_user_str(buf, FILE_PATH, (void *)(path + off));
    }
    if (got < 1)
        got = 1;                            /* unreadable past here: ends here */
    u64 len = off + got - 1;                /* its bytes, without the NUL */
    return read_user_str(buf, FILE_PATH, (void *)(path + len - (FILE_PATH - 1)));
}

static __always_inline void file_count(u32 serial, u32 op, int dfd, u64 path, u32 modes,
                                       long ret, u64 now)
{
    u32 zero = 0;
    struct file_key_short *ks = file_scratch_short.lookup(&zero);
    if (!ks)
        return;
    __builtin_memset(ks, 0, sizeof(*ks));   /* a key is compared whole: no stale bytes */
    long n = read_user_str(ks->path, sizeof(ks->path), (void *)path);
    u32 cwd = 0;
    if (n > 1 && ks->path[0] != '/') {
        if (dfd == AT_FDCWD)
            cwd = cwd_of(serial, current_tgid());
        else
            op |= FILE_AT_DIRFD;
    }
    struct file_key *k = 0;
    if (n < FILE_SHORT) {                   /* it fits (a failed read: the empty path) */
        ks->op = op;
        ks->cwd = cwd;
    } else {
        k = file_scratch.lookup(&zero);
        if (!k)
            return;
        __builtin_memset(k, 0, sizeof(*k));
        k->op = op;
        k->cwd = cwd;
        n = read_user_str(k->path, sizeof(k->path), (void *)path);
        if (n == FILE_PATH) {
            k->op = op | FILE_TAIL;
            n = read_path_tail(k->path, path);
        }
    }
    u32 cut = 0;
    u32 id = file_id(ks, k, n, &cut);
    if (id >= MAX_FILE_IDS) {
        diag_inc(DIAG_FILES_FULL);
        return;
    }
    modes |= cut;
    id &= MAX_FILE_IDS - 1;                 /* (it is: for the verifier's bounds) */
    struct file_val *v = file_stats.lookup(&id);
    if (!v)
        return;
    /* A call is dated by its entry, and calls end in any order (an open of a FIFO waits):
     * the earliest and the latest entry. (Two calls racing here may leave the later of two
     * firsts: a call's time apart at most.) */
    if (!v->first_ns)
        __sync_val_compare_and_swap(&v->first_ns, 0, now);
    if (now < v->first_ns)
        v->first_ns = now;
    __sync_fetch_and_add(&v->calls, 1);
    if (ret < 0) {
        __sync_fetch_and_add(&v->failures, 1);
        v->last_errno = (u32)-ret;
    }
    if (now > v->last_ns)
        v->last_ns = now;
    v->modes |= modes;
    /* Each process once. The last process counted is known without a lookup (most calls on
     * a path come from the process before). The first process is counted by its claim on the
     * id (`first_serial`, set once: exactly one claims it), without a bit: most paths are used
     * by one process only (each of tar's 36,000), which then never touches its set. Any
     * other process, by its bit for this id in its own set, set first now. */
    if (v->last_serial == serial)
        return;
    u64 first = v->first_serial;
    if (!first) {
        first = __sync_val_compare_and_swap(&v->first_serial, 0, serial);
        if (!first) {                       /* claimed: counted */
            __sync_fetch_and_add(&v->processes, 1);
            v->last_serial = serial;
            return;
        }
    }
    if (first == serial) {                  /* (claimed by another thread of it, maybe now) */
        v->last_serial = serial;
        return;
    }
    struct file_bits *b = file_seen.lookup(&serial);
    if (!b) {
        struct file_bits *none = file_bits_zero.lookup(&zero);
        if (!none)
            return;
        file_seen.insert(&serial, none);    /* (or another thread of it did) */
        b = file_seen.lookup(&serial);
        if (!b) {
            diag_inc(DIAG_FILES_FULL);      /* its processes figure is one short */
            return;
        }
    }
    u64 bit = 1ULL << (id & 63);
    u64 *w = &b->w[(id >> 6) & (MAX_FILE_IDS / 64 - 1)];   /* (the mask: for the verifier) */
    if (!(*w & bit) && !(__sync_fetch_and_or(w, bit) & bit))
        __sync_fetch_and_add(&v->processes, 1);
    v->last_serial = serial;
}

static __always_inline void file_returned(long ret)
{
    struct task_state *s = current_state();
    if (!s || !s->fa.path)
        return;                             /* not ours, or no call of ours in progress */
    u64 path = s->fa.path, path2 = s->fa.path2;
    int dfd = s->fa.dfd, dfd2 = s->fa.dfd2;
    u32 op = s->fa.op;
    u32 modes = op == FILE_OP_OPEN ? file_modes(s->fa.flags)
              : op == FILE_OP_TRUNCATE ? FILE_MODE_WRITE : 0;
    s->fa.path = 0;
    u64 now = event_time(s);
    file_count(s->serial, op, dfd, path, modes, ret, now);
    if (op == FILE_OP_RENAME_FROM)
        file_count(s->serial, FILE_OP_RENAME_TO, dfd2, path2, 0, ret, now);
}

/* Each call's entry (its arguments) and exit (its result). */
SHARED_ENTER_OF_TREE(sys_enter_files, files_call_entered)

SHARED_EXIT(sys_exit_files)
{
    file_returned(args->ret);
    return 0;
}
