"""Every process's final figures come from the kernel's exit record (taskstats), however short
it lived; checked against what the processes and their parent measured themselves."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from .conftest import BURNERS, denet_as_nobody, every_process, run_json, snapshots

COLLECTORS = ["procfs", pytest.param("ebpf", marks=pytest.mark.ebpf)]

# A child that touches 200 MiB, then says its own peak (VmHWM) just before it exits.
TOUCH = """
import sys
b = bytearray(200 * 1024 * 1024)
for i in range(0, len(b), 4096):
    b[i] = 1
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0].split()[1]
open(sys.argv[1], "w").write(hwm)
"""


@pytest.mark.parametrize("collector", COLLECTORS)
def test_short_burners_cpu_equals_what_their_parent_waited_for(
    collector: str, tmp_path: Path
) -> None:
    truth_file = tmp_path / "rusage.json"
    code, lines, err = run_json(
        "run", "--json", "--collector", collector, "--", sys.executable, "-c", BURNERS,
        str(truth_file),
    )  # fmt: skip
    assert code == 0, err
    truth = json.loads(truth_file.read_text())
    assert snapshots(lines)[-1]["diagnostics"]["exit_records_lost"] == 0
    burners = [p for p in every_process(lines) if p["name"] == "sh"]
    n = len(burners)
    assert n == 20
    assert all(p["cpu_time_s"] is not None and p["peak_rss_bytes"] for p in burners)
    cpu = sum(p["cpu_time_s"] for p in burners)
    # The exit record is written before the process frees its memory and closes its files: that
    # teardown (1-3 ms a shell here) is in getrusage, not in the record. Never more than the
    # truth; never short of it by more than the teardowns.
    assert truth["cpu"] - 0.004 * n - 0.005 <= cpu <= truth["cpu"] * 1.001, (cpu, truth)
    # The user/system split is the kernel's (its rule for getrusage: the exact total in the
    # tick-sampled ratio), so the two add up to the total; the teardown missing from the record
    # is counted wherever the kernel's ratio puts it.
    user = sum(p["cpu_user_s"] for p in burners)
    system = sum(p["cpu_system_s"] for p in burners)
    assert user + system == pytest.approx(cpu, rel=1e-6)
    assert abs(user - truth["user"]) <= 0.004 * n + 0.005, (user, truth)
    assert abs(system - truth["system"]) <= 0.004 * n + 0.005, (system, truth)
    # Likewise a task's last switch (off the CPU, for good) comes after its record (the sched
    # family counts it); the parent counts it only if it was done before the parent reaped the
    # child (a race): one each at most, either way.
    switches = sum(p["ctx_voluntary"] for p in burners)
    assert truth["nvcsw"] - n <= switches <= truth["nvcsw"] + n, (switches, truth)


@pytest.mark.parametrize("collector", COLLECTORS)
def test_peak_memory_of_a_child_is_its_own_high_water_mark(collector: str, tmp_path: Path) -> None:
    hwm_file = tmp_path / "hwm"
    script = f"{sys.executable} -c '{TOUCH}' {hwm_file}; /bin/true; sh -c 'kill -9 $$'; true"
    code, lines, err = run_json("run", "--json", "--collector", collector, "--", "sh", "-c", script)
    assert code == 0, err
    everyone = every_process(lines)
    (toucher,) = [p for p in everyone if p["name"].startswith("python")]
    own = int(hwm_file.read_text()) * 1024
    assert toucher["peak_rss_bytes"] == pytest.approx(own, rel=0.02)
    # `true` lives about a millisecond: its figures are there all the same.
    trues = [p for p in everyone if p["name"] == "true"]
    assert trues and all(p["peak_rss_bytes"] and p["minor_faults"] for p in trues), trues
    # A process killed by a signal: its status, as the shell tells it (128 + 9).
    (killed,) = [p for p in everyone if p["exit_code"] == 137]
    assert killed["name"] == "sh" and killed["pid"] != snapshots(lines)[0]["target"]["pid"]


@pytest.mark.parametrize("collector", COLLECTORS)
def test_a_reaped_childs_writes_are_counted_once(collector: str, tmp_path: Path) -> None:
    # A child writes 40 MiB (fsync) and says what its own /proc/self/io counted; the shell
    # reaps it and sleeps. The shell's /proc/PID/io then holds the child's bytes too.
    out, said = tmp_path / "data", tmp_path / "io"
    writer = (
        "import os\nf = open(os.environ['OUT'], 'wb')\nf.write(b'x' * (40 << 20))\n"
        "f.flush(); os.fsync(f.fileno()); f.close()\n"
        "open(os.environ['SAID'], 'w').write(open('/proc/self/io').read())"
    )
    script = f'OUT={out} SAID={said} {sys.executable} -c "{writer}"; sleep 1.2'
    code, lines, err = run_json(
        "run", "--json", "--interval", "0.25", "--collector", collector, "--", "sh", "-c", script
    )
    assert code == 0, err
    own = dict(line.split(": ") for line in said.read_text().splitlines())
    child_wrote = int(own["wchar"])
    assert child_wrote >= 40 << 20
    totals = [s["totals"]["write_chars"] for s in snapshots(lines)]
    assert totals[-1] == pytest.approx(child_wrote, rel=0.01, abs=64 * 1024), totals
    assert totals == sorted(totals)  # never down
    # Once the child is gone, no interval shows write traffic: the shell only sleeps.
    (gone,) = [  # the snapshot that lists it ended (it may never have been seen alive)
        i
        for i, s in enumerate(snapshots(lines))
        if any(p["name"].startswith("python") and not p["alive"] for p in s["processes"])
    ]
    assert totals[-1] - totals[gone] < 64 * 1024, totals


# Twice as many CPU-bound children as CPUs: each waits for a CPU about half the time, and
# says its own run-queue wait (/proc/self/schedstat, second field) just before it exits.
CROWD = """
import os, subprocess, sys, time
burn = (
    "import os, sys, time\\n"
    "t = time.monotonic()\\n"
    "while time.monotonic() - t < 1.5: pass\\n"
    "open(sys.argv[1] + '/' + str(os.getpid()), 'w').write(open('/proc/self/schedstat').read())"
)
n = 2 * len(os.sched_getaffinity(0))
kids = [subprocess.Popen([sys.executable, "-c", burn, sys.argv[1]]) for _ in range(n)]
for k in kids:
    k.wait()
