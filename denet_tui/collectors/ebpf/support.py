"""Can eBPF work here, and if not, why: the checks ``denet-tui doctor`` prints and ``--collector
auto`` asks (``ebpf_unavailable_reason``), and the capability check the collector makes itself.

Plain Python, no BCC import until a check needs it.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from denet_tui import fd2

DEBIAN_PYTHON = "/usr/bin/python3"
DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"
TRACEFS = "/sys/kernel/tracing"
DEBUG_TRACEFS = "/sys/kernel/debug/tracing"
CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
CAP_BPF = 39
SETUP_FIX = "run scripts/setup.sh as root"

# The smallest useful program: count sys_enter hits, so we know it is attached and firing.
TEST_PROGRAM = r"""
BPF_ARRAY(hits, u64, 1);
RAW_TRACEPOINT_PROBE(sys_enter)
{
    int key = 0;
    u64 *n = hits.lookup(&key);
    if (n)
        __sync_fetch_and_add(n, 1);
    return 0;
}
"""


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report.

    `detail` starts with a short phrase that can stand alone after "ebpf unavailable: ".
    `info` lines are facts, never failures; a `skipped` check was not tried (ok is False, but an
    earlier check is the reason).
    """

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    info: bool = False
    skipped: bool = False

    @property
    def label(self) -> str:
        if self.info:
            return "info"
        if self.skipped:
            return "skip"
        return "ok" if self.ok else "FAIL"


def first_line(text: object) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return type(text).__name__ if isinstance(text, BaseException) else ""


def error_text(exc: BaseException) -> str:
    msg = first_line(exc)
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


# --- individual checks --------------------------------------------------------------------------


def cap_eff(status_text: str) -> int | None:
    """The effective capability mask from the text of /proc/PID/status (None if absent)."""
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return None


def lacking_bpf_capabilities(cap: int) -> list[str]:
    """Of the capabilities tracing programs need without root, those missing from ``cap``."""
    return [
        n for n, bit in (("CAP_BPF", CAP_BPF), ("CAP_PERFMON", CAP_PERFMON)) if not cap >> bit & 1
    ]


def check_root(uid: int | None = None, status_text: str | None = None) -> Check:
    uid = os.geteuid() if uid is None else uid
    if uid == 0:
        return Check("root", True, "running as uid 0")
    if status_text is None:
        try:
            status_text = Path("/proc/self/status").read_text()
        except OSError:
            status_text = ""
    missing = lacking_bpf_capabilities(cap_eff(status_text) or 0)
    if not missing:
        return Check("root", True, f"running as uid {uid} with CAP_BPF and CAP_PERFMON")
    return Check(
        "root",
        False,
        f"not root (uid {uid}; CapEff lacks {', '.join(missing)})",
        "run as root (sudo denet-tui …), or use --collector procfs",
    )


def _python_note() -> str:
    """Empty when this interpreter can see Debian's dist-packages, else why not."""
    exe = os.path.realpath(sys.executable)
    if not exe.startswith("/usr/bin/python3"):
        return (
            f"python is {sys.executable} ({exe}), not Debian's {DEBIAN_PYTHON}; "
            f"the venv must be made with {DEBIAN_PYTHON} -m venv --system-site-packages"
        )
    if DEBIAN_DIST_PACKAGES not in sys.path:
        return (
            f"python {sys.executable} does not see {DEBIAN_DIST_PACKAGES}; "
            f"the venv must be made with {DEBIAN_PYTHON} -m venv --system-site-packages"
        )
    return ""


def check_bcc() -> Check:
    note = _python_note()
    fix = (
        "apt-get install python3-bpfcc (scripts/setup.sh does it) and use a venv made with "
        f"{DEBIAN_PYTHON} -m venv --system-site-packages"
    )
    try:
        import bcc
    except Exception as exc:  # ImportError, or OSError when libbcc.so is missing
        detail = f"bcc not importable: {error_text(exc)}"
        return Check("bcc", False, f"{detail}; {note}" if note else detail, fix)
    where = os.path.dirname(getattr(bcc, "__file__", "") or "?")
    if not hasattr(bcc, "BPF"):
        return Check(
            "bcc",
            False,
            f"bcc at {where} is not BCC (PyPI's unrelated 'bcc'?)",
            f"pip uninstall bcc; {fix}",
        )
    version = getattr(bcc, "__version__", "?")
    return Check("bcc", True, f"bcc {version} from {where}")


