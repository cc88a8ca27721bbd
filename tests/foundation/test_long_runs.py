"""A tree that starts 5,000 processes: each snapshot lists the live and the newly ended, each
ended process once; nothing is lost from the totals and nothing counted twice."""

from __future__ import annotations

import sys

import pytest

from .conftest import run_json, snapshots

pytestmark = pytest.mark.ebpf

HALF = 2500
CHURN = f"for i in $(seq {HALF}); do /bin/true; /bin/echo x >/dev/null; done"


def test_five_thousand_processes_each_reported_once_with_exact_totals(validator) -> None:
    code, lines, err = run_json(
        "run",
        "--collector",
        "ebpf",
        "--interval",
        "0.5",
        "--probes",
        "syscalls",  # (what is checked; the other families would only slow the start)
        "--json",
        "--",
        "sh",
        "-c",
        CHURN,
        timeout=300,
    )
    assert code == 0, err
    for line in lines:
        validator.validate(line)
    snaps = snapshots(lines)
    end = lines[-1]
    assert end["kind"] == "end"

    ended_once: set[tuple[int, float]] = set()
    last: dict[tuple[int, float], dict] = {}
    prev_ts = None
    slack = 0.5
    for s in snaps:
        live = [p for p in s["processes"] if p["alive"]]
        ended = [p for p in s["processes"] if not p["alive"]]
        assert len(live) <= 4, "only the shell, seq and a child or two run at once"
        for p in ended:
            key = (p["pid"], p["start_ts"])
            assert key not in ended_once, f"{key} listed as ended twice"
            ended_once.add(key)
            # It ended in this snapshot's interval (up to one sample's own duration early: on a
            # loaded machine a sample can take longer than the interval).
            if prev_ts is not None:
                assert p["end_ts"] > prev_ts - slack, (p, prev_ts, slack)
            assert p["end_ts"] <= s["ts"]
        for p in s["processes"]:
            key = (p["pid"], p["start_ts"])
            assert key not in ended_once or not p["alive"]
            if p["syscalls"]["by_name"] is not None or key not in last:
                last[key] = p
            else:
                last[key] = {**p, "syscalls": last[key]["syscalls"]}
        prev_ts = s["ts"]
        slack = max(0.5, s["diagnostics"].get("sample_ms", 0) / 1000 + 0.1)

    started = 2 * HALF + 2  # the shell and seq too
    assert len(ended_once) == len(last) == started
    assert end["totals"]["processes_seen"] == started
    # The tree's totals are the sums over every process ever reported: none lost, none twice.
    assert end["syscalls"]["total"] == sum(p["syscalls"]["count"] for p in last.values())
    assert end["totals"]["syscalls"] == end["syscalls"]["total"]
    reads = sum(p["syscalls"]["by_name"].get("read", [0])[0] for p in last.values())
    assert end["syscalls"]["by_name"]["read"]["count"] == reads
    # The summary by command counts every process started, by its command.
    commands = {c["command"]: c for c in end["finished"]["commands"]}
    assert commands["true"]["count"] == HALF and commands["echo"]["count"] == HALF
    # The root: `sh -c "for …"`, a string that begins with a shell keyword.
    assert commands["seq"]["count"] == 1 and commands["sh -c"]["count"] == 1
    assert end["finished"]["processes"] == started
    assert commands["true"]["exit_codes"] == {"0": HALF}
    assert commands["true"]["wall_s_total"] > 0
    # A snapshot is small whatever the length of the run: no line lists more than a handful.
    assert max(len(s["processes"]) for s in snaps) < started / 2
    print(
        f"{len(snaps)} snapshots, largest {max(len(s['processes']) for s in snaps)}",
        file=sys.stderr,
    )
