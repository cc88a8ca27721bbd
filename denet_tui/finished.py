"""Ended processes, folded into a bounded summary per command: "which compile was slowest?"

A command is the executable's name, plus for interpreters and shells the script they run
(``python3 setup.py``, ``sh build.sh``; for ``sh -c`` the first word of its string: ``sh -c
gcc``) and for dispatchers a plain-word subcommand (``git status``, ``make all``): ``cc`` runs of
different files stay one command, and a script's runs are told from other scripts'. At most
:data:`MAX_COMMANDS` distinct commands are kept; the ended processes of any further command are
counted in ``other``.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from denet_tui.model import CommandStats, FinishedSummary, Meta, ProcessSample, Snapshot
from denet_tui.signals import exit_text

MAX_COMMANDS = 1000
RECENT = 300  # ended processes kept one by one (the latest), for views that list processes
SHELLS = frozenset(["sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "busybox"])
# The shell's own words: a string beginning with one (a loop, a test) names no command.
SHELL_WORDS = frozenset(
    ["if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
     "in", "function", "select", "time", "coproc"]
)  # fmt: skip
# Interpreters: the script they run names the command (the first argument that is a file).
_INTERPRETER = re.compile(
    r"^(python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|deno|bun|php[0-9.]*|"
    r"lua[0-9.]*|tclsh[0-9.]*|Rscript|java|env)$"
)
_SCRIPT = re.compile(r"(/|\.(py|sh|pl|rb|js|mjs|php|lua|tcl|R|jar)$)")
# Dispatchers: the subcommand names the command (the first argument that is a plain word).
_DISPATCHER = re.compile(
    r"^(git|cargo|go|npm|npx|yarn|pnpm|pip[0-9.]*|docker|podman|kubectl|apt|apt-get|dpkg|"
    r"systemctl|make|gmake|ninja|cmake|meson|bazel|gradle|mvn)$"
)
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")
# A dispatcher's options whose value is the next argument (``make -C dir``, ``git -C repo``):
# that value is not the subcommand.
_MAKE = {"-C", "-f", "-I", "-o", "-W", "--directory", "--file", "--makefile", "--include-dir"}
_VALUED = {
    "git": {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"},
    "make": _MAKE,
    "gmake": _MAKE,
    "ninja": {"-C", "-f", "-j", "-k", "-l", "-d", "-w"},
    "cmake": {"-S", "-B", "-G", "-T", "-A", "-C"},
    "cargo": {"-C", "-Z", "--manifest-path", "--config", "--color"},
    "go": {"-C"},
    "npm": {"-C", "--prefix"},
    "yarn": {"--cwd"},
    "pnpm": {"-C", "--dir"},
    "docker": {"-H", "-c", "-l", "--host", "--context", "--config", "--log-level"},
    "podman": {"-c", "--connection", "--url", "--root", "--runroot"},
    "kubectl": {"-n", "-s", "--namespace", "--context", "--cluster", "--user", "--kubeconfig"},
    "apt": {"-o", "-c", "-t"},
    "apt-get": {"-o", "-c", "-t"},
    "systemctl": {"-H", "-M", "-p", "-t", "-n", "--host", "--machine"},
}


def _subcommand(exe: str, args: tuple[str, ...]) -> str | None:
    """A dispatcher's first argument that is neither an option nor an option's value."""
    valued = _VALUED.get(exe, set())
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a.startswith("-"):
            skip = a in valued
        else:
            return a
    return None


def command_key(p: ProcessSample) -> str:
    """The command ``p`` is counted under."""
    if not p.cmdline:
        return p.name  # never seen in /proc: the kernel's name of it
    exe = os.path.basename(p.cmdline[0]) or p.cmdline[0]
    args = p.cmdline[1:]
    if exe in SHELLS:
        options = [a for a in args if a.startswith("-") and not a.startswith("--")]
        if any("c" in a for a in options):
            # A command string: named by its first word (not an assignment), if a plain one.
            string = next((a for a in args if not a.startswith("-")), "")
            word = next((w for w in string.split() if "=" not in w and w != "exec"), "")
            word = os.path.basename(word) if "/" in word else word
            plain = _WORD.match(word) and word not in SHELL_WORDS
            return f"{exe} -c {word}" if plain else f"{exe} -c"
        script = next((a for a in args if not a.startswith("-")), None)
        return f"{exe} {os.path.basename(script)}" if script else exe
    if _INTERPRETER.match(exe):
        script = next((a for a in args if not a.startswith("-") and _SCRIPT.search(a)), None)
        if script is not None:
            return f"{exe} {os.path.basename(script)}"
        if exe == "env":
            word = next((a for a in args if not a.startswith("-") and "=" not in a), None)
            return f"env {os.path.basename(word)}" if word else exe
        return exe
    if _DISPATCHER.match(exe):
        word = _subcommand(exe, args)
        if word is not None and _WORD.match(word):
            return f"{exe} {word}"
    return exe


@dataclass
class _Acc:
    count: int = 0
    cpu_total: float | None = None
    cpu_max: float | None = None
    rss_max: int | None = None
    wall_total: float | None = None
    wall_max: float | None = None
    exit_codes: dict[str, int] = field(default_factory=dict)
    incomplete: set[str] = field(default_factory=set)
    # on the run queue, asleep, in D: summed over the processes whose sched figures are known
    waits: list[float] | None = None

    def add(self, p: ProcessSample, cpu_exact: bool) -> None:
        self.count += 1
        cpu = p.cpu_time_s
        if cpu is None or not cpu_exact:
            self.incomplete.add("cpu_s")
        if cpu is not None:
            self.cpu_total = (self.cpu_total or 0.0) + cpu
            self.cpu_max = max(cpu, self.cpu_max or 0.0)
        if p.peak_rss_bytes is None:
            self.incomplete.add("peak_rss")
        else:
            self.rss_max = max(p.peak_rss_bytes, self.rss_max or 0)
        wall = wall_s(p)
        if wall is None:
            self.incomplete.add("wall_s")
        else:
            self.wall_total = (self.wall_total or 0.0) + wall
            self.wall_max = max(wall, self.wall_max or 0.0)
        sched = p.sched
        if sched is None or sched.waiting_cpu_s is None:
            self.incomplete.add("sched")
        else:
            w = self.waits = self.waits or [0.0, 0.0, 0.0]
            w[0] += sched.waiting_cpu_s
            w[1] += sched.sleeping_s or 0.0
            w[2] += sched.uninterruptible_s or 0.0
            if sched.sleeping_s is None or sched.uninterruptible_s is None:
                self.incomplete.add("sched")  # (the /proc collector's: never sampled)
        code = "unknown" if p.exit_code is None else exit_text(p.exit_code, p.killed_by_signal)
        self.exit_codes[code] = self.exit_codes.get(code, 0) + 1

    def stats(self, command: str) -> CommandStats:
        return CommandStats(
            command=command,
            count=self.count,
            cpu_s_total=self.cpu_total,
            cpu_s_max=self.cpu_max,
            peak_rss_max=self.rss_max,
            wall_s_total=self.wall_total,
            wall_s_max=self.wall_max,
            exit_codes=dict(sorted(self.exit_codes.items())),
            incomplete=tuple(sorted(self.incomplete)),
            waiting_cpu_s_total=self.waits[0] if self.waits else None,
            sleeping_s_total=self.waits[1] if self.waits else None,
            uninterruptible_s_total=self.waits[2] if self.waits else None,
        )


def ended_ledger(meta: Meta) -> FinishedLedger:
    """The ledger for a session whose collector is ``meta``'s: its ended processes' CPU is
    exact with the eBPF sched family only."""
    return FinishedLedger(cpu_exact=meta.collector.has("sched", "exact"))


def wall_s(p: ProcessSample) -> float | None:
    """How long the ended process ``p`` lived (None where its start or end is unknown)."""
    if p.start_ts is None or p.end_ts is None:
        return None
    return max(0.0, p.end_ts - p.start_ts)


class FinishedLedger:
    """Folds each snapshot's ended processes into the per-command summary.

    Schema 2 lists an ended process once; a schema-1 recording lists it in every later
    snapshot, so a process listed as ended in the previous snapshot is not counted again.
    """

    def __init__(self, max_commands: int = MAX_COMMANDS, *, cpu_exact: bool = True) -> None:
        """``cpu_exact``: False where an ended process's CPU time is only a lower bound (without
        the eBPF sched family: its exit record misses its last time slice, which for a short
        process can be most of it)."""
        self._max = max_commands
        self._cpu_exact = cpu_exact
        self._by_command: dict[str, _Acc] = {}
        self._processes = 0
        self._other = 0
        self._last_ended: set[tuple[int, float | None]] = set()
        self.recent: deque[ProcessSample] = deque(maxlen=RECENT)  # the latest ended, in order

    def add(self, snap: Snapshot) -> None:
        self.add_ended(p for p in snap.processes if not p.alive)

    def add_ended(self, ended: Iterable[ProcessSample]) -> None:
        now: set[tuple[int, float | None]] = set()
        for p in ended:
            key = (p.pid, p.start_ts)
            now.add(key)
            if key in self._last_ended:
                continue
            self._processes += 1
            self.recent.append(p)
            command = command_key(p)
            acc = self._by_command.get(command)
            if acc is None:
                if len(self._by_command) >= self._max:
                    self._other += 1
                    continue
                acc = self._by_command[command] = _Acc()
            acc.add(p, self._cpu_exact)
        self._last_ended = now

    def summary(self) -> FinishedSummary:
        commands = [acc.stats(c) for c, acc in self._by_command.items()]
        commands.sort(key=lambda s: (-(s.cpu_s_total or 0.0), -s.count, s.command))
        return FinishedSummary(
            processes=self._processes, commands=tuple(commands), other=self._other
        )
