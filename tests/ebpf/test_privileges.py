"""The privileges family: a root process's privileged calls with their arguments and results,
and its capability checks, granted and denied, counted in the kernel per process."""

from __future__ import annotations

import os
import sys

import pytest

from .helpers import run_collected

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
    os._exit(0)
os.waitpid(pid, 0)
print(pid)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the child drops privileges)")
def test_privileged_calls_and_capability_checks() -> None:
    last, snaps = run_collected([sys.executable, "-c", ROOT])
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
        ("setresgid", "rgid=65534 egid=65534 sgid=65534", None, 0, 65534),
        ("setresuid", "ruid=65534 euid=65534 suid=65534", None, 65534, 65534),
    ]
    child_pid = child[0].pid
    assert caps[root, "CAP_SYS_ADMIN"].granted >= 1  # unshare
    assert caps[root, "CAP_SYS_NICE"].granted >= 1
    assert caps[child_pid, "CAP_SETUID"].granted >= 1
    assert caps[child_pid, "CAP_SYS_NICE"].denied >= 1
    assert caps[child_pid, "CAP_DAC_OVERRIDE"].denied >= 1
    assert caps[child_pid, "CAP_SYS_NICE"].granted == 0
    assert last.diagnostics["privileges_lost"] == 0 and last.diagnostics["caps_full"] == 0
