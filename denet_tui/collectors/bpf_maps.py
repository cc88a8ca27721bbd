"""Low-level access to BCC's maps: batched reads and deletes, raw updates, fds, cleanup.

BCC's own iteration costs two syscalls per entry; the collector reads whole maps every interval,
so it goes through libbcc's batch calls (a few syscalls per map), falling back to BCC's
iteration where the kernel has no batch ops for a map type.
"""

from __future__ import annotations

import contextlib
import ctypes as ct
import errno
import gc
import mmap
import os
import signal
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from denet_tui.collectors.base import CollectorError

BATCH = 4096  # entries per batch call
BATCH_BYTES = 1 << 20  # at most, per batch buffer (keys and values)
ENOTSUPP = 524  # the kernel's "operation not supported" for map types without batch ops


class _NoBatchOps(Exception):
    """The kernel has no batch lookup for this map type."""


def _lib():
    from bcc.libbcc import lib

    return lib


class PidBits:
    """A BPF array of ``struct pid_bits`` (tree.bpf.h), a bit per pid in two u64 halves,
    mapped into memory: user space sets and clears bits in the user halves only (the programs
    own the kernel halves). Unmapped by ``cleanup`` (a mapping holds the map)."""

    def __init__(self, b, name: str, pids: int) -> None:
        self._words = pids // 64
        self._mapping = mmap.mmap(table_fd(b, name), self._words * 16)
        self._view = memoryview(self._mapping).cast("Q")
        _MAPPED.setdefault(id(b), []).append(self)

    def set(self, pid: int, on: bool) -> None:
        i = (pid >> 6) % self._words * 2 + 1  # the user half
        bit = 1 << (pid & 63)
        self._view[i] = self._view[i] | bit if on else self._view[i] & ~bit

    def close(self) -> None:
        self._view.release()
        self._mapping.close()


_MAPPED: dict[int, list[PidBits]] = {}  # by id() of the BCC object whose maps they are


def cleanup(b, later: bool = False) -> None:
    """Detach every program and close every map fd; the kernel frees what nothing holds.
    The tracepoints first, at once: closing each one's perf event waits for the kernel (about
    40 ms here, one after another whatever the threads: 3 s for 80 tracepoints). ``later``:
    a child process closes them while we go on (at the end of a run: the user waits for
    nothing); ours are then only references, dropped at once."""
    for bits in _MAPPED.pop(id(b), []):
        bits.close()
    tracepoints = list(getattr(b, "tracepoint_fds", {}))
    # The child closes its copies once ours are closed (this fd closed): None, no child.
    go_ahead = _close_in_child(list(b.tracepoint_fds.values())) if later and tracepoints else None
    if go_ahead is None and len(tracepoints) > 1:

        def detach(tp: bytes) -> None:
            with contextlib.suppress(Exception):
                b.detach_tracepoint(tp)  # libbcc's C call: the GIL is free meanwhile

        # No garbage collection meanwhile: it could run another collector's finalizer (this
        # same cleanup) inside the pool's submit, which holds a lock that finalizer would wait
        # for (a test run hung so).
        collecting = gc.isenabled()
        gc.disable()
        try:
            with ThreadPoolExecutor(max_workers=len(tracepoints)) as pool:
                list(pool.map(detach, tracepoints))
        except RuntimeError:  # a finalizer at the interpreter's exit: no new threads then
            for tp in tracepoints:
                detach(tp)
        finally:
            if collecting:
                gc.enable()
    try:
        with contextlib.suppress(Exception):
            b.cleanup()
    finally:
        if go_ahead is not None:
            os.close(go_ahead)
        _BUFFERS.clear()  # keyed by map fd: those fds are closed now


