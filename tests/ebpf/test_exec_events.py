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
