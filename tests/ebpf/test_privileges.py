"""The privileges family: a root process's privileged calls with their arguments and results,
and its capability checks, granted and denied, counted in the kernel per process."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from denet_tui.privileges import capability_name
from denet_tui.wire import TableElider

from .helpers import both_ways, run_collected

TRACE_LINE = re.compile(  # comm-tid (tgid) [cpu] flags time: cap_capable: ..., cap N, ret R
    r"\(\s*(?P<tgid>\d+)\)\s+\[\d+\].*cap_capable:.* cap (?P<cap>\d+), ret (?P<ret>-?\d+)"
)


@contextlib.contextmanager
def ftrace_events(event: str) -> Iterator[Callable[[], list[str]]]:
    """The kernel's own trace of ``event`` (an ftrace instance of our own, for the block):
    yields a function that returns the lines recorded."""
    root = Path("/sys/kernel/tracing/instances") / f"denet-test-{os.getpid()}"
    root.mkdir()
    try:
        (root / "buffer_size_kb").write_text("16384")
        (root / "options" / "record-tgid").write_text("1")
        (root / "events" / event / "enable").write_text("1")  # (tracing is on from the start)
        text: list[str] = []

        def lines() -> list[str]:
            if not text:
                (root / "tracing_on").write_text("0")
                text.append((root / "trace").read_text())
            return text[0].splitlines()

        yield lines
    finally:
        root.rmdir()


# As root: a UTS namespace, a memfd, a new name, a nicer priority (each needs or changes
# privilege). A child drops to nobody (65534), then fails two privileged acts: a higher
# priority (CAP_SYS_NICE) and reading init's environment (root's file: CAP_DAC_OVERRIDE).
ROOT = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
assert libc.unshare(0x04000000) == 0                 # CLONE_NEWUTS
os.close(os.memfd_create("scratch [bold]", os.MFD_CLOEXEC))
libc.prctl(15, b"renamed", 0, 0, 0)                  # PR_SET_NAME
os.nice(-1)
pid = os.fork()
if pid == 0:
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    try:
        os.nice(-5)
    except PermissionError:
        pass
    try:
        open("/proc/1/environ").read()
    except PermissionError:
        pass
    assert libc.unshare(0x04000000) == -1            # no longer allowed: EPERM
    os._exit(0)
os.waitpid(pid, 0)
print(pid)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the child drops privileges)")
@both_ways("privileges")
def test_privileged_calls_and_capability_checks(probes: frozenset[str]) -> None:
    last, snaps = run_collected([sys.executable, "-c", ROOT], probes=probes)
    calls = [e for s in snaps for e in s.privileges]
    caps = {}
    for s in snaps:
        caps.update(((c.pid, c.capability), c) for c in s.capabilities)
    root = last.target.pid
    mine = [(e.pid == root, e.call, e.detail, e.path, e.error, e.uid) for e in calls]
    assert (True, "unshare", "CLONE_NEWUTS", None, None, 0) in mine
    assert (True, "memfd_create", "MFD_CLOEXEC", "scratch [bold]", None, 0) in mine
    assert (True, "prctl", "PR_SET_NAME", "renamed", None, 0) in mine
    child = [e for e in calls if e.pid != root]
    assert [(e.call, e.detail, e.error, e.uid, e.gid) for e in child] == [
        ("setgroups", "0 groups", None, 0, 0),
        ("setresgid", "rgid=65534 egid=65534 sgid=65534", None, 0, 65534),
        ("setresuid", "ruid=65534 euid=65534 suid=65534", None, 65534, 65534),
        ("unshare", "CLONE_NEWUTS", "EPERM", 65534, 65534),
    ]
    assert child[-1].result == -1
    # The shipped schema takes every snapshot, a failed call's negative result included.
    schema = json.loads(files("denet_tui").joinpath("jsonl.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for s in snaps:
        validator.validate(json.loads(TableElider().line(s)))
    child_pid = child[0].pid
    assert caps[root, "CAP_SYS_ADMIN"].granted >= 1  # unshare
    assert caps[root, "CAP_SYS_NICE"].granted >= 1
    assert caps[child_pid, "CAP_SETUID"].granted >= 1
    assert caps[child_pid, "CAP_SYS_NICE"].denied >= 1
    assert caps[child_pid, "CAP_DAC_OVERRIDE"].denied >= 1
    assert caps[child_pid, "CAP_SYS_NICE"].granted == 0
    assert last.diagnostics["privileges_lost"] == 0 and last.diagnostics["caps_full"] == 0


# Many checks of one kind in a row (each setuid(0) as root: CAP_SETUID granted), a child's
# denials between granted ones, in two threads: what the threads count in their own state
# must add up with what went to the table.
CHECKER = r"""
import os, threading, time
def checks():
    for _ in range(3000):
        os.setuid(0)
