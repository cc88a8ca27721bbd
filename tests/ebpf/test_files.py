"""The files family: every open of the tree, and every unlink, rmdir, mkdir, rename and truncate,
per path, counted in the kernel, checked against the calls a program of our own made."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from denet_tui.syscalls import machine_arch, table
from tests.functional.tmux import DENET, Tmux

from .helpers import both_ways, run_collected

# Three processes each open the same 200 paths of their own, 20 of them missing: absolute and
# relative names, spaces, markup, a newline and bytes that are not UTF-8. argv[1]: the directory.
OPENER = r"""
import os, sys
os.chdir(sys.argv[1])
names = [f"plain {i}" if i % 3 else f"[bold]{i}" for i in range(180)]
names += [f"missing {i}" for i in range(20)]
for _ in range(2):
    if os.fork() == 0:
        break
for n in names:
    for path in (n, os.path.join(sys.argv[1], n)) if n.endswith("0") else (n,):
        try:
            os.close(os.open(path, os.O_RDONLY))
        except FileNotFoundError:
            pass
for raw in (b"line\nbreak", b"bad \xff\xfe utf8", b"bad \\xff\\xfe utf8"):
    os.close(os.open(raw, os.O_RDONLY))
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
"""


@both_ways("files")
def test_every_open_counted_per_path_with_failures(tmp_path: Path, probes: frozenset[str]) -> None:
    for i in range(180):
        (tmp_path / (f"plain {i}" if i % 3 else f"[bold]{i}")).touch()
    for raw in (b"line\nbreak", b"bad \xff\xfe utf8", b"bad \\xff\\xfe utf8"):
        open(os.path.join(os.fsencode(tmp_path), raw), "wb").close()
    _, snaps = run_collected([sys.executable, "-c", OPENER, str(tmp_path)], probes=probes)
    rows, absolute = {}, {}
    for s in snaps:
        for f in s.files:
            if f.op == "open":
                (rows if f.joined else absolute)[f.path] = f
    # The relative names are joined to the directory the chdir named; the opens of the same
    # file by its absolute name (every tenth name) are a row of their own.
    for i in range(180):
        name = f"plain {i}" if i % 3 else f"[bold]{i}"
        row = rows[str(tmp_path / name)]
        assert (row.calls, row.failures, row.processes) == (3, 0, 3), name
        assert row.modes == "r" and row.error is None and row.relative is None
        if name.endswith("0"):
            other = absolute.pop(str(tmp_path / name))
            assert (other.calls, other.processes, other.joined) == (3, 3, False), name
    for i in range(20):
        missing = rows[str(tmp_path / f"missing {i}")]
        assert (missing.calls, missing.failures, missing.error) == (3, 3, "ENOENT")
        if i % 10 == 0:
            other = absolute.pop(str(tmp_path / f"missing {i}"))
            assert (other.calls, other.failures, other.processes) == (3, 3, 3)
    assert not [p for p in absolute if p.startswith(str(tmp_path))]
    assert rows[f"{tmp_path}/line\nbreak"].calls == 3
    assert rows[f"{tmp_path}/bad \\xff\\xfe utf8"].calls == 3  # undecodable bytes escaped
    assert rows[f"{tmp_path}/bad \\\\xff\\\\xfe utf8"].calls == 3  # and a name spelling them
    assert snaps[-1].diagnostics["files_full"] == 0
    assert snaps[-1].diagnostics["files_paths_left_out"] == 0


# 300 short-lived processes one after another, each opening the same file once; then one
# process whose 4 threads open another file 100 times each; then the process and a child take
# turns on a third file, three times each (the first to use a path is counted by its claim on
# it, the other by a bit: neither twice). argv[1..3]: the three files.
CHURN = r"""
import os, sys, threading
for _ in range(300):
    pid = os.fork()
    if pid == 0:
        os.close(os.open(sys.argv[1], os.O_RDONLY))
        os._exit(0)
    os.waitpid(pid, 0)
def opener():
    for _ in range(100):
        os.close(os.open(sys.argv[2], os.O_RDONLY))
