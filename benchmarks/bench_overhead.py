#!/usr/bin/env python3
"""How much slower does a program run while it is watched? Bare vs denet-tui vs strace vs perf.

Runs, in one go, the same commands bare, under ``denet-tui run --json --collector ebpf`` (with
and without ``--no-latency``), under ``strace -f -c`` and under ``perf trace -s``, and prints the
median slowdown against bare. The monitored program times itself from the inside, so the
start-up of the monitor (compiling the BPF program, strace attaching) is not counted.

Workloads:
  loop       500,000 ``os.getppid()`` calls in Python: as syscall-bound as a program gets
  tar        ``tar cf`` of a large directory into tmpfs: a realistic one. Default /usr/share
             (~47k small files: ~430k syscalls a second, one every ~2.3 µs)
  tar-big    the same on a directory of large files (default /usr/lib/x86_64-linux-gnu or
             /usr/lib): fewer syscalls per byte
  pingpong   two processes passing a byte back and forth over two pipes 100,000 times: a
             context switch every few µs (the sched family's hot path)
  faults     touching 1 GiB of fresh anonymous pages, one write per 4 KiB page
  openclose  100,000 ``open`` + ``close`` of one file (the files family's hot path)
  loopback   a client sending 1 GiB in 64 KiB writes to a server of its own on 127.0.0.1 (the
             network family's throughput path)
  roundtrip  100,000 100-byte requests and responses over a unix socket pair between two
             processes (the network family's small-message path)

Every repetition runs every configuration once, in turn, and each ratio is taken against the
bare run of the same repetition (the machine is shared: drift hits all configurations alike);
the table shows the median over repetitions. strace and perf are slow on the loop (hundreds of
times), so they run ``--slow-reps`` times only.

"ratio" is wall time, the slowdown a user sees; "best/best" compares the fastest runs, which
other work on the machine disturbs least. "CPU ratio" is the program's own user+system
time: BPF programs run inside the traced syscalls, so their cost is in it, while time spent
waiting for a CPU taken by someone else is not — a steadier figure on a shared machine. (It
understates strace and perf, whose cost is mostly waiting for the tracer.)

``--probes syscalls`` is denet-tui with the syscalls family alone, ``--probes syscalls,sched``
without the memory family: the differences between them and "denet-tui ebpf" (every family)
are what the sched and memory families cost. Reference row ``bpf-empty-all (ref)`` loads
empty programs on the raw syscall tracepoints, on sched_switch, sched_wakeup and
sched_wakeup_new, and on kmem:rss_stat: the floor for an untracked neighbour. Peer
rows run BCC's own ``syscount`` (counts only, and ``-L`` with latency) beside the bare
command: it watches the whole machine, so it needs no process to start.

Reference rows ``bpf-empty-*`` load an empty BPF program on one or both raw syscall tracepoints
(for every process on the machine) and run the command bare: the floor any tracepoint-based
tool pays on this kernel. ``bpf-clock-both`` only reads the clock on both: the floor of any tool
that times each syscall this way (the default, latency on). "untracked, denet-tui elsewhere"
runs the command bare while denet-tui watches an unrelated ``sleep``: what every other process
on the machine pays.

Needs root (eBPF, perf), BCC, strace and perf; a configuration whose tool is missing is skipped.
    sudo .venv/bin/python benchmarks/bench_overhead.py [--reps 7] [--markdown]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LOOP = """
import os, sys, time
n = int(sys.argv[2])
getppid = os.getppid
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(n):
    getppid()
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
with open(sys.argv[1], "w") as f:
    f.write(f"{elapsed!r} {cpu!r}")
"""

# A workload's ending: its wall time and the CPU time of it and its children, to argv[1].
WITH_CHILDREN = """
elapsed = time.perf_counter() - t0
ru_self = os.times()
cpu = ru_self.user + ru_self.system + ru_self.children_user + ru_self.children_system
with open(sys.argv[1], "w") as f:
    f.write(f"{elapsed!r} {cpu!r}")
"""

PINGPONG = (
    """
import os, sys, time
n = int(sys.argv[2])
a_r, a_w = os.pipe()
b_r, b_w = os.pipe()
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    for _ in range(n):
        os.read(a_r, 1)
        os.write(b_w, b"x")
    os._exit(0)
