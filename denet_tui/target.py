"""What is monitored: a command we start (gated until the collector is armed), or a PID."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import threading
import time
from dataclasses import dataclass

from denet_tui.model import TargetStatus
from denet_tui.process_group import STOPPED, group_members, process_of, state, stopped
from denet_tui.rawtext import decoded
from denet_tui.watchdog import PR_SET_PDEATHSIG, Watchdog, prctl, stop_group

# The command starts with the signal dispositions it would have had without us (as under
# strace): Python ignores SIGPIPE and SIGXFSZ, and may handle these others. One ignored by whoever
# started us stays ignored.
EXEC_WAIT_S = 2.0  # release() waits this long at most for the command's execve
PYTHON_IGNORED = (signal.SIGPIPE, signal.SIGXFSZ)
PYTHON_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)


class TargetError(Exception):
    """Bad target: a one-line message for the user and the exit status to leave with."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def resolve_command(name: str) -> str:
    """Resolve ``name`` on PATH before the gate, as strace does, so no failed execve is counted."""
    if "/" in name:
        path = name
        if not os.path.exists(path):
            raise TargetError(f"command not found: {name}", 127)
    else:
        found = shutil.which(name, mode=os.F_OK)
        if found is None:
            raise TargetError(f"command not found: {name}", 127)
        path = found
        # which(F_OK) finds the first match; prefer the first *executable* one, like execvp.
        path = shutil.which(name) or path
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise TargetError(f"permission denied (not executable): {name}", 126)
    return os.path.abspath(path)


@dataclass(frozen=True)
class ChildOutput:
    """Where the started command's stdin/stdout/stderr go (file descriptors; None = inherit)."""

    stdin: int | None = None
    stdout: int | None = None
    stderr: int | None = None


class Target:
    """Base: the root PID of the monitored tree and its status."""

    mode: str
    pid: int
    cmd: tuple[str, ...]
    # Unix time the command was let go (run mode): its start. It waited at the gate while the
    # collector was armed and the screen said go, tens of ms after the collector's start.
    released_ts: float | None = None

    def release(self) -> None:
        """Let the command run (run mode); nothing to do when attached."""

    def poll(self) -> TargetStatus:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop what we started; never touches an attached process."""

    def running(self) -> bool:
        """Something we started still runs (run mode only: the root or its process group)."""
        return False

    def started_argv(self, pid: int, comm: str) -> tuple[str, ...]:
        """The argv we passed to execve for ``pid`` (run mode, the root) while it runs that
        program (``comm``: its name now), else (): the command line to show when /proc has
        none for it (it ended before a reading, or was read while exiting, when cmdline reads
        empty)."""
        return ()

    def close(self) -> None:
        """Release resources; in run mode, makes sure the child does not outlive us."""


class RunTarget(Target):
    """A command started by us. The child is forked at once but blocks on a pipe before exec."""

    mode = "run"

    def __init__(
        self, argv: list[str], output: ChildOutput | None = None, leftovers: tuple[str, ...] = ()
    ) -> None:
        """``leftovers``: files of ours that the guard removes if we die without doing so."""
        if not argv:
            raise TargetError("no command given", 2)
        # As /proc shows command lines (rawtext.decoded; argv runs as given).
        self.cmd = tuple(decoded(a.encode(errors="surrogateescape")) for a in argv)
        self.path = resolve_command(argv[0])
        # The kernel names a process after the file it execs (15 bytes at most).
        self._comm = decoded(os.path.basename(os.fsencode(self.path))[:15])
        output = output or ChildOutput()
        gate_r, gate_w = os.pipe()
        # Closed by the child's execve (both ends are close-on-exec): release() waits for it,
        # so the first reading of the root is the command, not our forked copy of Python.
        exec_r, exec_w = os.pipe()
        parent = os.getpid()
        # Fork before any thread exists (the caller creates targets first); the child only
        # rearranges fds, waits on the gate, and execs.
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                os.close(gate_w)
                os.close(exec_r)
                os.setpgid(0, 0)
                # If we die, the kernel sends it SIGTERM (the guard then stops the rest of its
                # group); if we died before this line, it is already an orphan: give up.
                prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
                if os.getppid() != parent:
                    os._exit(125)
                for fd, target_fd in ((output.stdin, 0), (output.stdout, 1), (output.stderr, 2)):
                    if fd is not None:
                        os.dup2(fd, target_fd)
                for sig in PYTHON_IGNORED:
                    signal.signal(sig, signal.SIG_DFL)
                for sig in PYTHON_HANDLED:
                    if signal.getsignal(sig) is not signal.SIG_IGN:
                        signal.signal(sig, signal.SIG_DFL)
                ok = os.read(gate_r, 1)
                if ok != b"g":
                    os._exit(125)
                os.execv(self.path, list(argv))
            except OSError as e:
                os.write(2, f"denet-tui: cannot execute {argv[0]}: {e.strerror}\n".encode())
                os._exit(126)
            finally:
                os._exit(127)
        os.close(gate_r)
        os.close(exec_w)
        self._exec_done: int | None = exec_r
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also set here so signalling the group never races the child
        self.pid = pid
        self._gate = gate_w
        # Stops the command's group (and removes ``leftovers``) if we die without doing so.
        self._guard = Watchdog(pid, leftovers=leftovers)
        self._lock = threading.Lock()
        self._status = TargetStatus(pid=pid, status="starting")
        self._reaped = False

    def started_argv(self, pid: int, comm: str) -> tuple[str, ...]:
        # A root that exec'd another program since has another command line.
        return self.cmd if pid == self.pid and comm == self._comm else ()

    def release(self) -> None:
        if self._gate is not None:
            self.released_ts = time.time()
            os.write(self._gate, b"g")
            os.close(self._gate)
            self._gate = None
            # Until it has exec'd (or failed to): a child stopped before that does not hold us.
            select.select([self._exec_done], [], [], EXEC_WAIT_S)
            self._close_exec_pipe()
            with self._lock:
                if self._status.status == "starting":
                    self._status = TargetStatus(pid=self.pid, status="running")

    def poll(self) -> TargetStatus:
        """Status now. An exited child is left unreaped (WNOWAIT) so its final /proc figures can
        still be read; ``close()`` reaps it."""
        with self._lock:
            if self._status.finished:
                return self._status
            try:
                info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return self._status
            if info is not None and info.si_pid == self.pid:
                self._status = status_from_siginfo(self.pid, info)
            elif self._status.status == "running" and stopped(self.pid):
                return TargetStatus(pid=self.pid, status="stopped")
            return self._status

    def wait(self, timeout: float | None = None) -> TargetStatus:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (st := self.poll()).finished:
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        return st

    def stop(self, grace: float = 2.0) -> TargetStatus:
        """SIGINT, then SIGTERM, then SIGKILL to the child's process group, with grace periods.

        The whole group, not just the child: a shell's background jobs ignore SIGINT and would
        outlive it. Each next signal goes out while anything of the group is still running."""
        if self._gate is not None:  # never released: it has not exec'd, nothing to be gentle with
            os.close(self._gate)
            self._gate = None
            return self.wait(grace)
        stop_group(self.pid, grace, self.running)
        return self.poll()

    def running(self) -> bool:
        """The child, or anything else in its process group, has not ended yet."""
        return not self.poll().finished or bool(group_members(self.pid))

    def _close_exec_pipe(self) -> None:
        if self._exec_done is not None:
            os.close(self._exec_done)
            self._exec_done = None

    def close(self) -> None:
        """Stop whatever of the command's group still runs (its background jobs too), reap it."""
        self._close_exec_pipe()
        if self._gate is not None or self.running():
            self.stop(grace=1.0)
        if self.poll().finished and not self._reaped:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self._reaped = True
        if not self.running():
            self._guard.disarm()


