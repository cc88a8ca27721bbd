"""A pane whose figures did not change is not repainted: at one snapshot a second, repainting
every pane was the screen's whole idle cost (a frame repaints everything inside the box that
bounds its dirty regions)."""

from __future__ import annotations

from collections import Counter

from textual.widget import Widget

from denet_tui.messages import SnapshotTaken
from denet_tui.widgets.category_bars import CategoryBars
from denet_tui.widgets.syscall_table import SyscallTable

from .feed import EBPF, feed, live_app, snapshots


async def test_unchanged_syscall_panes_are_not_repainted(monkeypatch) -> None:
    painted: Counter[str] = Counter()
    for cls in (SyscallTable, CategoryBars):
        original = cls.render_line

        def counted(self: Widget, y: int, _original=original, _name=cls.__name__):
            painted[_name] += 1
            return _original(self, y)

        monkeypatch.setattr(cls, "render_line", counted)
    app = live_app(EBPF)
    async with app.run_test(size=(160, 50)) as pilot:
        await feed(pilot)
        await pilot.pause(0.2)
        assert painted["SyscallTable"] and painted["CategoryBars"]  # drawn once at least
        painted.clear()
        last = snapshots(app)[-1]
        for _ in range(3):  # the same figures again, as for a tree that is idle
            app.post_message(SnapshotTaken(last))
            await pilot.pause(0.1)
        assert painted == Counter()


async def test_a_new_sort_is_marked_at_once_even_when_the_order_stays() -> None:
    from textual.app import App, ComposeResult

    from denet_tui.ledger import SyscallSums
    from denet_tui.model import CollectorInfo
    from denet_tui.model import SyscallTable as Rows

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield SyscallTable(id="t")

    sums = SyscallSums()
    sums.add(Rows([("read", "file_io", 100, 0, None, None)]))
    sums.add(Rows([("write", "file_io", 50, 0, None, None)]))
    summary = sums.summary("count", exact=True)
    info = CollectorInfo("ebpf", "exact", "", share_basis="count")
    app = One()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(SyscallTable)
        table.show(summary, collector=info)
        await pilot.pause()

        def header() -> str:
            return "".join(seg.text for seg in table.render_line(0))

        assert "CALLS▼" in header()
        table.sort_by("errors")  # both 0: read, write as before, by name
        await pilot.pause()
        assert "ERRORS▼" in header() and "CALLS▼" not in header()
        table.sort_by("syscall")  # A to Z: up, as the tree's PID▲ (a trial read ▼ as Z to A)
        await pilot.pause()
        assert "SYSCALL▲" in header() and "▼" not in header()
