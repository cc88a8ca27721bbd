"""The sampler's thread files: kept open, re-read with pread, closed when the thread is gone."""

from __future__ import annotations

import os
import subprocess
import time

from denet_tui.collectors.syscall_sampler import ThreadFiles
from denet_tui.syscalls import syscall_name


def _sleeper() -> subprocess.Popen[bytes]:
    p = subprocess.Popen(["sleep", "30"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # until it sleeps in its syscall, not still starting
        with open(f"/proc/{p.pid}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] == b"S":
                break
        time.sleep(0.01)
    return p


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_reads_the_syscall_a_thread_sleeps_in_and_keeps_its_file_open() -> None:
    p = _sleeper()
    files = ThreadFiles()
    try:
        (path,) = files.paths((p.pid,))[p.pid]
        before = _open_fds()
        nr = files.read(path)
        assert nr is not None and syscall_name(nr) in ("clock_nanosleep", "nanosleep")
        assert _open_fds() == before + 1  # kept for the next tick
        assert files.read(path) == nr
        assert _open_fds() == before + 1  # re-read, not reopened
    finally:
        p.kill()
        p.wait()
    assert files.read(path) is None  # gone: its file is closed
    assert _open_fds() == before
    files.close()


def test_past_max_open_files_are_opened_for_each_read() -> None:
    p = _sleeper()
    files = ThreadFiles(max_open=0)
    try:
        (path,) = files.paths((p.pid,))[p.pid]
        before = _open_fds()
        assert files.read(path) is not None
        assert _open_fds() == before
    finally:
        p.kill()
        p.wait()
        files.close()


def test_files_of_threads_no_longer_listed_are_closed() -> None:
    p = _sleeper()
    files = ThreadFiles()
    try:
        before = _open_fds()
        (path,) = files.paths((p.pid,))[p.pid]
        files.read(path)
        assert _open_fds() == before + 1
        assert files.paths(()) == {}
        assert _open_fds() == before
    finally:
        p.kill()
        p.wait()
        files.close()
