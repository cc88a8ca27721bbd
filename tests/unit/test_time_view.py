"""The Time tab's pure helpers: the stacked bar, the CPU split, shares, the run-queue lines."""

from __future__ import annotations

import pytest

from denet_tui.model import ProcessSample, ProcessSched
from denet_tui.widgets.time_view import (
    histogram_lines,
    legend,
    packed,
    runq_summary,
    sched_cells,
    split_cpu,
    stacked_bar,
    state_parts,
    wait_share,
)


def _proc(**sched: float) -> ProcessSample:
    figures = {
        "on_cpu_s": 0.0,
        "waiting_cpu_s": 0.0,
        "sleeping_s": 0.0,
        "uninterruptible_s": 0.0,
        "voluntary_switches": 0,
        "involuntary_switches": 0,
    }
    return ProcessSample(
        pid=7, ppid=1, name="cc1", cmdline=("cc1",), alive=True,
        sched=ProcessSched(**(figures | sched)),
    )  # fmt: skip


def test_the_bar_fills_its_width_in_proportion() -> None:
    parts = {"user": 3.0, "system": 1.0, "waiting_cpu_s": 4.0, "sleeping_s": 0.0}
    bar = stacked_bar(parts, 40)
    assert len(bar.plain) == 40
    styles = [span.style for span in bar.spans]
    assert styles == ["green", "cyan", "yellow"]  # in the legend's order, zero states left out
    widths = [span.end - span.start for span in bar.spans]
    assert widths == [15, 5, 20]


def test_a_tiny_state_still_shows_and_nothing_known_is_dots() -> None:
    bar = stacked_bar({"user": 1000.0, "uninterruptible_s": 0.001}, 20)
    assert len(bar.plain) == 20 and [s.end - s.start for s in bar.spans] == [19, 1]
    assert stacked_bar({"user": None, "sleeping_s": None}, 5).plain == "·····"


def test_the_exact_cpu_time_is_split_by_the_kernels_ratio() -> None:
    assert split_cpu(2.0, 0.3, 0.1) == pytest.approx((1.5, 0.5))
    assert split_cpu(2.0, 0.0, 0.0) == (None, None)  # no ticks yet: no ratio
    values = {"on_cpu_s": 2.0, "cpu_user_s": None, "cpu_system_s": None, "sleeping_s": 1.0}
    parts = state_parts(values.get)
    assert parts["user"] == 2.0 and parts["system"] == 0.0 and parts["sleeping_s"] == 1.0


def test_wait_share_is_of_the_time_it_wanted_a_cpu() -> None:
    p = _proc(on_cpu_s=1.0, waiting_cpu_s=3.0, sleeping_s=100.0)
    assert wait_share(p) == 0.75
    assert sched_cells(p)["wait_share"] == "75"
    assert wait_share(_proc()) is None and sched_cells(_proc())["wait_share"] == "—"


def test_runq_lines() -> None:
    assert runq_summary(None) is None and runq_summary((0, 0)) is None
    hist = (0,) * 10 + (3, 0, 1)
    assert runq_summary(hist).startswith("4 · p50 ~")
    # One wait of 3 µs (bucket [2 µs, 4 µs)): its p99 is never above all of the waits' time,
    # nor below its bucket.
    one = (0,) * 11 + (1,)
    assert "p99 ~4.08µs" in runq_summary(one)
    assert "p99 ~3.00µs" in runq_summary(one, total_s=3e-6)
    assert "p99 ~2.05µs" in runq_summary(one, total_s=1e-6)
    lines = histogram_lines(hist, width=10)
    assert len(lines) == 3  # from the first bucket used to the last, gaps included
    assert lines[0].plain.startswith(" ≥1.02µs") and lines[0].plain.endswith(" 3")


PARTS = {"user": 0.4689, "system": 0.1475, "waiting_cpu_s": 0.0755,
         "uninterruptible_s": 0.3122, "sleeping_s": 1.3711}  # fmt: skip


def test_the_legend_gives_up_the_shares_then_long_labels_before_it_is_cut() -> None:
    # (A trial read "sleeping 1.37s…" at 120 columns: the last figure cut.)
    full = legend(PARTS, rate=False).plain
    assert "(20%)" in full and "sleeping 1.37s (58%)" in full
    for width in (72, 80, 90, 104):
        assert len(legend(PARTS, rate=False, width=width).plain) <= width
    assert legend(PARTS, rate=False, width=90).plain.endswith("sleeping 1.37s")
    assert legend(PARTS, rate=False, width=72).plain.endswith("sleep 1.37s")
    assert legend(PARTS, rate=False, width=40).plain.endswith("sleep 1.37s")  # the shortest


def test_notes_are_packed_into_lines_that_fit() -> None:
    notes = ["waiting: for a CPU", "D: uninterruptible", "rates: thread-seconds a second"]
    assert packed(notes, 120) == [" · ".join(notes)]
    assert packed(notes, 40) == ["waiting: for a CPU · D: uninterruptible", notes[2]]
    assert all(len(line) <= 40 for line in packed(notes, 40))