t = threading.Thread(target=checks)
t.start()
checks()
t.join()
pid = os.fork()
if pid == 0:
    os.setresuid(65534, 65534, 65534)
    for _ in range(40):
        try:
            os.nice(-1)
        except PermissionError:
            pass
        os.getppid()
    os._exit(0)
os.waitpid(pid, 0)
for _ in range(500):
    os.setuid(0)
time.sleep(0.8)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (setuid, the child drops privileges)")
def test_capability_checks_equal_the_kernel_s_own_trace() -> None:
    """Every check the kernel's own event trace (ftrace, not BPF) saw for the tree's
    processes, per process, capability and result, equals what the family counted."""
    with ftrace_events("capability/cap_capable") as lines:
        last, snaps = run_collected(
            [sys.executable, "-c", CHECKER], probes=frozenset({"privileges"})
        )
        trace = lines()
    counted: dict[tuple[int, str, bool], int] = {}
    latest: dict = {}
    for s in snaps:
        for c in s.capabilities:
            key = (c.pid, c.name, c.capability)
            assert latest.get(key) != c, c  # a row is sent again only when it changed
            latest[key] = c
    for c in latest.values():
        for denied, n in ((False, c.granted), (True, c.denied)):
            if n:
                key = (c.pid, c.capability, denied)
                counted[key] = counted.get(key, 0) + n
    pids = {k[0] for k in counted}
    traced: dict[tuple[int, str, bool], int] = {}
    for line in trace:
        m = TRACE_LINE.search(line)
        if m and int(m["tgid"]) in pids | {last.target.pid}:
            key = (int(m["tgid"]), capability_name(int(m["cap"])), m["ret"] != "0")
            traced[key] = traced.get(key, 0) + 1
    assert traced == counted
    root = last.target.pid
    assert counted[root, "CAP_SETUID", False] >= 6500
    # While it sleeps, its last run of checks is in its thread's state, not in the table: the
    # snapshots then show it all the same.
    seen: dict[tuple[int, str, str], int] = {}
    for s in snaps:
        if s.target.status != "running":
            break
        seen.update(((c.pid, c.name, c.capability), c.granted) for c in s.capabilities)
    assert (
        sum(n for (pid, _, cap), n in seen.items() if (pid, cap) == (root, "CAP_SETUID"))
        == (counted[root, "CAP_SETUID", False])
    )
    assert sum(n for (pid, cap, denied), n in counted.items() if denied and pid != root) >= 40


# Equal checks (setuid(0) as root: CAP_SETUID granted) before and after a new name, then in
# another program (an exec through a link of our own name): one run of equal checks would
# span all three if a new name did not end it.
RENAMED = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for _ in range(300):
    os.setuid(0)
libc.prctl(15, b"renamed", 0, 0, 0)                  # PR_SET_NAME
for _ in range(200):
    os.setuid(0)
os.execv(sys.argv[1], [sys.argv[1], "-c", "import os\nfor _ in range(100): os.setuid(0)"])
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (setuid)")
@both_ways("privileges")
def test_checks_are_counted_under_the_name_they_were_made_under(
    tmp_path: Path, probes: frozenset[str]
) -> None:
    link = tmp_path / "checker2"
    link.symlink_to(sys.executable)
    last, snaps = run_collected([sys.executable, "-c", RENAMED, str(link)], probes=probes)
    latest = {}
    for s in snaps:
        latest.update(((c.pid, c.name, c.capability), c.granted) for c in s.capabilities)
    root = last.target.pid
    setuid = {
        name: n for (pid, name, cap), n in latest.items() if (pid, cap) == (root, "CAP_SETUID")
    }
    first = Path(sys.executable).name[:15]
    assert setuid == {first: 300, "renamed": 200, "checker2": 100}


def test_an_execs_own_checks_are_the_new_programs() -> None:
    """The checks the kernel makes while it loads a program (its memory accounting:
    CAP_SYS_ADMIN) are that program's: run mode's command was listed with a row under the
    launcher's name (`denet-tui`) before its own."""
    last, snaps = run_collected(["/bin/true"], probes=frozenset({"syscalls", "privileges"}))
    names = {c.name for s in snaps for c in s.capabilities if c.pid == last.target.pid}
    assert names == {"true"}, names
