"""What the watched command can do to the person watching, and what happens to the command when
the person (or the terminal) goes away: driven in a real terminal (tmux)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.functional.tmux import DENET, Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def _pane_title(tmux: Tmux) -> str:
    out = subprocess.run(
        [*tmux.cmd, "display", "-p", "#{pane_title}"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_escape_sequences_in_arguments_are_shown_not_obeyed(tmux: Tmux) -> None:
    # Sets a title we know, then runs a command whose arguments would retitle the terminal,
    # clear the screen and blink, and one with a newline that would split its tree row.
    tmux.start(
        "printf '\\033]2;title-before\\007'; "
        f"{DENET} run --collector procfs -- sh -c 'sleep 20' "
        "\"$(printf '\\033]2;PWNED\\007')\" \"$(printf '\\033[2J\\033[H\\033[5m')\" "
        "\"$(printf 'two\\nlines')\"; sleep 30",
        width=200,
    )
    screen = tmux.wait_for("clock_nanosleep")
    assert _pane_title(tmux) == "title-before"
    header = screen.splitlines()[0]
    assert "'\\e]2;PWNED\\x07' '\\e[2J\\e[H\\e[5m' 'two\\nlines'" in header
    rows = [line for line in screen.splitlines() if line.startswith("▼ sh ")]
    assert len(rows) == 1 and "\\e]2;PWNED\\x07" in rows[0]  # the tree row, on one line
    assert not any(line.startswith("lines") for line in screen.splitlines())


def _command_processes(marker: str) -> list[int]:
    """Live processes whose command line is ``sleep <marker>``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if argv[:2] == [b"sleep", marker.encode()] and state not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def _pane_pid(tmux: Tmux) -> int:
    """The pane's process: denet-tui itself, started with ``exec``."""
    out = subprocess.run(
        [*tmux.cmd, "display", "-p", "#{pane_pid}"], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def _gone_within(marker: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _command_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _command_processes(marker)


@pytest.mark.parametrize("how", ["kill-session", "kill-9"])
def test_the_command_never_outlives_denet_tui(tmux: Tmux, how: str) -> None:
    # Background jobs of a shell ignore SIGINT, like a build's compilers in its process group.
    marker = str(3100 + os.getpid() % 800)
    tmux.start(
        f"exec {DENET} run --collector procfs -- "
        f"sh -c 'sleep {marker} & sleep {marker} & sleep {marker}'"
    )
    tmux.wait_for("● running")
    deadline = time.monotonic() + 5
    while len(_command_processes(marker)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_command_processes(marker)) == 3
    try:
        if how == "kill-session":
            tmux.kill()  # the terminal goes away: SIGHUP, and EIO on the tty
        else:
            os.kill(_pane_pid(tmux), signal.SIGKILL)  # no chance to clean up at all
        assert _gone_within(marker, 5.0), f"still running: {_command_processes(marker)}"
    finally:
        for pid in _command_processes(marker):
            os.kill(pid, signal.SIGKILL)


def test_attach_leaves_its_target_running_when_denet_tui_is_killed(tmux: Tmux) -> None:
    victim = subprocess.Popen(["sleep", "60"])
    try:
        tmux.start(f"exec {DENET} attach --collector procfs {victim.pid}")
        tmux.wait_for("● running")
        os.kill(_pane_pid(tmux), signal.SIGKILL)
        tmux.kill()
        time.sleep(1.0)
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


def test_the_guard_is_gone_after_a_clean_exit(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    subprocess.run(
        [str(DENET), "run", "--json", "--out", str(out), "--collector", "procfs", "--", "true"],
        check=True,
        timeout=30,
    )
    # The guard is a fork of denet-tui: same command line, so the unique path finds it.
    left = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if str(out).encode() in f.read():
                        left.append(int(entry.name))
            except OSError:
                continue
    assert left == []


def _markers(marker: str) -> list[int]:
    return _command_processes(marker)


def test_a_terminal_that_hangs_up_without_sighup_ends_the_run_cleanly(tmp_path: Path) -> None:
    # A pty that is not our controlling terminal: closing its master sends no SIGHUP, the tty
    # just hangs up (as when the program that held it dies).
    import fcntl
    import struct
    import termios
    import threading

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    rec = tmp_path / "rec.jsonl"
    marker = str(4100 + os.getpid() % 800)
    proc = subprocess.Popen(
        [
            str(DENET),
            "run",
            "--collector",
            "procfs",
            "--record",
            str(rec),
            "--",
            "sh",
            "-c",
            f"sleep {marker} & sleep {marker}",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.monotonic() + 15
        while b"running" not in seen and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"running" in seen
        os.close(master)
        proc.wait(timeout=10)  # it notices and leaves, rather than hang forever
        assert _gone_within(marker, 5.0)
        lines = [json.loads(line) for line in rec.read_text().splitlines()]
        assert lines[-1]["kind"] == "end" and lines[-1]["ended_by"] == "quit"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _markers(marker):
            os.kill(pid, signal.SIGKILL)


def test_quit_then_losing_the_terminal_while_stopping_keeps_the_record(
    tmux: Tmux, tmp_path: Path
) -> None:
    rec, export = tmp_path / "rec.jsonl", tmp_path / "last.json"
    marker = str(4900 + os.getpid() % 800)
    # A shell that catches SIGINT and goes on: stopping takes a grace period, during which the
    # terminal goes away.
    tmux.start(
        f"exec {DENET} run --collector procfs --record {rec} --export {export} -- "
        f"sh -c 'trap : INT; while :; do sleep {marker}; done'"
    )
    tmux.wait_for("● running")
    pid = _pane_pid(tmux)
    tmux.keys("q")
    time.sleep(0.7)
    tmux.kill()
    deadline = time.monotonic() + 15
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [json.loads(line) for line in rec.read_text().splitlines()]
    assert lines[-1]["kind"] == "end" and lines[-1]["ended_by"] == "quit"
    assert json.loads(export.read_text())["kind"] == "snapshot"
    assert _gone_within(marker, 5.0)


@pytest.mark.parametrize("after", [0.1, 0.3])
def test_a_terminal_gone_while_the_screen_starts_never_leaves_denet_tui_hanging(
    after: float,
) -> None:
    # The hang-up lands while Textual sets the terminal up: denet-tui must still leave, and
    # take the command with it (it used to spin on the dead tty forever, deaf to signals).
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    marker = str(5900 + os.getpid() % 80 + int(after * 10))
    proc = subprocess.Popen(
        [str(DENET), "run", "--collector", "procfs", "--", "sleep", marker],
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    time.sleep(after)
    os.close(master)
    try:
        proc.wait(timeout=15)
        assert _gone_within(marker, 5.0)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _command_processes(marker):
            os.kill(pid, signal.SIGKILL)
