"""End to end: the real `denet-tui run` in a real terminal (tmux), read off the screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.functional.tmux import DENET, Tmux, wait_for_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_run_shows_the_tree_keeps_output_off_screen_and_q_stops_the_command(
    tmux: Tmux, tmp_path: Path
) -> None:
    rec, rc = tmp_path / "rec.jsonl", tmp_path / "rc"
    # printf assembles the line, so the command line on screen does not contain it.
    script = 'printf "hello-%s\\n" from-the-command; exec sleep 60'
    tmux.start(
        f"{DENET} run --collector procfs --interval 0.5 --record {rec} -- sh -c '{script}';"
        f" echo $? > {rc}; sleep 30"
    )
    screen = tmux.wait_for("clock_nanosleep")  # the command, exec'd into sleep, is sampled
    assert any(line.startswith("sleep ") for line in screen.splitlines())  # and in the tree
    assert "● running" in screen
    assert "/proc · sampled" in screen
    assert "hello-from-the-command" not in screen  # its output never lands on our screen
    tmux.keys("o")  # … it is in the output pane
    tmux.wait_for("hello-from-the-command")
    tmux.keys("q")
    deadline = time.monotonic() + 10
    while not rc.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rc.read_text().strip() == "130"  # stopped with SIGINT: 128 + 2
    lines = [json.loads(line) for line in rec.read_text().splitlines()]
    assert lines[0]["kind"] == "meta" and lines[-1]["kind"] == "end"
    assert lines[-1]["status"] == "killed" and lines[-1]["signal"] == 2


def test_the_screen_stays_open_with_the_exit_status(tmux: Tmux, tmp_path: Path) -> None:
    rc = tmp_path / "rc"
    tmux.start(
        f"{DENET} run --collector procfs --interval 0.5 -- sh -c 'exit 3'; echo $? > {rc}; sleep 30"
    )
    tmux.wait_for("exited with code 3")
    time.sleep(0.5)
    assert not rc.exists()  # still open, for the user to read and export
    tmux.keys("q")
    deadline = time.monotonic() + 10
    while not rc.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rc.read_text().strip() == "3"


def test_attach_then_q_leaves_the_process_alone(tmux: Tmux, tmp_path: Path) -> None:
    victim = subprocess.Popen(["sleep", "60"])
    try:
        rc = tmp_path / "rc"
        tmux.start(f"{DENET} attach --collector procfs {victim.pid}; echo $? > {rc}; sleep 30")
        screen = tmux.wait_for("● running")
        assert f"pid {victim.pid} (attached)" in screen
        tmux.keys("q")
        deadline = time.monotonic() + 10
        while not rc.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rc.read_text().strip() == "0"
        assert victim.poll() is None  # still running
    finally:
        victim.kill()
        victim.wait()


def test_sigterm_closes_cleanly_and_writes_the_export(tmux: Tmux, tmp_path: Path) -> None:
    rc, export = tmp_path / "rc", tmp_path / "last.json"
    tmux.start(
        f"{DENET} run --collector procfs --export {export} -- sleep 60; echo $? > {rc}; sleep 30"
    )
    tmux.wait_for("● running")
    pane = subprocess.run(
        [*tmux.cmd, "display", "-p", "#{pane_pid}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", pane], capture_output=True, text=True, check=True
    )
    (denet,) = children.stdout.split()
    os.kill(int(denet), 15)
    deadline = time.monotonic() + 10
    while not rc.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rc.read_text().strip() == "130"  # the command was stopped with SIGINT
    data = json.loads(export.read_text())
    assert data["kind"] == "snapshot" and data["target"]["status"] == "killed"


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is not installed")
def test_ebpf_that_cannot_be_armed_exits_2_with_one_line_and_never_runs_the_command(
    tmux: Tmux,
) -> None:
    # As `nobody` eBPF cannot load: the screen is torn down, one line says why, and the gated
    # command never runs. The files live where `nobody` could write (so a run would show).
    shared = Path(tempfile.mkdtemp(prefix="denet-e2e-"))
    try:
        shared.chmod(0o777)
        marker, rc = shared / "ran", shared / "rc"
        tmux.start(
            "setpriv --reuid=65534 --regid=65534 --clear-groups "
            f"{DENET} run --collector ebpf -- touch {marker}; echo $? > {rc}; sleep 30"
        )
        assert wait_for_file(rc) == "2"
        lines = [line for line in tmux.screen().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("denet-tui: ebpf unavailable: not root")
        assert not marker.exists()
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@pytest.mark.ebpf
def test_quit_while_ebpf_is_loading_exits_130_and_never_runs_the_command(
    tmux: Tmux, tmp_path: Path
) -> None:
    marker, rc = tmp_path / "ran", tmp_path / "rc"
    tmux.start(f"{DENET} run --collector ebpf -- touch {marker}; echo $? > {rc}; sleep 30")
    tmux.wait_for("starting: loading eBPF…")  # the screen is up before the BPF compile ends
    tmux.keys("q")
    assert wait_for_file(rc) == "130"
    assert not marker.exists()
    screen = tmux.screen()
    assert "stopping" not in screen  # nothing was started, so nothing to stop
    # The terminal was restored (BCC's compile had fd 2, where the screen is drawn, hidden).
    assert "loading eBPF" not in screen and "denet-tui" not in screen


def test_ctrl_c_quits_like_q(tmux: Tmux, tmp_path: Path) -> None:
    rc = tmp_path / "rc"
    tmux.start(f"{DENET} run --collector procfs -- sleep 60; echo $? > {rc}; sleep 30")
    tmux.wait_for("● running")
    tmux.keys("C-c")
    assert wait_for_file(rc, 10) == "130"  # the command was stopped with SIGINT
    assert "ctrl+q" not in tmux.screen()


def _log_path(tmux: Tmux) -> Path:
    tmux.keys("o")
    screen = tmux.wait_for("command output · ")
    line = next(line for line in screen.splitlines() if "command output · " in line)
    return Path(line.split("command output · ", 1)[1].split()[0].rstrip("─"))


@pytest.mark.parametrize("keep", [False, True])
def test_the_output_log_is_removed_at_exit_unless_kept(
    tmux: Tmux, tmp_path: Path, keep: bool
) -> None:
    rc = tmp_path / "rc"
    option = "--keep-log " if keep else ""
    tmux.start(f"{DENET} run {option}--collector procfs -- sleep 60; echo $? > {rc}; sleep 30")
    tmux.wait_for("● running")
    log = _log_path(tmux)
    assert log.exists() and log.name.startswith("denet-tui-")
    tmux.keys("q")
    wait_for_file(rc)
    try:
        assert log.exists() == keep
        kept = f"denet-tui: the command's output is kept in {log}"
        assert (kept in tmux.screen()) == keep
    finally:
        log.unlink(missing_ok=True)


def test_the_run_root_is_timed_from_the_gate_not_its_fork(tmux: Tmux, tmp_path: Path) -> None:
    """The root is forked before the screen starts and waits at our gate: with /proc, that wait
    counted as its own sleep and its start (a trial: `sleep 2` asleep 2.307 s in a 2.025 s
    run, started 0.341 s before it)."""
    rec, done = tmp_path / "rec.jsonl", tmp_path / "done"
    tmux.start(
        f"{DENET} run --collector procfs --exit-on-finish --record {rec} -- sleep 1.5;"
        f" touch {done}; sleep 30"
    )
    deadline = time.monotonic() + 30
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [json.loads(line) for line in rec.read_text().splitlines()]
    snaps = [d for d in lines if d["kind"] == "snapshot"]
    started = snaps[0]["ts"] - snaps[0]["t"]  # the collector's start: the gate opens after it
    root = [p for d in snaps for p in d["processes"]][-1]
    assert not root["alive"] and root["start_ts"] >= started - 0.01
    wall = root["end_ts"] - root["start_ts"] if root["end_ts"] else 1.6
    assert root["sched"]["sleeping_s"] <= wall + 0.05, (root["sched"], wall)


def test_the_screen_needs_stderr_on_the_terminal(tmux: Tmux, tmp_path: Path) -> None:
    """Textual draws on stderr: with it redirected, the whole screen went into the file (a
    trial). Now one line there, and exit status 2."""
    err, rc = tmp_path / "err", tmp_path / "rc"
    tmux.start(f"{DENET} run --collector procfs -- true 2>{err}; echo $? > {rc}; sleep 30")
    deadline = time.monotonic() + 15
    while not rc.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rc.read_text().strip() == "2"
    (line,) = err.read_text().splitlines()
    assert line.startswith("denet-tui: no terminal for the screen")
