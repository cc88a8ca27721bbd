"""Every process keeps the command line of its exec, read by the kernel at the exec, even when
it lived too briefly for /proc to read it; what does not fit is cut, visibly."""

from __future__ import annotations

from denet_tui.collectors.ebpf.layout import ARGV_BYTES, ARGV_MAX

from .helpers import every_process, run_collected

LONG = "x" * (ARGV_BYTES + 100)


def test_short_lived_processes_keep_their_arguments() -> None:
    script = (
        "for i in $(seq 60); do /bin/true alpha 'b c' $i; done; "
        f"/bin/echo {LONG} >/dev/null; /bin/true $(seq {ARGV_MAX + 5}); "
        "nosuchcommand 2>/dev/null; exit 0"
    )
    _, snaps = run_collected(["sh", "-c", script])
    procs = every_process(snaps)
    trues = sorted(
        (p.cmdline for p in procs if p.name == "true" and len(p.cmdline) == 4),
        key=lambda c: int(c[3]),
    )
    assert trues == [("/bin/true", "alpha", "b c", str(i)) for i in range(1, 61)]
    echo = next(p for p in procs if p.name == "echo")
    assert echo.cmdline[0] == "/bin/echo" and echo.cmdline[1].endswith("…")
    assert echo.cmdline[1].rstrip("…") == "x" * (ARGV_BYTES - 1)  # cut where the limit is
    many = next(p.cmdline for p in procs if p.name == "true" and len(p.cmdline) > 4)
    assert len(many) == ARGV_MAX and many[-1] == f"{ARGV_MAX - 1}…"
    # An exec that failed is not one: no process takes the arguments it tried.
    assert not [p for p in procs if p.cmdline[:1] == ("nosuchcommand",)]


def test_a_root_that_execs_another_program_shows_that_program_s_arguments() -> None:
    """The command we ran is the root's command line only while it runs that program: after
    its own exec, and ended before /proc read it again, it showed python's (a trial)."""
    import sys

    reexec = "import os; os.execv('/bin/sh', ['sh', '-c', 'exit 0'])"
    last, snaps = run_collected([sys.executable, "-c", reexec])
    root = [p for s in snaps for p in s.processes if p.pid == last.target.pid]
    assert root[-1].name == "sh" and not root[-1].alive
    assert root[-1].cmdline == ("sh", "-c", "exit 0")


def test_a_process_that_renames_itself_keeps_its_arguments() -> None:
    """PR_SET_NAME is no exec: the exit record's other name does not make its arguments
    another program's (a trial: the root's command line was empty at its end, and Finished
    counted it as 'worker')."""
    import sys

    rename = "import ctypes, time; ctypes.CDLL(None).prctl(15, b'worker', 0, 0, 0); time.sleep(0.3)"
    last, snaps = run_collected([sys.executable, "-c", rename])
    root = [p for s in snaps for p in s.processes if p.pid == last.target.pid][-1]
    assert not root.alive and root.name == "worker"
    assert root.cmdline == (sys.executable, "-c", rename)


def test_a_fork_that_never_execs_has_its_parent_s_arguments() -> None:
    """A subshell that ends before /proc reads it had no command line; its memory, arguments
    included, is its parent's copy."""
    script = "(exit 3); (exit 4); true"
    _, snaps = run_collected(["sh", "-c", script])
    subshells = [p for p in every_process(snaps) if p.exit_code in (3, 4)]
    assert len(subshells) == 2
    assert all(p.cmdline == ("sh", "-c", script) for p in subshells), subshells