threads = [threading.Thread(target=opener) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
mine, theirs = os.pipe(), os.pipe()
pid = os.fork()
if pid == 0:
    for _ in range(3):
        os.read(mine[0], 1)
        os.close(os.open(sys.argv[3], os.O_RDONLY))
        os.write(theirs[1], b"x")
    os._exit(0)
for _ in range(3):
    os.close(os.open(sys.argv[3], os.O_RDONLY))
    os.write(mine[1], b"x")
    os.read(theirs[0], 1)
os.waitpid(pid, 0)
"""


def test_each_process_counts_once_however_many_use_a_path(tmp_path: Path) -> None:
    shared, threaded, turns = tmp_path / "shared", tmp_path / "threaded", tmp_path / "turns"
    for path in (shared, threaded, turns):
        path.touch()
    _, snaps = run_collected(
        [sys.executable, "-c", CHURN, str(shared), str(threaded), str(turns)],
        probes=frozenset({"files"}),
    )
    rows = {f.path: f for s in snaps for f in s.files}
    assert (rows[str(shared)].calls, rows[str(shared)].processes) == (300, 300)
    assert (rows[str(threaded)].calls, rows[str(threaded)].processes) == (400, 1)
    assert (rows[str(turns)].calls, rows[str(turns)].processes) == (6, 2)
    assert snaps[-1].diagnostics["files_full"] == 0


# Every path-changing call, with the libc function that makes it (Python's os module): what the
# kernel must count, per (path, kind), and the two that fail.
CHANGER = r"""
import os, sys
os.chdir(sys.argv[1])
os.mkdir("d")                                      # mkdirat
try:
    os.mkdir("d")                                  # mkdirat: EEXIST
except FileExistsError:
    pass
open("d/f", "w").close()
os.truncate("d/f", 10)                             # truncate
os.rename("d/f", "d/[g] h")                        # renameat2 or rename
os.unlink("d/[g] h")                               # unlinkat
try:
    os.unlink("d/nothing")                         # unlinkat: ENOENT
except FileNotFoundError:
    pass
os.rmdir("d")                                      # rmdir (or unlinkat with AT_REMOVEDIR)
"""


@both_ways("files")
def test_path_changes_counted_per_kind(tmp_path: Path, probes: frozenset[str]) -> None:
    _, snaps = run_collected([sys.executable, "-c", CHANGER, str(tmp_path)], probes=probes)
    rows = {}
    for s in snaps:
        rows.update(((f.path, f.op), f) for f in s.files)
    got = {
        key: (rows[key].calls, rows[key].failures, rows[key].error)
        for key in rows
        if key[1] != "open"
    }
    d = f"{tmp_path}/d"
    assert got == {
        (d, "mkdir"): (2, 1, "EEXIST"),
        (f"{d}/f", "truncate"): (1, 0, None),
        (f"{d}/f", "rename_from"): (1, 0, None),
        (f"{d}/[g] h", "rename_to"): (1, 0, None),
        (f"{d}/[g] h", "unlink"): (1, 0, None),
        (f"{d}/nothing", "unlink"): (1, 1, "ENOENT"),
        (d, "rmdir"): (1, 0, None),
    }
    assert rows[f"{d}/f", "truncate"].modes == "w"
    assert rows[f"{d}/f", "open"].modes == "wc"


# The old calls, which glibc never makes but other C libraries (musl) do: open, creat, mkdir,
# rename, unlink, rmdir, by number. argv[1]: the directory; argv[2]: the numbers, by name.
OLD_CALLS = r"""
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
nr = json.loads(sys.argv[2])
os.chdir(sys.argv[1])
os.close(libc.syscall(nr["open"], b"old-open", os.O_RDONLY | os.O_CREAT, 0o644))
os.close(libc.syscall(nr["creat"], b"old-creat", 0o644))
assert libc.syscall(nr["open"], b"old-missing", os.O_RDONLY) == -1
assert libc.syscall(nr["mkdir"], b"old-dir", 0o755) == 0
assert libc.syscall(nr["rename"], b"old-creat", b"old-renamed") == 0
assert libc.syscall(nr["unlink"], b"old-renamed") == 0
assert libc.syscall(nr["rmdir"], b"old-dir") == 0
"""


def test_the_old_calls_counted_too(tmp_path: Path) -> None:
    numbers = {name: n for n, name in table(machine_arch()).items()}
    if "open" not in numbers:
        pytest.skip(f"{machine_arch()} has no open(2)")
    _, snaps = run_collected(
        [sys.executable, "-c", OLD_CALLS, str(tmp_path), json.dumps(numbers)],
        probes=frozenset({"files"}),
    )
    rows = {}
    for s in snaps:
        rows.update(((f.path, f.op), f) for f in s.files if f.path.startswith(str(tmp_path)))
    got = {key: (rows[key].calls, rows[key].failures, rows[key].error) for key in rows}
    d = str(tmp_path)
    assert got == {
        (f"{d}/old-open", "open"): (1, 0, None),
        (f"{d}/old-creat", "open"): (1, 0, None),
        (f"{d}/old-missing", "open"): (1, 1, "ENOENT"),
        (f"{d}/old-dir", "mkdir"): (1, 0, None),
        (f"{d}/old-creat", "rename_from"): (1, 0, None),
        (f"{d}/old-renamed", "rename_to"): (1, 0, None),
        (f"{d}/old-renamed", "unlink"): (1, 0, None),
        (f"{d}/old-dir", "rmdir"): (1, 0, None),
    }
    assert rows[f"{d}/old-open", "open"].modes == "rc"
    assert rows[f"{d}/old-creat", "open"].modes == "wc"


# Relative names, each with what the working directory was when it was opened. argv[1]: a
# directory holding `a` and `sub/b`.
WANDERER = r"""
import os, sys, time
os.chdir(sys.argv[1])                   # named by the chdir
os.close(os.open("a", os.O_RDONLY))
if os.fork() == 0:                      # the child inherits the directory, opens, and is gone
    os.close(os.open("./sub/b", os.O_RDONLY))
    os._exit(0)
os.wait()
sub = os.open("sub", os.O_RDONLY | os.O_DIRECTORY)
os.close(os.open("b", os.O_RDONLY, dir_fd=sub))   # relative to a directory fd
if os.fork() == 0:                      # fchdir names nothing, and it is gone before a reading
    os.fchdir(sub)
    os.close(os.open("b", os.O_RDONLY))
    os._exit(0)
os.wait()
os.fchdir(sub)                          # named by /proc/PID/cwd while it lives
os.close(os.open("b", os.O_RDONLY))
time.sleep(0.6)
os.chdir("..")                          # named under the directory it left, ".." kept
os.close(os.open("a", os.O_RDONLY))
"""


@both_ways("files")
def test_relative_paths_joined_to_the_working_directory(
    tmp_path: Path, probes: frozenset[str]
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a").touch()
    (tmp_path / "sub" / "b").touch()
    _, snaps = run_collected([sys.executable, "-c", WANDERER, str(tmp_path)], probes=probes)
    rows = {}
    for s in snaps:
        rows.update(((f.path, f.relative), f) for f in s.files if f.op == "open")
    got = {
        key: (f.calls, f.processes, f.joined)
        for key, f in rows.items()
        if key[0].startswith(f"{tmp_path}/") or key[1]
    }
    assert got == {
        (f"{tmp_path}/a", None): (1, 1, True),
        (f"{tmp_path}/sub", None): (1, 1, True),  # the directory fd's open
        (f"{tmp_path}/sub/b", None): (2, 2, True),
        ("b", "dirfd"): (1, 1, False),
        ("b", "cwd unknown"): (1, 1, False),
        (f"{tmp_path}/sub/../a", None): (1, 1, True),
    }


# Names that would act on a terminal written as is: a window title, a screen clear, a bell,
# markup, a newline, bytes that are not UTF-8. argv[1]: the directory (the names are built
# here, so the command line on screen holds none of them).
HOSTILE = r"""
import os, sys, time
os.chdir(sys.argv[1])
for raw in (b"\x1b]0;pwned\x07", b"\x1b[2Jcleared", b"[bold]loud[/bold]", b"two\nlines",
            b"bell\x07", b"bad \xff byte"):
    try:
        os.open(raw, os.O_RDONLY)
    except FileNotFoundError:
        pass
time.sleep(60)
"""


def test_the_files_tab_shows_hostile_names_as_harmless_text(tmp_path: Path) -> None:
    (tmp_path / "h.py").write_text(HOSTILE)
    tmux = Tmux(f"denet-e2e-{os.getpid()}-hostile-files")
    try:
        tmux.start(f"{DENET} run -- {sys.executable} {tmp_path / 'h.py'} {tmp_path}", 140, 40)
        tmux.wait_for("● running", timeout=30)
        tmux.keys("7")
        tmux.wait_for("pwned", timeout=15)
        tmux.keys("f")  # failures only: they never existed
        screen = tmux.wait_for("failures only (f)")
    finally:
        tmux.kill()
    for shown in ("\\e]0;pwned\\x07", "\\e[2Jcleared", "[bold]loud[/bold]", "two\\nlines",
                  "bell\\x07", "bad \\xff byte"):  # fmt: skip
        assert shown in screen, shown
    lines = screen.splitlines()
    assert lines[0].startswith(" denet-tui") and "7 Files" in lines[2]  # nothing cleared
    assert all(len(line) <= 140 for line in lines)


# A 32-bit call from a 64-bit program (int 0x80): ia32's 257 is remap_file_pages (EINVAL with
# zeros); read as x86_64's 257 (openat), it would name the path rsi points at. Then a real open.
IA32 = r"""
import ctypes, mmap, struct, sys
path = ctypes.create_string_buffer(b"/BOGUS-IA32-OPEN")
code = (b"\x53" + b"\x48\xc7\xc7\x9c\xff\xff\xff"         # push rbx; mov rdi, AT_FDCWD
        + b"\x48\xbe" + struct.pack("<Q", ctypes.addressof(path))  # movabs rsi, path
        + b"\xb8\x01\x01\x00\x00"                             # mov eax, 257
        + b"\x31\xdb\x31\xc9\x31\xd2\xcd\x80\x5b\xc3")       # ebx = ecx = edx = 0; int 0x80
m = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(code)
assert ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(m)))() == -22
open(sys.argv[1]).close()
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="int 0x80: x86_64's 32-bit calls")
@both_ways("files")
def test_a_32_bit_call_is_not_taken_for_a_64_bit_one(
    tmp_path: Path, probes: frozenset[str]
) -> None:
    real = tmp_path / "real"
    real.touch()
    _, snaps = run_collected([sys.executable, "-c", IA32, str(real)], probes=probes)
    paths = {f.path: f for s in snaps for f in s.files}
    assert paths[str(real)].calls == 1
    assert not [p for p in paths if "BOGUS" in p]


