"""The process tree under many ended processes: a build ends hundreds at once; the tree shows
the latest MAX_EXITED of them, and its pane says how many it leaves out."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult

from denet_tui.model import CollectorInfo, ProcessSample
from denet_tui.widgets.process_tree import MAX_EXITED, PRUNE_AFTER, ProcessTree, procs_title


def ended(pid: int) -> ProcessSample:
    return ProcessSample(pid=pid, ppid=1, name="cc1", cmdline=("cc1",), alive=False, end_ts=pid)


async def test_ended_processes_past_the_limit_are_counted_in_the_title() -> None:
    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield ProcessTree()

    root = ProcessSample(pid=1, ppid=None, name="make", cmdline=("make",), alive=True)
    info = CollectorInfo("ebpf", "exact", "")
    app = One()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.query_one(ProcessTree)
        tree.show((root, *(ended(pid) for pid in range(2, 2 + MAX_EXITED + 5))), {}, collector=info)
        await pilot.pause()
        # (A trial counted 63 lines for 64 processes, nothing saying one was left out.)
        assert len(tree._node_of) == 1 + MAX_EXITED
        assert tree.ended_not_shown == 5
        assert procs_title(tree.ended_not_shown) == (
            "processes · 5 ended processes not shown (3 Finished)"
        )
        for _ in range(PRUNE_AFTER + 1):  # the ended ones age out: none left out then
            tree.show((replace(root, cpu_time_s=float(_)),), {}, collector=info)
        await pilot.pause()
        assert tree.ended_not_shown == 0 and procs_title(0) == "processes"