def _close_in_child(fds: list[int]) -> int | None:
    """Fork a child that closes ``fds`` (and nothing else of ours: every other fd is closed
    first, so it holds no pipe or terminal open) and exits; None if it cannot be made.

    The child waits until the returned fd is closed, by when ours are: a perf event is torn
    down (the wait) by whoever closes it last, which must never be us. (A grandchild, in
    fact: the child we wait for leaves at once, so none is left a zombie.)"""
    try:
        wait_end, go_ahead = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(wait_end)
        os.close(go_ahead)
        return None
    if pid:
        os.close(wait_end)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        return go_ahead
    try:  # the child: no Python code of the parent's runs here, only closes
        if os.fork():
            os._exit(0)
        # Deaf to the terminal's signals (a ctrl+c while stopping): it must outlast our
        # closes, and it leaves by itself once the pipe is closed (by us, or at our exit).
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGTSTP):
            signal.signal(sig, signal.SIG_IGN)
        keep = {*fds, wait_end}
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in keep:
                with contextlib.suppress(OSError):
                    os.close(int(name))
        with contextlib.suppress(OSError):
            os.read(wait_end, 1)  # end of file: the parent has closed its copies
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    finally:
        os._exit(0)


def table_fd(b, name: str) -> int:
    fd = _lib().bpf_table_fd(b.module, name.encode())
    if fd < 0:
        raise CollectorError(f"BPF map {name} missing")
    return fd