for _ in range(n):
    os.write(a_w, b"x")
    os.read(b_r, 1)
os.waitpid(pid, 0)
"""
    + WITH_CHILDREN
)

FAULTS = """
import mmap, sys, time
size = int(sys.argv[2]) << 20
t0, c0 = time.perf_counter(), time.process_time()
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for i in range(0, size, 4096):
    m[i] = 1
m.close()
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
with open(sys.argv[1], "w") as f:
    f.write(f"{elapsed!r} {cpu!r}")
"""

OPENCLOSE = """
import os, sys, time
n = int(sys.argv[2])
path = sys.argv[1] + ".target"
open(path, "w").close()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(n):
    os.close(os.open(path, os.O_RDONLY))
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
with open(sys.argv[1], "w") as f:
    f.write(f"{elapsed!r} {cpu!r}")
"""

LOOPBACK = (
    """
import os, socket, sys, time
total = int(sys.argv[2]) << 20
srv = socket.create_server(("127.0.0.1", 0))
t0 = time.perf_counter()
if os.fork() == 0:
    conn, _ = srv.accept()
    while conn.recv(1 << 20):
        pass
    os._exit(0)
c = socket.create_connection(srv.getsockname())
chunk = b"x" * 65536
for _ in range(total // len(chunk)):
    c.sendall(chunk)
c.close()
os.wait()
"""
    + WITH_CHILDREN
)

ROUNDTRIP = (
    """
import os, socket, sys, time
n = int(sys.argv[2])
a, b = socket.socketpair()
t0 = time.perf_counter()
if os.fork() == 0:
    a.close()
    while (req := b.recv(100)):
        b.sendall(req)
    os._exit(0)
b.close()
msg = b"r" * 100
for _ in range(n):
    a.sendall(msg)
    a.recv(100)
a.close()
os.wait()
"""
    + WITH_CHILDREN
)

# Times its child from the inside: the monitor's start-up is not in the figure.
TIMED = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL)
elapsed = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{elapsed!r} {ru.ru_utime + ru.ru_stime!r}")
"""

TARGETS = {  # (workload, config) -> the targets for denet-tui
    ("loop", "denet-tui ebpf"): 2.5,
    ("loop", "denet-tui ebpf --no-latency"): 1.8,
    ("tar", "denet-tui ebpf"): 1.05,
    ("tar-big", "denet-tui ebpf"): 1.05,
    ("faults", "denet-tui ebpf"): 1.10,
    ("loopback", "denet-tui ebpf"): 1.05,
    ("roundtrip", "denet-tui ebpf"): 1.25,
}


@dataclass
class Config:
    name: str
    prefix: Callable[[Path], list[str]]  # scratch dir -> argv prefix
    slow: bool = False
    context: Callable[[], contextlib.AbstractContextManager[None]] | None = None
    check: Callable[[Path], None] | None = None  # after the first run: did it really monitor?


@dataclass
class Result:
    times: list[float] = field(default_factory=list)  # wall seconds, measured inside
    ratios: list[float] = field(default_factory=list)  # against bare, same repetition
    cpu: list[float] = field(default_factory=list)  # the program's own user+sys seconds
    cpu_ratios: list[float] = field(default_factory=list)


def denet(*extra: str) -> Callable[[Path], list[str]]:
    def prefix(scratch: Path) -> list[str]:
        out = scratch / "denet.jsonl"
        return [
            sys.executable,
            "-m",
            "denet_tui",
            "run",
            "--json",
            "--collector",
            "ebpf",
            *extra,
            "--out",
            str(out),
            "--",
        ]

    return prefix


def check_denet(scratch: Path) -> None:
    with open(scratch / "denet.jsonl") as f:
        meta = json.loads(f.readline())
    if meta["collector"]["name"] != "ebpf":
        raise SystemExit(f"denet-tui did not use eBPF: {meta['collector']['reason']}")


def strace_prefix(scratch: Path) -> list[str]:
    return ["strace", "-f", "-c", "-o", str(scratch / "strace.txt"), "--"]


def perf_prefix(scratch: Path) -> list[str]:
    return ["perf", "trace", "-s", "-o", str(scratch / "perf.txt"), "--"]


def empty_bpf(
    enter: bool, exit_: bool, clock: bool = False
) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """Programs that do nothing on the raw syscall tracepoints (with ``clock``: nothing but read
    the clock, as timing a call needs at both ends)."""
    body = "return bpf_ktime_get_ns() == 1;" if clock else "return 0;"

    @contextlib.contextmanager
    def loaded() -> Iterator[None]:
        from bcc import BPF

        text = ""
        if enter:
            text += f"RAW_TRACEPOINT_PROBE(sys_enter) {{ {body} }}\n"
        if exit_:
            text += f"RAW_TRACEPOINT_PROBE(sys_exit) {{ {body} }}\n"
        b = BPF(text=text.encode())
        try:
            yield
        finally:
            b.cleanup()

    return loaded


def empty_all() -> contextlib.AbstractContextManager[None]:
    """Programs that do nothing on every hot tracepoint denet-tui hooks by default: the raw
    syscall ones (which also serve the files, privileges, network and exec families' calls), the
    scheduler ones of the sched family, the memory family's rss_stat, the privileges family's
    raw cap_capable and the network family's sock ones."""
    from bcc import BPF

    text = "".join(
        f"RAW_TRACEPOINT_PROBE({tp}) {{ return 0; }}\n"
        for tp in ("sys_enter", "sys_exit", "cap_capable")
    )
    text += "".join(
        f"TRACEPOINT_PROBE({tp}) {{ return 0; }}\n"
        for tp in ("sched, sched_switch", "sched, sched_wakeup", "sched, sched_wakeup_new",
                   "kmem, rss_stat", "sock, sock_send_length", "sock, sock_recv_length")
    )  # fmt: skip

    @contextlib.contextmanager
    def loaded() -> Iterator[None]:
        b = BPF(text=text.encode())
        try:
            yield
        finally:
            b.cleanup()

    return loaded()


def beside(argv: list[str]) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A machine-wide tool running beside the bare command (BCC's syscount)."""

    @contextlib.contextmanager
    def running() -> Iterator[None]:
        tool = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            time.sleep(4)  # compile and attach (it prints nothing to say it is ready)
            if tool.poll() is not None:
                raise SystemExit(f"{argv[0]} did not start: {tool.stderr.read().decode()[:200]}")
            yield
        finally:
            tool.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                tool.wait(timeout=30)

    return running


def neighbour(*extra: str) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """denet-tui watching something else: what every other process on the machine pays."""

    @contextlib.contextmanager
    def watching() -> Iterator[None]:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "denet.jsonl"  # where denet() sends the JSON lines
            mon = subprocess.Popen(
                [*denet(*extra)(Path(tmp)), "sleep", "600"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONPATH=str(REPO)),
            )
            try:
                deadline = time.monotonic() + 60
                while not (out.exists() and out.stat().st_size > 0):  # meta written: armed
                    if mon.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("denet-tui (neighbour) did not start")
                    time.sleep(0.05)
                yield
            finally:
                mon.send_signal(signal.SIGINT)
                mon.wait(timeout=30)

    return watching


def configs(selected: set[str] | None, probe_sets: Sequence[str] = ()) -> list[Config]:
    have_bcc = _has_bcc()
    # Extra rows: denet-tui with these --probes sets (what each family adds, one by one).
    extra = [
        Config(f"denet-tui ebpf --probes {ps}", denet("--probes", ps), check=check_denet)
        for ps in probe_sets
    ]
    all_configs = [
        Config("bare", lambda s: []),
        Config("denet-tui ebpf", denet(), check=check_denet),
        Config("denet-tui ebpf --no-latency", denet("--no-latency"), check=check_denet),
        Config(
            "denet-tui ebpf --probes syscalls", denet("--probes", "syscalls"), check=check_denet
        ),
        Config(
            "denet-tui ebpf --probes syscalls,sched",
            denet("--probes", "syscalls,sched"),
            check=check_denet,
        ),
        *extra,
        Config("strace -f -c", strace_prefix, slow=True),
        Config("perf trace -s", perf_prefix, slow=True),
    ]
    if have_bcc:
        all_configs += [
            Config("bpf-empty-enter (ref)", lambda s: [], context=empty_bpf(True, False)),
            Config("bpf-empty-both (ref)", lambda s: [], context=empty_bpf(True, True)),
            Config("bpf-clock-both (ref)", lambda s: [], context=empty_bpf(True, True, clock=True)),
            Config("bpf-empty-all (ref)", lambda s: [], context=empty_all),
            Config("untracked, denet-tui elsewhere", lambda s: [], context=neighbour()),
        ]
        syscount = shutil.which("syscount-bpfcc")
        if syscount:
            all_configs += [
                Config("syscount-bpfcc beside", lambda s: [], context=beside([syscount])),
                Config("syscount-bpfcc -L beside", lambda s: [], context=beside([syscount, "-L"])),
            ]
    out = []
    for c in all_configs:
        tool = c.prefix(Path("/tmp"))[:1]
        if tool and tool[0] != sys.executable and shutil.which(tool[0]) is None:
            print(f"# skipped {c.name}: {tool[0]} not found", file=sys.stderr)
            continue
        if selected is None or c.name == "bare" or any(_chosen(s, c.name) for s in selected):
            out.append(c)
    return out


def _chosen(pattern: str, name: str) -> bool:
    """``--only``'s rule: a part of the name, or ``=`` and the whole name."""
    return name == pattern[1:] if pattern.startswith("=") else pattern in name


def _has_bcc() -> bool:
    try:
        import bcc  # noqa: F401
    except ImportError:
        return False
    return os.geteuid() == 0


def tar_output(args: argparse.Namespace) -> Path:
    """Where the tar workloads write their archive (on tmpfs: about 0.9 GB; removed at the end)."""
    return Path(args.tar_out) / f"denet-bench-{os.getpid()}.tar"


def workloads(args: argparse.Namespace, scratch: Path) -> dict[str, Callable[[Path], list[str]]]:
    loop_py = scratch / "loop.py"
    loop_py.write_text(LOOP)
    timed_py = scratch / "timed.py"
    timed_py.write_text(TIMED)
    pingpong_py = scratch / "pingpong.py"
    pingpong_py.write_text(PINGPONG)
    faults_py = scratch / "faults.py"
    faults_py.write_text(FAULTS)
    openclose_py = scratch / "openclose.py"
    openclose_py.write_text(OPENCLOSE)
    loopback_py = scratch / "loopback.py"
    loopback_py.write_text(LOOPBACK)
    roundtrip_py = scratch / "roundtrip.py"
    roundtrip_py.write_text(ROUNDTRIP)
    tar_out = tar_output(args)

    def tar(directory: str) -> Callable[[Path], list[str]]:
        return lambda res: [
            sys.executable,
            str(timed_py),
            str(res),
            "tar",
            "cf",
            str(tar_out),
            directory,
        ]

    return {
        "loop": lambda res: [sys.executable, str(loop_py), str(res), str(args.loop_n)],
        "tar": tar(args.tar_dir),
        "tar-big": tar(args.tar_big_dir),
        "pingpong": lambda res: [sys.executable, str(pingpong_py), str(res), "100000"],
        "faults": lambda res: [sys.executable, str(faults_py), str(res), "1024"],
        "openclose": lambda res: [sys.executable, str(openclose_py), str(res), "100000"],
        "loopback": lambda res: [sys.executable, str(loopback_py), str(res), "1024"],
        "roundtrip": lambda res: [sys.executable, str(roundtrip_py), str(res), "100000"],
    }


def default_big_dir() -> str:
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"):
        if os.path.isdir(d):
            return d
    return "/usr"


def run_once(cfg: Config, argv: list[str], scratch: Path, res: Path) -> tuple[float, float]:
    res.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    ctx = cfg.context() if cfg.context else contextlib.nullcontext()
    with ctx:
        proc = subprocess.run(
            cfg.prefix(scratch) + argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=scratch,
        )
    if proc.returncode != 0:
        said = proc.stderr.decode(errors="replace").strip().splitlines()
        raise SystemExit(
            f"{cfg.name}: exit status {proc.returncode}: {said[-1] if said else 'no message'}"
        )
    wall, cpu = res.read_text().split()
    return float(wall), float(cpu)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=7, help="repetitions (default 7)")
    p.add_argument("--slow-reps", type=int, default=3, help="repetitions of strace/perf (3)")
    p.add_argument("--loop-n", type=int, default=500_000, help="getppid calls (500000)")
    p.add_argument("--tar-dir", default="/usr/share", help="directory to tar (/usr/share)")
    p.add_argument("--tar-big-dir", default=default_big_dir(), help="large files to tar")
    p.add_argument("--tar-out", default="/dev/shm", help="where the archive goes (tmpfs)")
    p.add_argument(
        "--workloads",
        default="loop,tar,tar-big,pingpong,faults,openclose,loopback,roundtrip",
        help="comma-separated: loop,tar,tar-big,pingpong,faults,openclose,loopback,roundtrip",
    )
    p.add_argument(
        "--only",
        help="comma-separated substrings of configurations to run (=NAME: that one alone)",
    )
    p.add_argument(
        "--probe-sets",
        default="",
        help="semicolon-separated --probes values, each an extra configuration "
        "(e.g. 'syscalls,files;syscalls,network')",
    )
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    args = p.parse_args(argv)

    args.load_before = os.getloadavg()[0]
    if args.load_before > 0.5 * (os.cpu_count() or 1):
        print(
            f"# warning: load average {args.load_before:.2f}: other work will blur the ratios",
            file=sys.stderr,
        )
    selected = set(args.only.split(",")) if args.only else None
    cfgs = configs(selected, [ps for ps in args.probe_sets.split(";") if ps])
    scratch = Path(tempfile.mkdtemp(prefix="denet-bench-"))
    wls = {k: v for k, v in workloads(args, scratch).items() if k in args.workloads.split(",")}
    results: dict[tuple[str, str], Result] = {}
    started = time.time()
    try:
        for wname, make in wls.items():
            res = scratch / "elapsed"
            run_once(cfgs[0], make(res), scratch, res)  # warm-up: page cache, imports
            checked: set[str] = set()
            for rep in range(args.reps):
                base = base_cpu = float("nan")
                for cfg in cfgs:
                    if cfg.slow and rep >= args.slow_reps:
                        continue
                    t, cpu = run_once(cfg, make(res), scratch, res)
                    if cfg.check and cfg.name not in checked:
                        cfg.check(scratch)
                        checked.add(cfg.name)
                    r = results.setdefault((wname, cfg.name), Result())
                    if cfg.name == "bare":
                        base, base_cpu = t, cpu
                    r.times.append(t)
                    r.ratios.append(t / base)
                    r.cpu.append(cpu)
                    r.cpu_ratios.append(cpu / base_cpu)
                print(f"# {wname}: repetition {rep + 1}/{args.reps} done", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            tar_output(args).unlink()

    print_table(results, args, time.time() - started)
    if args.json:
        dump = {f"{w}|{c}": vars(r) for (w, c), r in results.items()}
        Path(args.json).write_text(json.dumps(dump, indent=1))
    return 0


def print_table(
    results: dict[tuple[str, str], Result], args: argparse.Namespace, secs: float
) -> None:
    header = (
        "workload",
        "monitor",
        "runs",
        "median time",
        "median ratio",
        "range",
        "best/best",
        "CPU ratio",
        "target",
    )
    best = {w: min(r.times) for (w, c), r in results.items() if c == "bare"}
    rows = []
    for (w, c), r in results.items():
        target = TARGETS.get((w, c))
        med = statistics.median(r.ratios)
        verdict = "" if target is None else f"≤ {target}× {'ok' if med <= target else 'MISSED'}"
        rows.append(
            (
                w,
                c,
                str(len(r.times)),
                f"{statistics.median(r.times) * 1000:.0f} ms",
                f"{med:.2f}×",
                f"{min(r.ratios):.2f}–{max(r.ratios):.2f}",
                f"{min(r.times) / best[w]:.2f}×",
                f"{statistics.median(r.cpu_ratios):.2f}×",
                verdict,
            )
        )
    info = (
        f"{platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs, "
        f"load average {args.load_before:.2f} before, {os.getloadavg()[0]:.2f} after, "
        f"loop n={args.loop_n}, tar {args.tar_dir}, tar-big {args.tar_big_dir}, "
        f"{time.strftime('%Y-%m-%d')}, "
        f"{secs:.0f} s in all"
    )
    if args.markdown:
        print(f"Measured on {info}.\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    print(f"# {info}")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