"""


@pytest.mark.parametrize("collector", COLLECTORS)
def test_waiting_for_a_cpu_is_each_process_own_run_queue_time(
    collector: str, tmp_path: Path
) -> None:
    code, lines, err = run_json(
        "run", "--json", "--collector", collector, "--", sys.executable, "-c", CROWD, str(tmp_path)
    )  # fmt: skip
    assert code == 0, err
    said = {int(f.name): int(f.read_text().split()[1]) / 1e9 for f in tmp_path.iterdir()}
    assert len(said) == 2 * len(os.sched_getaffinity(0))
    everyone = {p["pid"]: p for p in every_process(lines)}
    for pid, own in said.items():
        p = everyone[pid]
        wall = p["end_ts"] - p["start_ts"] if p["end_ts"] else 1.5
        assert own > 0.3 * wall  # crowded, as meant
        # Its figure at exit (the exit record) is taken just after it read its own.
        assert p["runq_wait_s"] == pytest.approx(own, rel=0.05, abs=0.01), (p, own)
    # While they ran, the tree's share of time waiting for a CPU showed it.
    runq = [s["totals"]["runq_wait_s"] for s in snapshots(lines)]
    assert runq == sorted(runq) and runq[-1] >= sum(said.values())


# The root itself: it burns CPU after touching 100 MiB, then says its own figures.
ROOT = """
import resource, sys, time
b = bytearray(100 * 1024 * 1024)
for i in range(0, len(b), 4096):
    b[i] = 1
t = time.process_time()
while time.process_time() - t < 0.3:
    pass
