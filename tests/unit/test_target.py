from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from denet_tui.process_group import ignores
from denet_tui.target import ChildOutput, RunTarget, TargetError, group_members, resolve_command


def _exe(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/exe")


def test_child_does_not_exec_until_released() -> None:
    t = RunTarget(["sleep", "5"])
    try:
        time.sleep(0.2)
        assert t.poll().status == "starting"
        assert not _exe(t.pid).endswith("sleep")  # still the forked Python, blocked on the gate
        t.release()
        time.sleep(0.2)
        assert _exe(t.pid).endswith("sleep") and t.poll().status == "running"
    finally:
        t.close()
    assert t.poll().status == "killed"


def test_unreleased_child_never_runs_the_command(tmp_path) -> None:
    marker = tmp_path / "ran"
    t = RunTarget(["sh", "-c", f"touch {marker}"])
    t.close()
    assert not marker.exists()


def test_resolution_errors() -> None:
    with pytest.raises(TargetError) as e:
        resolve_command("definitely-not-a-command")
    assert e.value.exit_code == 127
    with pytest.raises(TargetError) as e:
        resolve_command("/etc")
    assert e.value.exit_code == 126
    assert resolve_command("sh").startswith("/")


def test_stop_ends_background_jobs_that_ignore_sigint() -> None:
    # A non-interactive shell's background jobs ignore SIGINT: they would outlive the shell.
    t = RunTarget(["sh", "-c", "sleep 600 & sleep 600 & wait"])
    t.release()
    deadline = time.monotonic() + 5
    while len(group_members(t.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    jobs = [pid for pid in group_members(t.pid) if pid != t.pid]
    assert len(jobs) == 2
    status = t.stop(grace=0.5)
    t.close()
    assert status.signal == 2  # the shell itself ended on SIGINT
    assert group_members(t.pid) == []
    for pid in jobs:  # ended (at most a zombie waiting for init), not running
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                assert f.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
        except FileNotFoundError:
            pass


def test_a_group_that_ignores_sigint_is_not_given_its_grace() -> None:
    # (--exit-with-root watched 2 s more, and quitting took 2 s, for background jobs that
    # ignore SIGINT: they never act on it.) One that catches it still gets its grace.
    for script, quick in (
        ("trap '' INT; sleep 600 & wait", True),
        ("trap : INT; while :; do sleep 1; done", False),
    ):
        t = RunTarget(["sh", "-c", script])
        t.release()
        deadline = time.monotonic() + 5
        while len(group_members(t.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ignores(t.pid, signal.SIGINT) is quick
        began = time.monotonic()
        t.stop(grace=1.5)
        took = time.monotonic() - began
        t.close()
        assert group_members(t.pid) == []
        assert (took < 1.0) if quick else (took >= 1.5), (script, took)


def test_a_handler_that_ignores_sigint_while_it_cleans_up_gets_its_grace(tmp_path) -> None:
    # (Checked once SIGINT was sent, the review found, such a handler looked like a process
    # that ignores it: its cleanup was cut short by SIGTERM.)
    done, ready = tmp_path / "cleaned", tmp_path / "ready"
    script = (
        "import signal, sys, time\n"
        "def bye(*_):\n"
        "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "    time.sleep(0.5)\n"
        f"    open({str(done)!r}, 'w').close()\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGINT, bye)\n"
        f"open({str(ready)!r}, 'w').close()\n"
        "time.sleep(600)\n"
    )
    t = RunTarget([sys.executable, "-c", script])
    t.release()
    deadline = time.monotonic() + 5
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    t.stop(grace=2.0)
    t.close()
    assert done.exists()


def test_the_command_does_not_inherit_what_python_ignores(tmp_path) -> None:
    out = tmp_path / "status"
    with open(out, "wb") as f:
        t = RunTarget(["cat", "/proc/self/status"], ChildOutput(stdout=f.fileno()))
    t.release()
    assert t.wait(5).exit_code == 0
    t.close()
    ignored = int(
        next(ln for ln in out.read_text().splitlines() if ln.startswith("SigIgn:"))[7:], 16
    )
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):  # both ignored by Python itself
        assert not ignored & (1 << (sig - 1)), signal.Signals(sig).name