class AttachTarget(Target):
    """An existing process; we only watch it and never send it a signal."""

    mode = "attach"

    def __init__(self, pid: int) -> None:
        self.pid = pid
        if pid == os.getpid():
            raise TargetError(f"{pid} is denet-tui itself", 2)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                raw = f.read()
            with open(f"/proc/{pid}/stat", "rb") as f:
                f.read()
        except FileNotFoundError:
            raise TargetError(f"no such process: {pid}", 2) from None
        except PermissionError:
            raise TargetError(f"cannot read process {pid}: permission denied", 2) from None
        except OSError as e:
            raise TargetError(f"cannot read process {pid}: {e.strerror}", 2) from None
        tgid = process_of(pid)
        if tgid is not None and tgid != pid:
            # /proc/TID opens though it is not listed: watching it would follow no process.
            raise TargetError(f"{pid} is a thread of process {tgid}: attach to {tgid}", 2)
        args = [decoded(a) for a in raw.split(b"\0") if a]
        self.cmd = tuple(args) or (f"[{_comm(pid)}]",)
        self._gone_at: float | None = None

    def poll(self) -> TargetStatus:
        st = state(self.pid)
        if st in STOPPED:
            return TargetStatus(pid=self.pid, status="stopped")
        if st not in ("Z", "X", None):
            return TargetStatus(pid=self.pid, status="running")
        # Not our child: its exit status is not ours to know.
        return TargetStatus(pid=self.pid, status="gone")


def status_from_siginfo(pid: int, info: os.waitid_result) -> TargetStatus:
    if info.si_code == os.CLD_EXITED:
        return TargetStatus(pid=pid, status="exited", exit_code=info.si_status)
    sig = info.si_status
    return TargetStatus(pid=pid, status="killed", exit_code=128 + sig, signal=sig)


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def parse_pid(text: str) -> int:
    try:
        pid = int(text)
    except ValueError:
        raise TargetError(f"not a PID: {text!r}", 2) from None
    if pid <= 0:
        raise TargetError(f"not a PID: {text!r}", 2)
    return pid