del b  # freed now, not after we measure ourselves
me = resource.getrusage(resource.RUSAGE_SELF)
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0].split()[1]
open(sys.argv[1], "w").write(f"{me.ru_utime + me.ru_stime} {hwm}")
"""


@pytest.mark.parametrize("collector", COLLECTORS)
def test_the_roots_final_figures_are_its_own_at_exit(collector: str, tmp_path: Path) -> None:
    said = tmp_path / "said"
    code, lines, err = run_json(
        "run", "--json", "--collector", collector, "--", sys.executable, "-c", ROOT, str(said)
    )  # fmt: skip
    assert code == 0, err
    cpu, hwm = said.read_text().split()
    (root,) = [p for p in snapshots(lines)[-1]["processes"] if not p["alive"]]
    # At exit: what it measured, plus writing the file and Python's own shutdown.
    assert float(cpu) <= root["cpu_time_s"] <= float(cpu) + 0.05, (root, cpu)
    assert root["peak_rss_bytes"] == pytest.approx(int(hwm) * 1024, rel=0.02), root
    assert root["cmdline"][1:] == ["-c", ROOT, str(said)]  # its own, never ours


def test_without_exit_records_an_ended_process_keeps_its_last_reading() -> None:
    # As nobody: no exit records, and a zombie's task I/O is closed to us; the root's bytes
    # read while it ran stay its final figures (never turned into null).
    proc = denet_as_nobody(
        "run", "--json", "--interval", "0.2", "--", "sh", "-c",
        "head -c 5000 /etc/services >/dev/null; sleep 0.6",
        timeout=60,
    )  # fmt: skip
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    snaps = snapshots(lines)
    assert proc.returncode == 0, proc.stderr
    assert "needs CAP_NET_ADMIN" in snaps[-1]["diagnostics"]["exit_records"]
    root = lines[0]["target"]["pid"]
    readings = [p["read_chars"] for s in snaps for p in s["processes"] if p["pid"] == root]
    assert readings[-1] is not None and readings[-1] == max(readings) > 0, readings


# /usr/bin/time -v around a tree: a child touching 60 MiB and ten short shells.
TIMED = (
    "python3 -c 'b = bytearray(60 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1'; "
    "for i in 1 2 3 4 5 6 7 8 9 10; do sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done'; "
    "done"
)


def time_v(path: Path) -> dict[str, float]:
    """``/usr/bin/time -v``'s figures by their label."""
    out = {}
    for line in path.read_text().splitlines():
        label, _, value = line.strip().rpartition(": ")
        try:
            out[label] = float(value)
        except ValueError:
            continue
    return out


@pytest.mark.parametrize("collector", COLLECTORS)
def test_the_tree_totals_equal_usr_bin_time_v(collector: str, tmp_path: Path) -> None:
    truth_file = tmp_path / "time-v.txt"
    code, lines, err = run_json(
        "run", "--json", "--collector", collector, "--",
        "/usr/bin/time", "-v", "-o", str(truth_file), "sh", "-c", TIMED,
    )  # fmt: skip
    assert code == 0, err
    truth = time_v(truth_file)
    end = lines[-1]
    assert end["kind"] == "end"
    t = end["totals"]
    # time -v's maximum RSS is its largest child's: ours, the largest process of the tree.
    assert t["peak_rss_max_bytes"] == pytest.approx(
        truth["Maximum resident set size (kbytes)"] * 1024, rel=0.02
    )
    assert t["rss_sum_peak_bytes"] >= t["peak_rss_max_bytes"]
    # Ours include /usr/bin/time itself (a small C program), time -v's only its children; an
    # exit record misses each process's teardown after it (1-3 ms here: see the README).
    cpu = truth["User time (seconds)"] + truth["System time (seconds)"]
    assert cpu - 0.003 * t["processes_seen"] - 0.02 <= t["cpu_time_s"] <= cpu * 1.05 + 0.05
    # The kernel's split of each process's total (its rule for getrusage), so the two add up;
    # time -v prints them to 10 ms.
    assert t["cpu_user_s"] + t["cpu_system_s"] == pytest.approx(t["cpu_time_s"], rel=1e-6)
    user = truth["User time (seconds)"]
    assert abs(t["cpu_user_s"] - user) <= 0.003 * t["processes_seen"] + 0.03
    minor = truth["Minor (reclaiming a frame) page faults"]
    assert minor <= t["minor_faults"] <= minor * 1.02 + 300
    assert t["major_faults"] >= truth["Major (requiring I/O) page faults"]
    # Exit records miss each process's last voluntary switch (the one inside exit): at most one
    # per process fewer; /usr/bin/time's own add a few.
    vol = truth["Voluntary context switches"]
    assert vol - t["processes_seen"] <= t["ctx_voluntary"] <= vol + 20
    # /proc counts no syscalls (sampled); read/write call counts of processes /proc never read
    # are null (the exit record rounds them down to a multiple of 1,024), and so are their I/O
    # bytes where the record says 0 (under 1,024): left out, and said. Time asleep and in D of
    # processes the thread sampler never read (ended within 0.1 s) are null too (/proc only).
    sampled = {"sleeping_s", "uninterruptible_s"} if collector == "procfs" else set()
    rounded = {"read_syscalls", "write_syscalls", "read_chars", "write_chars"}
    assert not set(t["unknown"]) - {"syscalls", *rounded, *sampled}


