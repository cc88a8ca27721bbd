"""Command line: parse, build a Session, hand it to the screen or to the headless writer."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from denet_tui import __version__, heap
from denet_tui.collectors.base import CollectorError
from denet_tui.output_paths import check_writable
from denet_tui.reports.commands import add_parsers as add_report_parsers
from denet_tui.target import TargetError
from denet_tui.visible import tell

EXIT_USAGE = 2


MIN_INTERVAL_S = 0.05  # below this, reading /proc for every process is the whole workload


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return v


def _on_a_terminal() -> bool:
    """The screen needs a terminal on stdin, stdout and stderr (Textual draws on stderr: with
    it redirected, the screen went into the file)."""
    return all(f.isatty() for f in (sys.stdin, sys.stdout, sys.stderr))


def _budgets(texts: list[str]) -> list[Any]:
    from denet_tui.budgets import BudgetError, parse

    try:
        return [parse(t) for t in texts]
    except BudgetError as e:
        raise TargetError(str(e), EXIT_USAGE) from None


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0: {text!r}")
    return int(text)


def _probes(text: str) -> frozenset[str]:
    from denet_tui.collectors.ebpf.families import parse_probes

    try:
        return parse_probes(text)
    except CollectorError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _interval(text: str) -> float:
    v = _positive(text)
    if v < MIN_INTERVAL_S:
        raise argparse.ArgumentTypeError(
            f"{text} s is too short: at least {MIN_INTERVAL_S} s between snapshots"
        )
    return v


def _monitor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--collector",
        choices=("auto", "ebpf", "procfs"),
        default="auto",
        help="data source: eBPF (exact syscall counts) or /proc (sampled); default auto",
    )
    p.add_argument("--no-latency", action="store_true", help="eBPF: count calls and errors only")
    p.add_argument(
        "--probes",
        type=_probes,
        default=None,
        metavar="LIST",
        help="eBPF probe families, comma-separated (syscalls, sched, memory, exec, files, "
        "signals, privileges, network, disk), or all (default), or none",
    )
    p.add_argument(
        "--sample-hz",
        type=_positive,
        default=100.0,
        metavar="HZ",
        help="/proc syscall sampler rate (default 100)",
    )
    p.add_argument(
        "--interval",
        type=_interval,
        default=1.0,
        metavar="SECONDS",
        help=f"between snapshots, at least {MIN_INTERVAL_S} (default 1.0)",
    )
    p.add_argument("--json", action="store_true", help="no screen: JSON lines to stdout (or --out)")
    p.add_argument("--out", metavar="FILE", help="with --json: write the JSON lines to FILE")
    p.add_argument(
        "--record", metavar="FILE", help="write JSON lines to FILE while the screen runs"
    )
    _export_option(p)
    p.add_argument(
        "--duration",
        type=_positive,
        metavar="SECONDS",
        help="stop after SECONDS; run: a command still running then is stopped and we exit 124",
    )
    p.add_argument(
        "--exit-on-finish", action="store_true", help="close the screen when the watching ends"
    )
    p.add_argument(
        "--exit-with-root",
        action="store_true",
        help="stop watching when the root process ends (default: when the last of its tree does)",
    )
    p.add_argument(
        "--prometheus",
        metavar="[HOST:]PORT",
        help="serve the figures at http://HOST:PORT/metrics for Prometheus (host: 127.0.0.1)",
    )
    p.add_argument(
        "--otlp",
        metavar="URL",
        help="push the same metrics to an OpenTelemetry collector over OTLP/HTTP "
        "(http://HOST:4318; OTEL_* variables apply)",
    )
    p.add_argument(
        "--name", help="the watched job's name in the metrics (default: the command's name)"
    )
    p.add_argument(
        "--prometheus-top",
        type=_count,
        default=20,
        metavar="N",
        help="commands with metrics of their own, the busiest by CPU (the rest: 'other'; 20)",
    )
    p.add_argument(
        "--linger",
        type=_positive,
        metavar="SECONDS",
        help="with --json and --prometheus: keep serving the last figures SECONDS after the end",
    )
    p.add_argument(
        "--report",
        metavar="FILE",
        help="run: write the HTML report of the run to FILE when it ends (see: denet-tui report)",
    )
    p.add_argument(
        "--budget",
        metavar="EXPR",
        action="append",
        default=[],
        help="run: a limit on a final figure, e.g. cpu_s<=120, peak_rss<=2GiB, "
        "syscalls.openat<=5000, errors<=0, wall_s<=300 (repeatable); exceeded: exit 3 "
        "unless the command itself failed",
    )
    p.add_argument(
        "--keep-log",
        action="store_true",
        help="run: keep the log file of the command's output (default: removed at exit)",
    )


def _export_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--export", metavar="FILE", help="write the last snapshot as JSON at exit")


class Parser(argparse.ArgumentParser):
    """Bad usage is one line, as every other error is (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"denet-tui: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="denet-tui",
        description="Watch what a Linux process tree really does: processes, syscalls, resources.",
    )
    parser.add_argument("--version", action="version", version=f"denet-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{run,attach,replay,report,diff,doctor}")
    sub.required = True
    run = sub.add_parser("run", help="start a command and watch it (no command: a demo workload)")
    _monitor_options(run)
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD [ARG...]")
    attach = sub.add_parser("attach", help="watch a running process and its descendants")
    _monitor_options(attach)
    attach.add_argument("pid", metavar="PID")
    add_report_parsers(sub)
    replay = sub.add_parser("replay", help="play back a recorded JSONL session")
    _export_option(replay)
    replay.add_argument("file", metavar="FILE.jsonl")
    sub.add_parser("doctor", help="say, line by line, whether eBPF works here and why not")
    return parser


