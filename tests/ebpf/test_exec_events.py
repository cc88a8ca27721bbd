"""The exec family: every exec of the tree as an event, in order, with its exact arguments (or
flagged as cut), its result, and the exit status of the program it started."""

from __future__ import annotations

from denet_tui.collectors.ebpf.layout import ARGV_MAX
from denet_tui.programs import ProgramsLog

from .helpers import every_process, run_collected

# 98 programs with known arguments and exit statuses, one missing program, one with 300 args.
SCRIPT = (
    "for i in $(seq 98); do /bin/sh -c 'exit $(($1 % 7))' sh $i; done; "
    "/no/such/prog x 2>/dev/null; /bin/true $(seq 300); exit 0"
)


def test_every_exec_in_order_with_arguments_results_and_exit_statuses() -> None:
    _, snaps = run_collected(["sh", "-c", SCRIPT])
    execs = [e for s in snaps for e in s.execs]
    # The 100 commands, the root, and the two `seq` of the command substitutions.
    assert len(execs) == 103, [e.argv[:3] for e in execs]
    assert [e.ts for e in execs] == sorted(e.ts for e in execs)
    root, seq98, *shells, missing, seq300, many = execs
    assert seq98.argv == ("seq", "98") and seq300.argv == ("seq", "300")
    assert root.argv == ("sh", "-c", SCRIPT) and root.error is None
    assert [e.argv for e in shells] == [
        ("/bin/sh", "-c", "exit $(($1 % 7))", "sh", str(i)) for i in range(1, 99)
    ]
    assert all(e.error is None and e.path == "/bin/sh" and not e.argv_cut for e in shells)
    assert missing.error == "ENOENT" and missing.path == "/no/such/prog"
    assert missing.argv == ("/no/such/prog", "x")
    assert many.argv_cut and many.argv == ("/bin/true", *map(str, range(1, ARGV_MAX)))
    # Each program's exit status, from its process's end.
    log = ProgramsLog()
    for s in snaps:
        log.add(s)
    ran = {r.event.pid: r for r in log.rows}
    for i, e in enumerate(shells, start=1):
        assert ran[e.pid].exit_code == i % 7, (i, ran[e.pid])
        assert ran[e.pid].duration_s is not None
    assert ran[missing.pid].exit_code is None  # a failed exec starts nothing
    assert sum(1 for p in every_process(snaps) if p.name == "sh") >= 99
    assert snaps[-1].diagnostics["exec_lost"] == 0
    assert snaps[-1].diagnostics["execs_seen"] == 103


def test_the_screen_gets_every_snapshots_events_even_in_a_fast_replay(tmp_path) -> None:
    # A replay hands out snapshots milliseconds apart: none may be dropped for a newer one,
    # or the events (and the processes that ended) of its interval are lost for the screen.
    import asyncio
    import json
    import subprocess
    import sys

    from denet_tui.app import DenetApp
    from denet_tui.collectors.replay import ReplayCollector
    from denet_tui.session import Session

    rec = tmp_path / "rec.jsonl"
    subprocess.run(
        [sys.executable, "-m", "denet_tui", "run", "--json", "--out", str(rec), "--",
         "sh", "-c", "ls / >/dev/null; /no/such 2>/dev/null; true"],
        check=True, capture_output=True,
    )  # fmt: skip
    recorded = sum(len(json.loads(line).get("execs", [])) for line in rec.open())
    assert recorded >= 3  # sh, ls, the failed one

    async def replayed() -> int:
        c = ReplayCollector(str(rec))
        app = DenetApp(Session(meta=c.meta, collector=c, target=None, interval=c.meta.interval))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(1.5)
            return len(app.tables.programs.rows)

    assert asyncio.run(replayed()) == recorded
