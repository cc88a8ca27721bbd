"""The signals family: signals sent inside the tree and into it from outside, each shown with
its sender, target and what came of it."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from .helpers import run_collected

# The root starts a sleeper (the sibling) and a sender; the sender sends SIGUSR1 to the sibling
# and SIGTERM to itself. Then the root waits for a SIGHUP from outside the tree (it writes its
# pid to argv[1] and ignores SIGHUP, so that the outside process can find it and it lives on).
ROOT = r"""
import os, signal, subprocess, sys, time
signal.signal(signal.SIGHUP, signal.SIG_IGN)
sibling = subprocess.Popen(["sleep", "30"])
subprocess.run([sys.executable, "-c",
    "import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGUSR1); "
    "os.kill(os.getpid(), signal.SIGTERM)", str(sibling.pid)])
sibling.wait()
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(1.5)
"""


def test_signals_in_and_into_the_tree(tmp_path: Path) -> None:
    ready = tmp_path / "pid"

    def outsider() -> None:  # our own thread: outside the watched tree
        deadline = time.monotonic() + 20
        while not ready.exists() or not ready.read_text():
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        os.kill(int(ready.read_text()), signal.SIGHUP)

    t = threading.Thread(target=outsider)
    t.start()
    _, snaps = run_collected(
        [sys.executable, "-c", ROOT, str(ready)], probes=frozenset({"signals"})
    )
    t.join()
    sent = [e for s in snaps for e in s.signals if e.kind == "sent"]
    by_signal = {e.signal: e for e in sent}
    usr1, term, hup = by_signal["SIGUSR1"], by_signal["SIGTERM"], by_signal["SIGHUP"]
    assert usr1.sender_in_tree and usr1.target_in_tree and usr1.target_name == "sleep"
    assert usr1.outcome == "delivered" and usr1.sender_pid != usr1.target_pid
    assert term.sender_pid == term.target_pid and term.outcome == "delivered"
    assert not hup.sender_in_tree and hup.sender_pid == os.getpid()
    assert hup.target_in_tree and hup.outcome == "ignored"  # SIG_IGN: the kernel drops it
    taken = {e.target_pid: e for s in snaps for e in s.signals if e.kind == "delivered"}
    # Each fatal signal is taken as SIGKILL; the delivery names the one that was sent.
    assert (taken[usr1.target_pid].signal, taken[usr1.target_pid].outcome) == (
        "SIGKILL",
        "default: fatal SIGUSR1",
    )
    assert taken[term.target_pid].outcome == "default: fatal SIGTERM"
    # The root's SIGCHLD to its parent (the collector's process, outside the tree) is the
    # tree's, although its process was untracked by then.
    (last,) = [e for s in snaps for e in s.signals if e.kind == "sent" and not e.target_in_tree]
    assert (last.signal, last.sender_in_tree, last.target_pid) == ("SIGCHLD", True, os.getpid())
    assert snaps[-1].diagnostics["signals_lost"] == 0


# A signal aimed at one thread of the root, not its first one (pthread_kill).
AT_A_THREAD = r"""
import signal, threading, time
signal.signal(signal.SIGUSR1, lambda *a: None)
t = threading.Thread(target=time.sleep, args=(0.5,))
t.start()
signal.pthread_kill(t.ident, signal.SIGUSR1)
t.join()
"""


@pytest.mark.parametrize("probes", [{"signals", "sched"}, {"signals"}], ids=["kernel", "proc"])
def test_a_signal_to_a_thread_is_named_by_its_process(probes: set[str]) -> None:
    """A thread's tid leads to its process (in the kernel with the sched family, else by the
    thread's /proc entry): such a signal was shown as sent outside the tree, to a pid no
    process has (a trial)."""
    last, snaps = run_collected([sys.executable, "-c", AT_A_THREAD], probes=frozenset(probes))
    (usr1,) = [e for s in snaps for e in s.signals if e.kind == "sent" and e.signal == "SIGUSR1"]
    assert usr1.target_pid == last.target.pid and usr1.target_in_tree
    assert usr1.sender_pid == last.target.pid and usr1.outcome == "delivered"


def test_each_default_action_is_named() -> None:
    """SIGKILL and core-dump signals end a process too (a trial saw plain 'default' for them,
    as for a SIGSTOP)."""
    script = (
        "for s in KILL SEGV TERM; do sleep 5 & sleep 0.2; kill -$s $!; done; "
        "sleep 5 & sleep 0.2; kill -STOP $!; sleep 0.2; kill -CONT $!; sleep 0.2; kill -TERM $!; "
        "wait"
    )
    _, snaps = run_collected(["sh", "-c", script], probes=frozenset({"signals"}))
    taken = [(e.signal, e.outcome) for s in snaps for e in s.signals if e.kind == "delivered"]
    assert ("SIGKILL", "default: fatal SIGKILL") in taken
    assert ("SIGSEGV", "default: fatal SIGSEGV") in taken
    assert ("SIGKILL", "default: fatal SIGTERM") in taken
    assert ("SIGSTOP", "default: stop") in taken
    assert ("SIGCHLD", "default: ignored") in taken or ("SIGCHLD", "handler") in taken