def value_size(fd: int) -> int:
    """The value size of the map behind ``fd``, as the kernel has it (from fdinfo)."""
    with open(f"/proc/self/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("value_size:"):
                return int(line.split()[1])
    raise CollectorError(f"no value_size in the fdinfo of map fd {fd}")


def update(tbl, key, value, flags: int) -> int:
    return _lib().bpf_update_elem(tbl.map_fd, ct.byref(key), ct.byref(value), flags)


def lookup(fd: int, key, value) -> bool:
    """One element by map fd (e.g. task storage keyed by a pidfd); False if it is not there."""
    return _lib().bpf_lookup_elem(fd, ct.byref(key), ct.byref(value)) == 0


def _batch_size(tbl) -> int:
    """Entries per batch call: BATCH, fewer for wide entries (a buffer of BATCH_BYTES)."""
    wide = BATCH_BYTES // (ct.sizeof(tbl.Key) + ct.sizeof(tbl.Leaf))
    return max(1, min(BATCH, tbl.max_entries, wide))


def _batches(
    tbl, keys: ct.Array, values: ct.Array, delete: bool = False, limit: int | None = None
) -> Iterator[int]:
    """Fill ``keys``/``values`` one batch at a time; yield how many entries each batch holds
    (``delete``: each entry is taken out of the map as it is read, atomically; ``limit``: the
    first so many entries only, e.g. an array's slots in use)."""
    lib = _lib()
    call = lib.bpf_lookup_and_delete_batch if delete else lib.bpf_lookup_batch
    token = ct.c_uint32(0)
    first = True
    left = limit
    while left is None or left > 0:
        count = ct.c_uint32(_batch_size(tbl) if left is None else min(left, _batch_size(tbl)))
        res = call(
            tbl.map_fd,
            None if first else ct.byref(token),
            ct.byref(token),
            ct.byref(keys),
            ct.byref(values),
            ct.byref(count),
        )
        err = ct.get_errno()
        yield count.value
        if res != 0:
            if err == errno.ENOENT:
                return
            if err in (errno.EINVAL, errno.EOPNOTSUPP, ENOTSUPP):
                raise _NoBatchOps
            raise OSError(err, f"BPF map batch lookup: {os.strerror(err)}")
        first = False
        if left is not None:
            left -= count.value


def dump(tbl) -> list[tuple]:
    """Every (key, value) of a hash map, as BCC's ctypes structures."""
    n = _batch_size(tbl)
    keys, values = (tbl.Key * n)(), (tbl.Leaf * n)()
    ks, vs = ct.sizeof(tbl.Key), ct.sizeof(tbl.Leaf)
    out: list[tuple] = []
    try:
        for got in _batches(tbl, keys, values):
            out += [
                (tbl.Key.from_buffer_copy(keys, i * ks), tbl.Leaf.from_buffer_copy(values, i * vs))
                for i in range(got)
            ]
    except _NoBatchOps:
        return list(tbl.items())
    return out


_BUFFERS: dict[tuple[int, int, int, int], tuple[ct.Array, ct.Array]] = {}


def _buffers(fd: int, n: int, ks: int, vs: int) -> tuple[ct.Array, ct.Array]:
    """Batch buffers for a map, made once: a map of long keys (the files family's paths)
    would otherwise cost a megabyte zeroed and copied at every read."""
    got = _BUFFERS.get((fd, n, ks, vs))
    if got is None:
        got = _BUFFERS[fd, n, ks, vs] = (
            ct.create_string_buffer(ks * n),
            ct.create_string_buffer(vs * n),
        )
    return got


def dump_raw(
    tbl, key_fmt: str, value_fmt: str, *, delete: bool = False
) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Like ``dump`` for maps of plain values (``struct`` formats), unpacked straight from the
    batch buffers; ``delete``: drained, each entry taken out as it is read."""
    ks, vs = ct.sizeof(tbl.Key), ct.sizeof(tbl.Leaf)
    assert struct.calcsize(key_fmt) == ks and struct.calcsize(value_fmt) == vs
    keys, values = _buffers(tbl.map_fd, _batch_size(tbl), ks, vs)
    key_view, value_view = memoryview(keys), memoryview(values)
    out: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    try:
        for got in _batches(tbl, keys, values, delete):
            out += zip(
                struct.iter_unpack(key_fmt, key_view[: got * ks]),
                struct.iter_unpack(value_fmt, value_view[: got * vs]),
                strict=True,
            )
    except _NoBatchOps:
        return [
            (struct.unpack(key_fmt, k), struct.unpack(value_fmt, v))
            for k, v in _one_by_one(tbl, delete)
        ]
    return out


def read_array(tbl, n: int) -> bytes:
    """The values of an array map's first ``n`` slots, as one buffer (``n`` times the value
    size)."""
    n = min(n, tbl.max_entries)
    vs = ct.sizeof(tbl.Leaf)
    keys, values = _buffers(tbl.map_fd, _batch_size(tbl), 4, vs)
    out = bytearray()
    try:
        for got in _batches(tbl, keys, values, limit=n):
            out += memoryview(values)[: got * vs]
    except _NoBatchOps:
        return b"".join(bytes(tbl[ct.c_int(i)]) for i in range(n))
    return bytes(out)


def dump_bytes(tbl, *, delete: bool = False) -> list[tuple[bytes, bytes]]:
    """Like ``dump_raw``, each (key, value) as its bytes: for values too wide to unpack whole
    (the caller reads what it needs)."""
    ks, vs = ct.sizeof(tbl.Key), ct.sizeof(tbl.Leaf)
    keys, values = _buffers(tbl.map_fd, _batch_size(tbl), ks, vs)
    key_view, value_view = memoryview(keys), memoryview(values)
    out: list[tuple[bytes, bytes]] = []
    try:
        for got in _batches(tbl, keys, values, delete):
            out += [
                (bytes(key_view[i * ks : (i + 1) * ks]), bytes(value_view[i * vs : (i + 1) * vs]))
                for i in range(got)
            ]
    except _NoBatchOps:
        return _one_by_one(tbl, delete)
    return out


def _one_by_one(tbl, delete: bool) -> list[tuple[bytes, bytes]]:
    """Every (key, value) as bytes, where the kernel has no batch ops (``delete``: taken out)."""
    items = list(tbl.items())
    if delete:
        for k, _v in items:
            with contextlib.suppress(KeyError):
                del tbl[k]
    return [(bytes(k), bytes(v)) for k, v in items]


def delete_many(tbl, keys: list[tuple[Any, ...]], key_fmt: str = "II") -> None:
    """Delete keys of plain values (``key_fmt``) in one batch (one by one where the kernel
    has no batch ops, or where a key is missing)."""
    if not keys:
        return
    lib = _lib()
    packer = struct.Struct(key_fmt)
    size = packer.size
    for i in range(0, len(keys), BATCH):
        chunk = keys[i : i + BATCH]
        buf = ct.create_string_buffer(b"".join([packer.pack(*k) for k in chunk]))
        done = 0
        while done < len(chunk):
            count = ct.c_uint32(len(chunk) - done)
            at = ct.byref(buf, done * size)
            if lib.bpf_delete_batch(tbl.map_fd, at, ct.byref(count)) == 0:
                break
            if ct.get_errno() != errno.ENOENT:  # no batch ops here: one by one
                for k in chunk[done:]:
                    with contextlib.suppress(KeyError):
                        del tbl[tbl.Key.from_buffer_copy(packer.pack(*k))]
                break
            # The kernel stops at a key that is not there (an entry never made, or already
            # taken out): past it, the rest in one call again.
            done += count.value + 1
