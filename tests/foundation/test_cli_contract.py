"""Exit statuses, one-line errors, attach never harms, schema of real output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import denet_as_nobody, run_json, snapshots

RUN = ("run", "--json", "--collector", "procfs", "--interval", "0.25", "--")


def test_exit_status_passes_through() -> None:
    assert run_json(*RUN, "sh", "-c", "exit 3")[0] == 3


def test_killed_by_signal_is_128_plus_n() -> None:
    code, lines, _ = run_json(*RUN, "sh", "-c", "kill -TERM $$")
    assert code == 128 + signal.SIGTERM
    assert lines[-1]["status"] == "killed" and lines[-1]["signal"] == signal.SIGTERM


def test_missing_command_is_127_with_one_line() -> None:
    code, lines, err = run_json(*RUN, "no-such-command-xyz")
    assert code == 127 and lines == []
    assert err.strip().splitlines() == ["denet-tui: command not found: no-such-command-xyz"]


def test_not_executable_is_126(tmp_path) -> None:
    f = tmp_path / "script"
    f.write_text("#!/bin/sh\n")
    code, _, err = run_json(*RUN, str(f))
    assert code == 126 and len(err.strip().splitlines()) == 1


def test_bad_pids_are_2() -> None:
    for pid in ("999999999", "abc", "0"):
        code, _, err = run_json("attach", "--json", pid)
        assert code == 2, pid
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    # Without a terminal for the screen too: the process that is not there is said first.
    proc = subprocess.run(
        [sys.executable, "-m", "denet_tui", "attach", "999999999"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.strip() == "denet-tui: no such process: 999999999"


def test_probe_families_with_the_proc_collector_are_refused() -> None:
    code, lines, err = run_json(
        "run", "--json", "--collector", "procfs", "--probes", "exec", "--", "true"
    )
    assert code == 2 and lines == []
    assert "--probes" in err and len(err.strip().splitlines()) == 1


def test_a_thread_id_is_refused_with_its_process() -> None:
    import threading

    ready = threading.Event()
    stop = threading.Event()
    t = threading.Thread(target=lambda: (ready.set(), stop.wait(30)))
    t.start()
    try:
        ready.wait()
        code, _, err = run_json("attach", "--json", "--duration", "1", str(t.native_id))
    finally:
        stop.set()
        t.join()
    assert code == 2
    assert err.strip() == f"denet-tui: {t.native_id} is a thread of process {os.getpid()}: " + (
        f"attach to {os.getpid()}"
    )


def test_command_found_on_path_first(tmp_path) -> None:
    # As strace does: the command is resolved before the gate, so PATH order decides.
    code, lines, _ = run_json(*RUN, "true")
    assert code == 0 and lines[0]["target"]["cmd"] == ["true"]


def test_attach_follows_descendants_and_never_kills(validator) -> None:
    victim = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        time.sleep(0.3)
        code, lines, _ = run_json(
            "attach",
            "--json",
            "--collector",
            "procfs",
            "--interval",
            "0.25",
            "--duration",
            "1",
            str(victim.pid),
        )
        assert code == 0
        for line in lines:
            validator.validate(line)
        names = sorted(p["name"] for p in snapshots(lines)[-1]["processes"])
        assert names == ["sh", "sleep", "sleep"]
        assert victim.poll() is None, "attach must never stop the target"
    finally:
        subprocess.run(["pkill", "-P", str(victim.pid)], check=False)
        victim.kill()
        victim.wait()


def test_sigint_stops_the_command_gracefully_and_passes_status() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "denet_tui", *RUN, "sleep", "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    end = json.loads(out.splitlines()[-1])
    assert end["kind"] == "end" and end["status"] == "killed" and end["signal"] == signal.SIGINT
    assert proc.returncode == 130


def test_real_output_matches_schema_and_export(tmp_path, validator) -> None:
    out, export = tmp_path / "o.jsonl", tmp_path / "e.json"
    code, _, _ = run_json(
        "run",
        "--json",
        "--collector",
        "procfs",
        "--interval",
        "0.2",
        "--out",
        str(out),
        "--export",
        str(export),
        "--",
        "sh",
        "-c",
        "ls / >/dev/null; sleep 0.5",
    )
    assert code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [d["kind"] for d in lines][0] == "meta" and lines[-1]["kind"] == "end"
    for line in lines:
        validator.validate(line)
    exported = json.loads(export.read_text())
    validator.validate(exported)
    assert exported["meta"]["kind"] == "meta" and exported["t"] == lines[-2]["t"]


def test_duration_stops_a_run_command_and_says_time_limit() -> None:
    # Reported as a time limit (exit 124, as timeout(1)), not as if the user had pressed ctrl+c.
    t0 = time.monotonic()
    code, lines, err = run_json(*RUN[:-1], "--duration", "0.6", "--", "sleep", "30")
    assert time.monotonic() - t0 < 10
    assert code == 124 and lines[-1]["kind"] == "end"
    assert lines[-1]["ended_by"] == "time_limit"
    assert lines[-1]["status"] == "killed" and lines[-1]["signal"] == signal.SIGINT
    assert err.strip().splitlines() == [
        "denet-tui: time limit reached (--duration 0.6 s): the command was stopped"
    ]


def test_duration_after_the_command_ended_keeps_its_status() -> None:
    code, lines, _ = run_json(*RUN[:-1], "--duration", "5", "--", "sh", "-c", "exit 3")
    assert code == 3 and lines[-1]["ended_by"] == "finished"


def test_background_jobs_are_watched_until_they_end(tmp_path) -> None:
    # The root exits at once; its background job runs on for a second: both are watched.
    code, lines, _ = run_json(*RUN, "sh", "-c", "sleep 1.2 & exit 0")
    snaps = snapshots(lines)
    assert code == 0 and lines[-1]["ended_by"] == "finished"
    after_root = [s for s in snaps if s["target"]["status"] == "exited"]
    assert len(after_root) >= 3  # 0.25 s apart while the job ran
    # (In the first of them the job may not have exec'd `sleep` yet: the root lives 1 ms.)
    assert any(p["name"] == "sleep" and p["alive"] for s in after_root for p in s["processes"])
    assert not any(p["alive"] for p in snaps[-1]["processes"])
    # --exit-with-root: done when the root ends; what is left of its group is stopped.
    code, lines, _ = run_json(*RUN[:-1], "--exit-with-root", "--", "sh", "-c", "sleep 5 & exit 0")
    assert code == 0 and lines[-1]["ended_by"] == "root_exited"
    assert [s["target"]["status"] for s in snapshots(lines)][-1] == "exited"
    assert not any(p["alive"] for p in snapshots(lines)[-1]["processes"])


def test_attach_2_quits_with_130_and_time_limit_with_0() -> None:
    victim = subprocess.Popen(["sleep", "30"])
    try:
        code, lines, _ = run_json(
            "attach", "--json", "--collector", "procfs", "--duration", "0.5", str(victim.pid)
        )
        assert code == 0 and lines[-1]["ended_by"] == "time_limit"
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


def test_interval_below_50_ms_is_refused() -> None:
    code, lines, err = run_json("run", "--json", "--interval", "0.01", "--", "true")
    assert code == 2 and lines == []
    assert "at least 0.05 s between snapshots" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1  # one line, not a usage block


def test_unreadable_figures_are_null_with_a_reason() -> None:
    # As nobody, a root process's /proc/PID/io and thread syscall files are refused.
    victim = subprocess.Popen(["sleep", "30"])
    try:
        proc = denet_as_nobody(
            "attach",
            "--json",
            "--collector",
            "procfs",
            "--interval",
            "0.3",
            "--duration",
            "0.7",
            str(victim.pid),
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        last = [json.loads(x) for x in proc.stdout.splitlines()][-2]
        p = last["processes"][0]
        assert p["read_bytes"] is None and p["write_syscalls"] is None
        assert "permission denied" in p["null_reasons"]["read_bytes"]
        assert p["rss_bytes"] > 0 and p["cpu_time_s"] is not None  # still readable
        assert last["diagnostics"]["thread_samples_denied"] > 0
        assert last["syscalls"]["by_name"] == {}
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.parametrize("collector", ["procfs", pytest.param("ebpf", marks=pytest.mark.ebpf)])
def test_attach_to_a_tree_that_contains_denet_tui_leaves_it_out(collector: str) -> None:
    # The shell attaches to itself: denet-tui (its child) is inside the watched tree. The
    # sleep lasts until denet-tui is done, however long loading the collector takes.
    script = (
        f"{sys.executable} -m denet_tui attach --json --collector {collector} "
        "--interval 0.3 --duration 1 $$ & D=$!; echo $D; sleep 60 & S=$!; wait $D; kill $S"
    )
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)
    first, *rest = proc.stdout.splitlines()
    denet = int(first)
    lines = [json.loads(line) for line in rest]
    pids = {p["pid"] for s in snapshots(lines) for p in s["processes"]}
    names = {p["name"] for s in snapshots(lines) for p in s["processes"]}
    assert lines[0]["kind"] == "meta" and pids, proc.stderr
    assert denet not in pids and "sleep" in names
    assert not any("python" in n for n in names)


def test_attach_to_denet_tui_itself_is_refused() -> None:
    proc = subprocess.run(
        ["sh", "-c", f"exec {sys.executable} -m denet_tui attach --json $$"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "is denet-tui itself" in proc.stderr
