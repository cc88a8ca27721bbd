"""``denet-tui report`` and ``denet-tui diff``: recordings in, a report or a comparison out; and
what ``run --report`` and ``run --budget`` do when the run ends."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import TYPE_CHECKING

from denet_tui.budgets import EXIT_BUDGET, Budget, check
from denet_tui.collectors.base import CollectorError
from denet_tui.model import Snapshot
from denet_tui.output_paths import EXIT_USAGE, OutputError
from denet_tui.recording import Recording, load
from denet_tui.target import TargetError
from denet_tui.visible import tell

if TYPE_CHECKING:
    from denet_tui.session import Session

FORMATS = ("html", "text", "csv")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report", help="a report of a recorded run: HTML, strace-style text, CSV"
    )
    report.add_argument("file", metavar="RUN.jsonl")
    report.add_argument("-o", "--output", metavar="FILE",
                        help="where to write it (html: RUN.html beside the recording; text, csv: "
                        "standard output)")  # fmt: skip
    report.add_argument("--format", choices=FORMATS, default="html")
    diff = sub.add_parser("diff", help="compare two recorded runs (or exports)")
    diff.add_argument("a", metavar="A.jsonl")
    diff.add_argument("b", metavar="B.jsonl")
    diff.add_argument("--json", action="store_true", help="the changes as JSON")
    diff.add_argument("--all", action="store_true", help="unchanged figures too")
    diff.add_argument(
        "--max-regression",
        metavar="PERCENT",
        type=_percent,
        help=f"exit {EXIT_BUDGET} if a figure grew by more than PERCENT from A to B",
    )


def _percent(text: str) -> float:
    try:
        v = float(text.removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return v / 100


def render(rec: Recording, fmt: str, source: str | None = None) -> str:
    if fmt == "html":
        from denet_tui.reports.html import html_report

        return html_report(rec, source)
    from denet_tui.reports.text import csv_report, text_report

    return text_report(rec) if fmt == "text" else csv_report(rec)


def write_text(path: str | None, text: str) -> None:
    """``text`` to ``path`` (replaced whole), or to standard output."""
    if path in (None, "-"):
        sys.stdout.write(text)
        return
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise OutputError(path, e) from None


def report_command(args: argparse.Namespace) -> int:
    rec = load(args.file)
    out = args.output
    if out is None and args.format == "html":
        out = os.path.splitext(args.file)[0] + ".html"
    write_text(out, render(rec, args.format, args.file))
    if out not in (None, "-"):
        tell(f"wrote {out}")
    return 0


def diff_command(args: argparse.Namespace) -> int:
    from denet_tui.reports.diff import changes, cut, num, regressions
    from denet_tui.reports.diff import render as render_diff

    a, b = load(args.a), load(args.b)
    if a.schema != b.schema:
        raise TargetError(
            f"{args.a} is a schema {a.schema} recording, {args.b} schema {b.schema}: record both "
            "with the same denet-tui to compare them",
            EXIT_USAGE,
        )
    rows = changes(a, b)
    if args.json:
        shown = rows if args.all else [c for c in rows if c.delta != 0]
        sys.stdout.write(
            json.dumps(
                {"a": args.a, "b": args.b, "changes": [c.to_dict() for c in shown]}, indent=1
            )
            + "\n"
        )
    else:
        sys.stdout.write(render_diff(a, b, rows, args.all))
    if args.max_regression is not None:
        worse = regressions(rows, args.max_regression)
        if worse:
            c = worse[0]
            tell(
                f"regression: {c.section} {cut(c.name, 60)} {c.figure} {num(c.a)} → {num(c.b)} "
                + ("(new" if c.a == 0 else f"(+{c.relative * 100:.1f}%")
                + f" > {args.max_regression * 100:g}%)"
                + (f"; {len(worse) - 1} more" if len(worse) > 1 else "")
            )
            return EXIT_BUDGET
    return 0


def budget_verdict(budgets: list[Budget], last: Snapshot | None, code: int) -> int:
    """Say each budget not kept, in one line; the exit status: the command's own failure wins,
    else EXIT_BUDGET if a budget was not kept."""
    if not budgets or last is None:
        return code
    broken = check(budgets, last, last.t)
    for line in broken:
        tell(line)
    return code if code != 0 or not broken else EXIT_BUDGET


def finish_outputs(session: Session, last: Snapshot | None, code: int) -> int:
    """After the run: ``--report`` written from the run's own recording (a failure is said in
    one line and leaves the status alone), then ``--budget`` checked; the exit status."""
    if session.report_path and session.report_recording:
        try:
            if last is not None:
                write_text(session.report_path, render(load(session.report_recording), "html"))
                tell(f"wrote the report {session.report_path}")
        except (CollectorError, TargetError) as e:
            tell(f"--report: {e}")
        finally:
            with contextlib.suppress(OSError):
                os.unlink(session.report_recording)
    return budget_verdict(session.budgets, last, code)
