"""The process tree under many ended processes: a build ends hundreds at once; the tree keeps
an ended process a few snapshots, at most MAX_EXITED at once, and its pane says how many of
the ended processes it shows."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult

from denet_tui.model import CollectorInfo, ProcessSample
from denet_tui.widgets.process_tree import MAX_EXITED, PRUNE_AFTER, ProcessTree, procs_title

from .feed import feed, live_app, snapshots


def ended(pid: int) -> ProcessSample:
    return ProcessSample(pid=pid, ppid=1, name="cc1", cmdline=("cc1",), alive=False, end_ts=pid)


async def test_the_tree_counts_the_ended_processes_it_shows() -> None:
    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield ProcessTree()

    root = ProcessSample(pid=1, ppid=None, name="make", cmdline=("make",), alive=True)
    info = CollectorInfo("ebpf", "exact", "")
    app = One()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.query_one(ProcessTree)
        many = tuple(ended(pid) for pid in range(2, 2 + MAX_EXITED + 5))
        tree.show((root, *many), {}, collector=info)
        await pilot.pause()
        # (A trial counted 63 lines for 64 processes, nothing saying one was left out.)
        assert len(tree._node_of) == 1 + MAX_EXITED == 1 + tree.ended_shown
        for n in range(PRUNE_AFTER + 1):  # they age out: none shown then
            tree.show((replace(root, cpu_time_s=float(n)),), {}, collector=info)
        await pilot.pause()
        assert tree.ended_shown == 0 and len(tree._node_of) == 1


async def test_the_process_pane_says_how_many_ended_processes_it_shows() -> None:
    # (A second trial: "60 not shown" where 116 were: the aged-out ones were not counted.)
    app = live_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await feed(pilot)
        tree = app.query_one(ProcessTree)
        last = snapshots(app)[-1]
        lines = [app.timeline.process(pid) for pid in tree._node_of]
        shown_ended = sum(1 for p in lines if p is not None and not p.alive)
        assert shown_ended == tree.ended_shown < last.totals.processes_ended
        title = str(app.query_one("#procs").border_title)
        assert title == procs_title(shown_ended, last.totals.processes_ended)
        assert f"{shown_ended:,} of {last.totals.processes_ended:,} ended shown" in title
    assert procs_title(3, 3) == "processes"
