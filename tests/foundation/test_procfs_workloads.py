"""The /proc collector on real commands, through the real `denet-tui run --json`."""

from __future__ import annotations

import json
import sys

import pytest

from .conftest import every_process, run_json, snapshots

PROCFS = ("run", "--json", "--collector", "procfs", "--interval", "0.25", "--")


def py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_cpu_burn_shows_about_one_core() -> None:
    # High priority so a busy machine still gives the burner its core (we are root); the child
    # also prints its own CPU time, which the collector's cumulative figure must match.
    code, lines, err = run_json(
        *PROCFS[:-1],
        "--",
        "nice",
        "-n",
        "-15",
        *py(
            "import time,sys\nt=time.time()\nwhile time.time()-t<2: pass\n"
            "print(time.process_time(), file=sys.stderr)"
        ),
    )
    assert code == 0
    snaps = snapshots(lines)
    peak = max(s["processes"][0]["cpu_percent"] or 0 for s in snaps)
    assert 80 <= peak <= 110, peak
    own_cpu = float(err.strip().splitlines()[-1])
    assert abs(snaps[-1]["processes"][0]["cpu_time_s"] - own_cpu) < 0.1


def test_rss_of_200_mb_touched() -> None:
    code, lines, _ = run_json(
        *PROCFS,
        *py("import time\nb=bytearray(200*2**20)\nb[::4096]=b'x'*len(b[::4096])\ntime.sleep(1)"),
    )
    assert code == 0
    peak = max(s["processes"][0]["rss_bytes"] or 0 for s in snapshots(lines))
    assert peak >= 200 * 2**20, peak


def test_write_bytes_of_50_mb_fsynced(tmp_path) -> None:
    target = tmp_path / "big"
    code, lines, _ = run_json(
        *PROCFS,
        *py(
            f"import os\nf=open({str(target)!r},'wb')\n"
            "for _ in range(50): f.write(b'x'*2**20)\nf.flush(); os.fsync(f.fileno())"
        ),
    )
    assert code == 0
    final = snapshots(lines)[-1]["processes"][0]
    assert final["write_bytes"] >= 50 * 2**20, final["write_bytes"]


def test_read_write_syscalls_are_exact() -> None:
    # dd with bs=1 makes one read and one write per byte, plus a handful of its own.
    code, lines, _ = run_json(
        *PROCFS, "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=20000", "status=none"
    )
    assert code == 0
    p = snapshots(lines)[-1]["processes"][0]
    assert 20000 <= p["read_syscalls"] <= 20050, p["read_syscalls"]
    assert 20000 <= p["write_syscalls"] <= 20050, p["write_syscalls"]
    assert p["syscalls"]["count"] is None and "syscalls" in p["null_reasons"]


def test_tree_with_right_parents() -> None:
    code, lines, _ = run_json(*PROCFS, "sh", "-c", "sleep 1 & sleep 1 & wait")
    assert code == 0
    meta = lines[0]
    procs = {p["pid"]: p for s in snapshots(lines) for p in s["processes"]}
    root = meta["target"]["pid"]
    assert procs[root]["name"] == "sh"
    children = [p for p in procs.values() if p["ppid"] == root]
    assert len(procs) == 3 and len(children) == 2
    assert {p["name"] for p in children} == {"sleep"}
    assert not any(p["alive"] for p in snapshots(lines)[-1]["processes"])


def test_sampled_shares_point_at_the_blocking_syscall() -> None:
    code, lines, _ = run_json(*PROCFS, "sleep", "1.5")
    assert code == 0
    assert lines[0]["collector"] == {
        "name": "procfs",
        "syscalls": "sampled",
        "reason": "procfs requested",
        "share_basis": "samples",
        "families": {  # root: exit records
            "syscalls": "sampled",
            "sched": "sampled",
            "exec": "sampled",
            "files": "sampled",
            "network": "sampled",
            "exits": "exact",
        },
    }
    execs = [e for s in snapshots(lines) for e in s["execs"]]
    assert [e["argv"] for e in execs] == [["sleep", "1.5"]]  # the program the scan saw
    assert execs[0]["path"].endswith("/sleep")
    summary = snapshots(lines)[-1]["syscalls"]
    assert summary["total"] is None  # sampled: no invented counts
    assert summary["by_category"]["time"]["share"] > 0.9
    assert summary["by_name"]["clock_nanosleep"]["samples"] > 50
    assert summary["by_name"]["clock_nanosleep"]["count"] is None
    diag = snapshots(lines)[-1]["diagnostics"]
    assert diag["sample_hz"] > 20 and diag["sampler_cpu_percent"] <= 6.0