def _headers_version(path: str) -> str:
    name = os.path.basename(path.rstrip("/"))
    return name.removeprefix("linux-headers-")


def check_headers(release: str | None = None, modules: str = "/lib/modules") -> Check:
    release = release or os.uname().release
    build = os.path.join(modules, release, "build")
    if not os.path.exists(build):
        what = "dangling symlink" if os.path.islink(build) else "missing"
        return Check("kernel headers", False, f"no kernel headers: {build} {what}", SETUP_FIX)
    if not os.path.isdir(os.path.join(build, "include")):
        return Check(
            "kernel headers", False, f"no kernel headers: {build} has no include/", SETUP_FIX
        )
    target = os.path.realpath(build)
    headers = _headers_version(target)
    if (
        os.path.islink(build)
        and target.startswith("/usr/src/linux-headers-")
        and not headers.startswith(release)
    ):
        return Check(
            "kernel headers",
            True,
            f"{build} -> {target} (Debian fallback: this kernel has no headers package; the skew "
            f"{headers} vs {release} is harmless, the tracepoint programs use only stable types)",
        )
    return Check("kernel headers", True, f"{build} ({target})")


def _mounted(mountpoint: str, fstype: str) -> bool:
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] == mountpoint and parts[2] == fstype:
                    return True
    except OSError:
        pass
    return False


def tracefs_fields(event: str) -> list[str]:
    """The names of a tracepoint's own fields (``events/<event>/format``), in order; none if
    the event or tracefs is not there."""
    for root in (TRACEFS, DEBUG_TRACEFS):
        try:
            with open(f"{root}/events/{event}/format") as f:
                text = f.read()
        except OSError:
            continue
        names = []
        for line in map(str.strip, text.splitlines()):
            if not line.startswith("field:"):
                continue
            # "field:const struct cred * cred;\toffset:8;..." -> "cred" ("comm[16]" -> "comm")
            name = line.removeprefix("field:").split(";", 1)[0].split()[-1].split("[", 1)[0]
            if not name.startswith("common_"):
                names.append(name)
        return names
    return []


def tracefs_has(event: str, fieldname: str) -> bool:
    return fieldname in tracefs_fields(event)


def check_tracefs() -> Check:
    for base in (TRACEFS, DEBUG_TRACEFS):
        events = os.path.join(base, "events", "raw_syscalls")
        if os.path.isdir(events):
            return Check("tracefs", True, f"{events} present")
    if _mounted(TRACEFS, "tracefs"):
        if not os.access(TRACEFS, os.R_OK | os.X_OK):
            return Check(
                "tracefs", False, f"tracefs at {TRACEFS} not readable (not root)", "run as root"
            )
        return Check(
            "tracefs",
            False,
            f"tracefs mounted but {TRACEFS}/events/raw_syscalls missing "
            "(kernel without CONFIG_FTRACE_SYSCALLS?)",
            None,
        )
    return Check(
        "tracefs",
        False,
        f"tracefs not mounted at {TRACEFS}",
        f"mount -t tracefs nodev {TRACEFS} (scripts/setup.sh does it)",
    )


def _kprobes_configured() -> bool | None:
    """True/False from /proc/config.gz or /boot/config-*, None when unknown."""
    release = os.uname().release
    for path in ("/proc/config.gz", f"/boot/config-{release}"):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:
                return any(line.strip() == "CONFIG_KPROBES=y" for line in f)
        except OSError:
            continue
    for path in (f"{TRACEFS}/kprobe_events", "/sys/bus/event_source/devices/kprobe"):
        if os.path.exists(path):
            return True
    return None


