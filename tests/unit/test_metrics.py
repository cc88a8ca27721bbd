"""The metrics' rules: names, the per-command folding (each series only grows, they add up to
the whole, the number of commands with series of their own is bounded), the shipped list."""

from __future__ import annotations

from pathlib import Path

import pytest

from denet_tui.metrics import (
    DECLARED,
    OTHER,
    PROCESS_KEYS,
    CommandTotals,
    base_name,
    markdown,
)
from denet_tui.model import ProcessSample
from denet_tui.sinks.prometheus import parse_address
from denet_tui.target import TargetError

CPU_USER = PROCESS_KEYS.index("cpu_user_s")


def proc(pid: int, name: str, cpu: float, alive: bool = True) -> ProcessSample:
    return ProcessSample(
        pid=pid, ppid=1, name=name, cmdline=(name,), alive=alive, start_ts=float(pid),
        cpu_user_s=cpu, cpu_system_s=0.0, rss_bytes=1000 if alive else None,
    )  # fmt: skip


def test_names_follow_prometheus_rules() -> None:
    assert base_name("cpu_time_s") == "cpu_time_seconds"
    assert base_name("read_bytes") == "read_bytes"
    names = [d.name for d in DECLARED]
    assert len(names) == len(set(names))
    for d in DECLARED:
        assert d.name.startswith("denet_")
        assert d.name.endswith("_total") == (d.kind == "counter"), d.name
        assert not {"pid", "path", "address"} & set(d.labels)
    assert "denet_tree_cpu_time_seconds_total" in names
    assert "denet_process_cpu_time_seconds_total" in names


def _user_cpu(series: dict[str, tuple[float, ...]]) -> dict[str, float]:
    return {name: figs[CPU_USER] for name, figs in series.items()}


def test_commands_folded_beyond_the_top_each_series_only_grows_and_all_add_up() -> None:
    c = CommandTotals(top=2)
    steps = [
        [proc(1, "sh", 0.1), proc(2, "cc", 1.0)],
        [proc(1, "sh", 0.2), proc(2, "cc", 2.0, alive=False), proc(3, "ld", 5.0)],
        # cc's ended process is listed again: folded once; ld vanished unlisted: kept
        [proc(1, "sh", 0.3), proc(2, "cc", 2.0, alive=False), proc(4, "cc", 0.5)],
        [proc(1, "sh", 0.4, alive=False), proc(5, "as", 9.0)],
    ]
    before: dict[str, float] = {}
    for procs in steps:
        c.update(procs)
        now = _user_cpu(c.series())
        for name, v in before.items():
            assert now.get(name, 0.0) >= v - 1e-9, (name, before, now)
        totals = _user_cpu(c.totals())
        assert sum(now.values()) == pytest.approx(sum(totals.values()))
        before = now
    assert set(c.named) == {"sh", "cc"}  # the first two, by CPU, kept
    assert _user_cpu(c.totals()) == pytest.approx({"sh": 0.4, "cc": 2.5, "ld": 5.0, "as": 9.0})
    assert before[OTHER] == pytest.approx(14.0)  # ld and as
    assert c.folded == 2
    assert c.series()[OTHER][PROCESS_KEYS.index("rss_bytes")] == 1000  # as, alive


def test_a_command_named_later_counts_from_then() -> None:
    c = CommandTotals(top=1)
    c.update([proc(1, "a", 1.0), proc(2, "b", 0.5)])
    assert set(c.named) == {"a"}
    c.update([proc(1, "a", 1.0, alive=False), proc(2, "b", 0.7)])
    assert _user_cpu(c.series()) == pytest.approx({"a": 1.0, OTHER: 0.7})


@pytest.mark.parametrize(
    ("text", "want"),
    [("9100", ("127.0.0.1", 9100)), ("0.0.0.0:80", ("0.0.0.0", 80)), ("[::1]:9", ("::1", 9))],
)
def test_addresses(text: str, want: tuple[str, int]) -> None:
    assert parse_address(text) == want


@pytest.mark.parametrize("text", ["", "x", "host:", ":80", "70000", "a:b"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(TargetError, match="expected PORT or HOST:PORT"):
        parse_address(text)


def test_the_shipped_metric_list_is_current() -> None:
    shipped = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
    assert shipped.read_text() == markdown(), "metrics changed: run scripts/gen_metrics_doc.py"