@both_ways("files")
def test_paths_longer_than_kept_keep_their_file_names(
    tmp_path: Path, probes: frozenset[str]
) -> None:
    """A path past the 255 bytes kept is its last 255: the file name stays, and files in one
    long directory keep rows of their own (they merged under their common first bytes)."""
    deep = tmp_path.joinpath(*(f"d{i:02d}_abcdefghij" for i in range(20)))
    deep.mkdir(parents=True)
    (deep / "present.txt").touch()
    names = ("present.txt", "b_missing.txt", "c_missing.txt", "c_missing.txt")
    script = "for p in sys.argv[1:]:\n try: open(p).close()\n except OSError: pass"
    argv = [sys.executable, "-c", "import sys\n" + script, *(str(deep / n) for n in names)]
    _, snaps = run_collected(argv, probes=probes)
    rows = {f.path: f for s in snaps for f in s.files if f.op == "open" and f.path_cut}
    for name, calls, failures in (("present.txt", 1, 0), ("b_missing.txt", 1, 1),
                                  ("c_missing.txt", 2, 2)):  # fmt: skip
        whole = os.fsencode(deep / name)
        (row,) = [r for p, r in rows.items() if p.endswith("/" + name)]
        assert row.path == "…" + os.fsdecode(whole[-255:])
        assert (row.calls, row.failures) == (calls, failures), name
        assert row.relative is None  # passed absolute
    # Passed relative: said so, not joined (its start is not known).
    rel = str(deep.relative_to(tmp_path) / "b_missing.txt")
    here = os.getcwd()
    os.chdir(tmp_path)  # (the command runs where we are)
    try:
        _, snaps = run_collected([*argv[:3], rel], probes=probes)
    finally:
        os.chdir(here)
    (row,) = [f for s in snaps for f in s.files if f.path.endswith("/b_missing.txt")]
    assert row.path_cut and row.relative == "cut" and not row.joined


def test_a_paths_row_names_the_process_of_its_latest_call(tmp_path: Path) -> None:
    # (A trial saw the missing file and its ENOENT, but not which process had tried.)
    missing = tmp_path / "no-such.conf"
    script = f"cat {missing}; sleep 0.3; head -c1 {missing}; true"
    _, snaps = run_collected(["sh", "-c", script])
    rows = [f for s in snaps for f in s.files if f.path == str(missing)]
    procs = {p.pid: p.name for s in snaps for p in s.processes}
    (head,) = [pid for pid, name in procs.items() if name == "head"]
    last = rows[-1]
    assert (last.calls, last.failures, last.error) == (2, 2, "ENOENT")
    assert (last.last_pid, last.last_name) == (head, "head")
    (cat,) = [pid for pid, name in procs.items() if name == "cat"]
    assert (rows[0].last_pid, rows[0].last_name) == (cat, "cat")  # as it was then