def demo_command() -> list[str]:
    return [sys.executable, "-m", "denet_tui.demo"]


def main(argv: list[str] | None = None) -> int:
    heap.tune()
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        from denet_tui.doctor import main as doctor_main

        return doctor_main()
    try:
        return _monitor(args)
    except (TargetError, CollectorError) as e:
        code = e.exit_code if isinstance(e, TargetError) else EXIT_USAGE
        tell(str(e))
        return code
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the user gets one line; the traceback on request
        if os.environ.get("DENET_TUI_DEBUG"):
            raise
        tell(
            f"internal error: {type(e).__name__}: {e} "
            "(run with DENET_TUI_DEBUG=1 for the traceback)"
        )
        return 1


def _monitor(args: argparse.Namespace) -> int:
    from denet_tui.session import CollectorPlan, Session, child_output

    if args.command in ("report", "diff"):
        from denet_tui.reports.commands import diff_command, report_command

        return report_command(args) if args.command == "report" else diff_command(args)
    # Every output path is checked before anything starts: a run is never lost at its end.
    # Then made absolute: BCC's compiler changes the process's directory while it works (a
    # recording opened meanwhile landed in the kernel headers' folder).
    for option in ("out", "record", "export", "report"):
        path = getattr(args, option, None)
        if path is not None and not (option == "out" and path == "-"):
            check_writable(path, f"--{option}")
            setattr(args, option, os.path.abspath(path))
    if args.command == "replay":
        return _replay(args)
    if args.out and not args.json:
        raise TargetError("--out needs --json (use --record FILE with the screen)", EXIT_USAGE)
    if args.record and args.json:
        raise TargetError("--record is for the screen; with --json use --out FILE", EXIT_USAGE)
    budgets = _budgets(args.budget)
    if args.linger and not (args.json and args.prometheus):
        raise TargetError("--linger needs --json and --prometheus", EXIT_USAGE)
    if args.probes is not None and args.collector == "procfs":
        raise TargetError(
            "--probes chooses the eBPF collector's probe families: --collector procfs has none",
            EXIT_USAGE,
        )
    if args.prometheus:
        from denet_tui.sinks.prometheus import parse_address

        parse_address(args.prometheus)  # a bad address is said before anything starts
    if args.otlp:
        from denet_tui.sinks.otlp import metrics_url

        metrics_url(args.otlp)
    from denet_tui.target import AttachTarget, RunTarget, parse_pid

    # A process that is not there is said first (before "no terminal"): it is the bigger news.
    attached = AttachTarget(parse_pid(args.pid)) if args.command == "attach" else None
    if not args.json and not _on_a_terminal():
        raise TargetError(
            "no terminal for the screen (stdin, stdout and stderr must be one; it is drawn on "
            "stderr): use --json for headless output",
            EXIT_USAGE,
        )

    # Targets are created before any thread or BPF program exists: run forks a gated child here.
    # The collector is loaded in a thread from then on (Session.load) and armed later
    # (Session.arm): by the screen's collector thread once its first frame is up, or at once
    # when headless; only then is the child let through its gate.
    if args.command == "run":
        cmd = list(args.cmd)
        if cmd[:1] == ["--"]:
            cmd = cmd[1:]
        output, log = child_output(tui=not args.json, json_to_stdout=args.json and not args.out)
        try:
            leftovers = (log,) if log is not None and not args.keep_log else ()
            target = RunTarget(cmd or demo_command(), output, leftovers)
        except TargetError:
            if log is not None:  # nothing ran: nothing to keep
                os.unlink(log)
            raise
        for fd in {output.stdin, output.stdout} - {None, 0, 1, 2}:
            os.close(fd)
    else:
        assert attached is not None
        target, log = attached, None
    session = Session(
        target=target,
        interval=args.interval,
        plan=CollectorPlan(
            args.collector,
            latency=not args.no_latency,
            probes=args.probes,
            sample_hz=args.sample_hz,
            detach_later=True,  # quitting does not wait for the kernel to detach
        ),
        record_path=args.record,
        export_path=args.export,
        prometheus=args.prometheus,
        otlp=args.otlp,
        name=args.name,
        prometheus_top=args.prometheus_top,
        linger=args.linger,
        report_path=args.report,
        budgets=budgets,
        exit_on_finish=args.exit_on_finish,
        output_log=log,
        duration=args.duration,
        exit_with_root=args.exit_with_root,
        keep_log=args.keep_log,
    )
    if args.json:  # armed at once, after its outputs are open (an error there is seen)
        from denet_tui.headless import run_headless

        return run_headless(session, args.out)
    from denet_tui.screen_fd import ScreenFd

    screen_fd = ScreenFd()  # before the compile's thread: its messages never reach the screen
    try:
        session.load()  # the BPF compile overlaps the screen's start (Textual's import, frame)
        from denet_tui.run_screen import run_tui
    except BaseException:
        try:
            session.settle()
        finally:
            screen_fd.close()
        raise
    return run_tui(session, screen_fd)


def _replay(args: argparse.Namespace) -> int:
    from denet_tui.collectors.replay import ReplayCollector
    from denet_tui.session import Session

    collector = ReplayCollector(args.file)  # a bad file is reported before the tty is needed
    if not _on_a_terminal():
        collector.close()
        raise TargetError("no terminal for the replay screen (stdin, stdout, stderr)", EXIT_USAGE)
    session = Session(
        meta=collector.meta,
        collector=collector,
        target=None,
        interval=collector.meta.interval,
        export_path=args.export,
    )
    from denet_tui.run_screen import run_tui

    return run_tui(session)