def check_kprobes() -> Check:
    have = _kprobes_configured()
    if have is False:
        detail = (
            "this kernel lacks CONFIG_KPROBES → denet-tui uses tracepoints only (not a failure)"
        )
    elif have:
        detail = "kprobes available, not needed: denet-tui uses tracepoints only"
    else:
        detail = "kprobes unknown, not needed: denet-tui uses tracepoints only"
    return Check("kprobes", True, detail, info=True)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[list[str]]:
    """BCC and clang write warnings to fd 2: while compiling, send them to a temp file rather
    than to whatever fd 2 is (the user's terminal), and yield their lines afterwards (for a
    one-line error). fd 2 is put back as found, taking turns with the screen (``fd2.LOCK``)."""
    lines: list[str] = []
    with fd2.LOCK, tempfile.TemporaryFile(mode="w+b") as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode(errors="replace").splitlines())


def _compile_and_attach() -> int:
    """Compile TEST_PROGRAM, attach it to raw_syscalls:sys_enter, make a few syscalls, detach.

    Returns how many sys_enter events the program saw.
    """
    from bcc import BPF

    b = BPF(text=TEST_PROGRAM.encode())  # RAW_TRACEPOINT_PROBE auto-attaches
    try:
        for _ in range(10):
            os.stat("/")
        return sum(v.value for v in b[b"hits"].values())
    finally:
        b.cleanup()


def check_load() -> Check:
    name = "load program"
    t0 = time.perf_counter()
    err: list[str] = []
    try:
        with quiet_stderr() as err:
            hits = _compile_and_attach()
    except Exception as exc:  # BCC raises Exception/OSError; never let it escape as a traceback
        errors = [ln for ln in err if "error" in ln.lower()]
        detail = f"test program failed: {error_text(exc)}"
        if errors:
            detail += f" ({first_line(errors[0])})"
        return Check(name, False, detail, SETUP_FIX + ", then denet-tui doctor again")
    ms = (time.perf_counter() - t0) * 1000
    if hits <= 0:
        return Check(
            name,
            False,
            "test program attached but saw no sys_enter events",
            "check that raw_syscalls tracepoints fire (perf trace -s true)",
        )
    return Check(
        name,
        True,
        f"compiled, attached to raw_syscalls:sys_enter, saw {hits} events, detached in {ms:.0f} ms",
    )


# --- public API -----------------------------------------------------------------------------------


def run_checks(load_program: bool = True) -> list[Check]:
    checks: list[Check] = []
    steps = (
        ("root", check_root),
        ("bcc", check_bcc),
        ("kernel headers", check_headers),
        ("tracefs", check_tracefs),
        ("kprobes", check_kprobes),
    )
    for name, fn in steps:
        try:
            checks.append(fn())
        except Exception as exc:  # a check itself must never crash the doctor
            checks.append(Check(name, False, f"check crashed: {error_text(exc)}"))
    if load_program:
        if first_failure(checks) is None:
            checks.append(check_load())
        else:
            checks.append(
                Check("load program", False, "not tried: an earlier check failed", skipped=True)
            )
    return checks


def first_failure(checks: list[Check]) -> Check | None:
    for check in checks:
        if not check.ok and not check.info and not check.skipped:
            return check
    return None


def reason_for(check: Check) -> str:
    return f"ebpf unavailable: {check.detail}"


def ebpf_unavailable_reason(load_program: bool = False) -> str | None:
    """None when eBPF should work here, else one line like "ebpf unavailable: not root (...)"."""
    try:
        failure = first_failure(run_checks(load_program=load_program))
    except Exception as exc:
        return f"ebpf unavailable: doctor failed: {error_text(exc)}"
    return None if failure is None else reason_for(failure)


def missing_capabilities() -> str | None:
    """None when this process may load tracing programs and task storage, else what it lacks."""
    try:
        with open("/proc/self/status") as f:
            cap = cap_eff(f.read())
    except OSError:
        cap = None
    if cap is None or cap & (1 << CAP_SYS_ADMIN):
        return None  # cannot tell (let the kernel decide), or allowed everything
    return "+".join(lacking_bpf_capabilities(cap)) or None