# Three threads each write 8 MiB (fsync) and say what their own /proc/thread-self/io and
# status counted, then end; the process sleeps on through two more readings.
THREADS_END = """
import json, os, sys, threading, time
said = {}
def work(i):
    with open(f"{sys.argv[1]}.{i}", "wb") as f:
        f.write(b"x" * (8 << 20))
        f.flush()
        os.fsync(f.fileno())
    time.sleep(0.6)  # read alive at least once
    io = dict(ln.split(": ") for ln in open("/proc/thread-self/io").read().splitlines())
    st = dict(ln.split(":", 1) for ln in open("/proc/thread-self/status"))
    said[i] = (int(io["wchar"]), int(st["voluntary_ctxt_switches"]))
ts = [threading.Thread(target=work, args=(i,)) for i in range(3)]
for t in ts: t.start()
for t in ts: t.join()
json.dump(list(said.values()), open(sys.argv[1], "w"))
time.sleep(1.2)
"""


@pytest.mark.parametrize("collector", COLLECTORS)
def test_a_live_process_keeps_the_figures_of_its_ended_threads(
    collector: str, tmp_path: Path
) -> None:
    said = tmp_path / "said"
    code, lines, err = run_json(
        "run", "--json", "--interval", "0.25", "--collector", collector,
        "--", sys.executable, "-c", THREADS_END, str(said),
    )  # fmt: skip
    assert code == 0, err
    threads = json.loads(said.read_text())
    wrote = sum(w for w, _ in threads)
    mine = [p for s in snapshots(lines) for p in s["processes"] if p["name"].startswith("python")]
    for key in ("write_chars", "ctx_voluntary"):
        seen = [p[key] for p in mine]
        assert seen == sorted(seen), (key, seen)  # never down, as threads end
    # Alive, after its threads ended: at least what they wrote, not only the main thread's.
    after = [p for p in mine if p["alive"] and p["threads"] == 1 and p["write_chars"] > 0]
    assert after and after[-1]["write_chars"] >= wrote, (after[-1:], wrote)
    if collector == "ebpf":  # every switch, to each thread's last (/proc: its last reading)
        assert after[-1]["ctx_voluntary"] >= sum(v for _, v in threads)


@pytest.mark.parametrize("collector", COLLECTORS)
def test_an_exit_143_is_not_a_death_by_sigterm(collector: str) -> None:
    script = 'sh -c "exit 143"; sleep 5 & sleep 0.3; kill -TERM $!; wait; exit 3'
    code, lines, err = run_json(
        "run", "--json", "--interval", "0.25", "--collector", collector, "--", "sh", "-c", script
    )
    assert code == 3, err
    ended = sorted(
        (p["name"], p["exit_code"], p["killed_by_signal"])
        for s in snapshots(lines)
        for p in s["processes"]
        if not p["alive"] and p["pid"] != s["target"]["pid"]
    )
    # The inner sh by itself, the short sleep, the killed one.
    assert ended == [("sh", 143, None), ("sleep", 0, None), ("sleep", 143, 15)], ended
    root = snapshots(lines)[-1]["processes"][0]
    assert (root["exit_code"], root["killed_by_signal"]) == (3, None)


@pytest.mark.parametrize("collector", COLLECTORS)
def test_a_peak_starts_anew_at_an_exec(collector: str, tmp_path: Path) -> None:
    """A process that touched 100 MiB, then exec'd sh: sh's peak is sh's (its own VmHWM), not
    the earlier program's read by /proc before the exec (a trial: 12 MB for a 1.7 MB sh)."""
    said = tmp_path / "hwm"
    grow = (
        "import os, sys, time\nb = bytearray(100 << 20)\nb[::4096] = b'x' * len(b[::4096])\n"
        "time.sleep(0.6)\n"
        "os.execv('/bin/sh', ['sh', '-c', 'grep VmHWM /proc/$$/status > ' + sys.argv[1]])"
    )
    code, lines, err = run_json(
        "run", "--json", "--interval", "0.25", "--collector", collector,
        "--", sys.executable, "-c", grow, str(said),
    )  # fmt: skip
    assert code == 0, err
    own = int(said.read_text().split()[1]) * 1024
    root = snapshots(lines)[-1]["target"]["pid"]
    mine = [p for s in snapshots(lines) for p in s["processes"] if p["pid"] == root]
    assert any(p["peak_rss_bytes"] > 100 << 20 for p in mine)  # python, read while it ran
    sh = mine[-1]
    assert sh["name"] == "sh" and not sh["alive"]
    assert sh["peak_rss_bytes"] == pytest.approx(own, rel=0.25), (sh["peak_rss_bytes"], own)
