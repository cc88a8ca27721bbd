"""The /proc collector on real commands, through the real `denet-tui run --json`."""

from __future__ import annotations

import sys

from .conftest import run_json, snapshots

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
        "families": {"syscalls": "sampled", "exits": "exact"},  # root: exit records too
    }
    summary = snapshots(lines)[-1]["syscalls"]
    assert summary["total"] is None  # sampled: no invented counts
    assert summary["by_category"]["time"]["share"] > 0.9
    assert summary["by_name"]["clock_nanosleep"]["samples"] > 50
    assert summary["by_name"]["clock_nanosleep"]["count"] is None
    diag = snapshots(lines)[-1]["diagnostics"]
    assert diag["sample_hz"] > 20 and diag["sampler_cpu_percent"] <= 6.0