# Sleeps 1 s, then writes 64 KiB 3,000 times with O_DIRECT and O_DSYNC (each write waits for
# the disk, in D), then writes its own wall time and schedstat (on a CPU, waiting for one) to
# argv[1]: the rest of its wall time was spent off the CPU, asleep or in D.
OFF_CPU = """
import json, mmap, os, sys, time
t0 = time.monotonic()
time.sleep(1)
fd = os.open(sys.argv[1] + ".data", os.O_WRONLY | os.O_CREAT | os.O_DIRECT | os.O_DSYNC)
block = mmap.mmap(-1, 65536)  # page-aligned, as O_DIRECT needs
for _ in range(3000):
    os.write(fd, block)
on, wait, _ = map(int, open("/proc/self/schedstat").read().split())
json.dump({"pid": os.getpid(), "wall": time.monotonic() - t0, "on": on / 1e9, "wait": wait / 1e9},
          open(sys.argv[1], "w"))
"""


def test_time_asleep_and_in_d_are_sampled_estimates(tmp_path) -> None:
    own = tmp_path / "own"
    code, lines, err = run_json(*PROCFS, *py(OFF_CPU), str(own))
    assert code == 0, err
    assert lines[0]["collector"]["families"]["sched"] == "sampled"
    truth = json.loads(own.read_text())
    (p,) = [p for p in every_process(lines) if p["pid"] == truth["pid"]]
    s = p["sched"]
    # On a CPU and waiting for one: schedstat's (exact); asleep and in D: sampled at ~100 Hz.
    assert s["on_cpu_s"] == pytest.approx(truth["on"], abs=0.02), s
    assert s["waiting_cpu_s"] == pytest.approx(truth["wait"], abs=0.01), s
    off = truth["wall"] - truth["on"] - truth["wait"]
    # Sampled: short waits in D between runs are missed more often on a busy machine.
    assert s["sleeping_s"] + s["uninterruptible_s"] == pytest.approx(off, rel=0.25), (s, truth)
    assert s["sleeping_s"] >= 0.85, s  # the 1 s sleep (found within 0.1 s of its start)
    assert s["uninterruptible_s"] > 0.005, s  # the fsyncs (this machine's disk: ext4 on vda)
    totals = snapshots(lines)[-1]["totals"]
    assert totals["sleeping_s"] >= s["sleeping_s"]


# A server and a client of its own on 127.0.0.1 hold a connection for a second, and a UDP
# socket each (the client's connected to the server's); the root writes the endpoints the
# programs saw to argv[1].
HOLDER = r"""
import json, os, socket, sys, time
srv = socket.create_server(("127.0.0.1", 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
if os.fork() == 0:
    c = socket.create_connection(srv.getsockname())
    cu = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); cu.connect(u.getsockname())
    time.sleep(1.2)
    os._exit(0)
conn, peer = srv.accept()
ends = {"server": os.getpid(), "listen": "%s:%d" % srv.getsockname(),
        "accepted": "%s:%d" % conn.getsockname(), "peer": "%s:%d" % peer,
        "udp": "%s:%d" % u.getsockname()}
json.dump(ends, open(sys.argv[1], "w"))
os.wait()
"""


def test_connections_are_sampled_from_proc(tmp_path) -> None:
    said = tmp_path / "said.json"
    code, lines, _ = run_json(*PROCFS, *py(HOLDER), str(said))
    assert code == 0
    ends = json.loads(said.read_text())
    conns = [c for s in snapshots(lines) for c in s.get("connections") or []]
    first = {(c["direction"], c["local"], c["remote"]): c for c in reversed(conns)}
    assert ("listen", ends["listen"], None) in first
    assert ("unknown", ends["accepted"], ends["peer"]) in first  # the server's side
    assert ("unknown", ends["peer"], ends["accepted"]) in first  # the client's
    assert all(c["rx_bytes"] is None and c["tx_bytes"] is None for c in conns)  # no such count
    assert first["listen", ends["listen"], None]["pid"] == ends["server"]
    udp = {c["local"]: c for c in reversed(conns) if c["protocol"] == "udp"}  # first seen
    assert udp[ends["udp"]]["state"] == "unconnected" and udp[ends["udp"]]["remote"] is None
    client = [c for c in udp.values() if c["remote"] == ends["udp"]]
    assert len(client) == 1 and client[0]["state"] == "connected"
    assert (
        json.loads(lines[0] if isinstance(lines[0], str) else json.dumps(lines[0]))["collector"][
            "families"
        ]["network"]
        == "sampled"
    )
