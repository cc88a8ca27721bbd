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
