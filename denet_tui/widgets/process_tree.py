"""The process tree: one line per process with CPU %, RSS and calls/s, updated in place.

Nodes are kept across snapshots (a ``pid → node`` map); labels change, processes are added and
removed where they belong, so expansion, cursor and scroll survive every refresh. A process that
exits is shown as exited for a few snapshots, then pruned (while it has no living descendant).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from denet_tui.model import CollectorInfo, ProcessSample
from denet_tui.rates import Rates
from denet_tui.widgets.process_rows import (
    SORT_KEYS,
    Row,
    columns_for,
    make_row,
    row_text,
    sort_value,
)

PRUNE_AFTER = 3  # snapshots an exited process stays on screen
MAX_EXITED = 40  # ended processes shown at once (those with a living descendant aside)


def forest(
    processes: Iterable[ProcessSample],
    shown: set[int],
    order: Mapping[int, tuple[bool, float]],
) -> dict[int | None, list[int]]:
    """Parent → ordered children among ``shown``; a process whose parent is not shown is a root."""
    kids: dict[int | None, list[int]] = {}
    by_pid = {p.pid: p for p in processes if p.pid in shown}
    for pid, p in by_pid.items():
        parent = p.ppid if p.ppid in by_pid and p.ppid != pid else None
        kids.setdefault(parent, []).append(pid)
    for children in kids.values():
        children.sort(key=lambda c: (order.get(c, (False, 0.0)), c))
    return kids


def procs_title(ended_shown: int, ended: int) -> str:
    """The process pane's title; says how many of the ``ended`` processes the tree shows (it
    keeps an ended one a few snapshots, at most MAX_EXITED at once: a build ends hundreds a
    second; the Finished tab counts every one)."""
    if ended_shown >= ended:
        return "processes"
    # (Short enough for the pane at 80 columns; its header row says these are processes.)
    return f"{ended_shown:,} of {ended:,} ended shown (tab 3: all)"


def in_order(seq: list[int]) -> set[int]:
    """Indices of a longest increasing subsequence of ``seq``: the children that can stay put."""
    tails: list[int] = []  # tails[k]: index in seq ending the best run of length k + 1
    back: list[int] = []
    for i, v in enumerate(seq):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if seq[tails[mid]] < v:
                lo = mid + 1
            else:
                hi = mid
        back.append(tails[lo - 1] if lo else -1)
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    keep: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        keep.add(i)
        i = back[i]
    return keep


def _matches(p: ProcessSample, needle: str) -> bool:
    return (
        needle in p.name.casefold()
        or needle in " ".join(p.cmdline).casefold()
        or str(p.pid).startswith(needle)
    )


def visible(
    processes: Iterable[ProcessSample],
    dead_for: Mapping[int, int],
    filter_text: str,
    scope: int | None = None,
) -> tuple[set[int], set[int]]:
    """Which processes to show, and which of those match the filter.

    Shown: every living process, those exited less than ``PRUNE_AFTER`` snapshots ago, the
    root of the scope, and exited ones with a shown descendant. With a filter, only matches
    (name or command line, case-insensitive, or the start of the pid) and their ancestors.
    """
    procs = {p.pid: p for p in processes}
    needle = filter_text.casefold()
    keep: set[int] = set()
    matched: set[int] = set()
    for pid, p in procs.items():
        if not p.alive and dead_for.get(pid, 0) >= PRUNE_AFTER and pid != scope:
            continue
        if needle and not _matches(p, needle):
            continue
        matched.add(pid)
        # Walk up: ancestors stay visible so a match keeps its place in the tree.
        while pid in procs and pid not in keep:
            keep.add(pid)
            parent = procs[pid].ppid
            if parent is None or parent == pid:
                break
            pid = parent
    return keep, matched


class ProcessTree(Tree[int]):
    """The tree of the watched processes. Enter scopes the other panes to a subtree."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Scope"),
        Binding("s", "cycle_sort", "Sort"),
    ]

    sort_key: reactive[str] = reactive("pid", init=False)
    filter_text: reactive[str] = reactive("", init=False)
    scope: reactive[int | None] = reactive(None, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        self._room = 0  # cells for a line: the width less the scrollbar gutter (set on resize)
        # While the tree is brought in line with a snapshot: whether a node was added or
        # removed (None: not now). Textual clears its line caches and marks the screen for a
        # new layout at each one (a build adds and removes hundreds a second): once is enough.
        self._changed_nodes: bool | None = None
        super().__init__("processes", id=id)
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 2
        self._node_of: dict[int, TreeNode[int]] = {}
        self._rows: dict[int, Row] = {}
        self._collapsed: set[int] = set()
        self._dead_for: dict[int, int] = {}
        self._ended: dict[int, ProcessSample] = {}  # ended processes, as last listed
        self._made: dict[int, tuple[tuple, Row]] = {}  # the inputs of each row, and the row
        self.ended_shown = 0  # ended processes among the lines, at the last rebuild
        self._processes: tuple[ProcessSample, ...] = ()
        self._listed: tuple[ProcessSample, ...] | None = None  # the last snapshot's, as given
        self._rates: Mapping[int, Rates] = {}
        self._exact = False
        self._kids: dict[int | None, list[int]] = {}

    def _invalidate(self) -> None:
        if self._changed_nodes is None:
            super()._invalidate()
        else:
            self._changed_nodes = True

    # -- rendering -------------------------------------------------------------------------

    def _indent(self, node: TreeNode[int]) -> int:
        depth = 0
        parent = node.parent
        while parent is not None and parent is not self.root:
            depth += 1
            parent = parent.parent
        return depth * self.guide_depth

    def get_label_width(self, node: TreeNode[int]) -> int:
        # Labels are drawn to the tree's width (see render_label): they never widen it, and
        # there is no need to draw every label to measure it.
        return max(0, self._room - self._indent(node))

    def on_resize(self) -> None:
        before = columns_for(self._room, exact=self._exact)
        self._room = self.scrollable_content_region.width
        if columns_for(self._room, exact=self._exact) != before:
            self._rebuild()  # the lines have the cells of the columns shown only

    def render_label(self, node: TreeNode[int], base_style: Style, style: Style) -> Text:
        row = self._rows.get(node.data) if node.data is not None else None
        if row is None:
            return super().render_label(node, base_style, style)
        icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        prefix = Text(icon if node.allow_expand else "", style=base_style + Style(bold=True))
        total = self._room
        cols = columns_for(total, exact=self._exact)
        width = total - self._indent(node) - len(prefix)
        label = row_text(row, max(sum(c.width for c in cols) + 4, width), cols)
        label.stylize(style)
        return Text.assemble(prefix, label)

    # -- state from the app ----------------------------------------------------------------

    def show(
        self,
        processes: tuple[ProcessSample, ...],
        rates: Mapping[int, Rates],
        *,
        collector: CollectorInfo,
    ) -> None:
        """Bring the tree in line with a snapshot, keeping expansion, cursor and scroll.

        A snapshot lists an ended process once (schema 1: in every later snapshot); the tree
        keeps it a few snapshots more, and while a process it shows descends from it. At most
        ``MAX_EXITED`` ended processes are shown, the latest to end first: a build ends
        hundreds a second, and the Finished tab has every one of them."""
        if processes is self._listed:
            return  # the same snapshot again (a view changed): its ended age once, not twice
        self._listed = processes
        listed = {p.pid for p in processes}
        dead_for, ended = self._dead_for, self._ended
        for p in processes:
            if p.alive:
                dead_for.pop(p.pid, None)
                ended.pop(p.pid, None)
            else:
                dead_for[p.pid] = dead_for.get(p.pid, -1) + 1
                ended[p.pid] = p
        kept = [p for pid, p in ended.items() if pid not in listed]
        parents = {p.ppid for p in processes} | {p.ppid for p in kept}
        for p in kept:
            dead_for[p.pid] += 1
            if dead_for[p.pid] > PRUNE_AFTER and p.pid not in parents and p.pid != self.scope:
                del dead_for[p.pid], ended[p.pid]
        processes = (*processes, *(p for p in kept if p.pid in ended))
        gone = [
            p for p in processes if not p.alive and p.pid not in parents and p.pid != self.scope
        ]
        if len(gone) > MAX_EXITED:
            latest = sorted(gone, key=lambda p: (dead_for.get(p.pid, 0), -(p.end_ts or 0.0)))
            hidden = {p.pid for p in latest[MAX_EXITED:]}
            processes = tuple(p for p in processes if p.pid not in hidden)
        # What the collector counts: every syscall (exact), or read/write calls from /proc.
        exact = collector.has("syscalls", "exact")
        before, old_rates = self._processes, self._rates
        if (
            exact == self._exact
            and len(processes) == len(before)
            and all(
                p is q and p.alive and rates.get(p.pid) is old_rates.get(p.pid)
                for p, q in zip(processes, before, strict=True)
            )
        ):
            return  # the same living processes with the same figures: every line stands
        self._processes, self._rates, self._exact = processes, rates, exact
        self._rebuild()

    def _rebuild(self) -> None:
        processes, rates, exact = self._processes, self._rates, self._exact
        shown, matched = visible(processes, self._dead_for, self.filter_text, self.scope)
        # Living processes first, then those that exited (until pruned); then the sort key.
        order = {
            p.pid: (not p.alive, sort_value(p, rates.get(p.pid), self.sort_key, exact))
            for p in processes
            if p.pid in shown
        }
        old_kids, self._kids = self._kids, forest(processes, shown, order)
        self.ended_shown = sum(not p.alive for p in processes if p.pid in shown)
        old_rows, made = self._rows, self._made
        self._rows, self._made = {}, {}
        cols = columns_for(self._room, exact=exact)
        for p in processes:
            if p.pid not in shown:
                continue
            r = rates.get(p.pid)
            key = (
                p,
                None if r is None else r.values,
                exact,
                p.pid in matched,
                p.pid == self.scope,
                cols,
            )
            got = made.get(p.pid)
            if got is not None and got[0][0] is p and got[0][1:] == key[1:]:
                row = got[1]  # same process, same figures: the line as it was
            else:
                row = make_row(p, r, exact=exact, matched=key[3], scoped=key[4], columns=cols)
            self._rows[p.pid] = row
            self._made[p.pid] = (key, row)
        self._apply(old_kids, old_rows)

    def watch_sort_key(self) -> None:
        self._rebuild()

    def watch_filter_text(self) -> None:
        self._rebuild()

    def watch_scope(self) -> None:
        self._rebuild()

    def _apply(self, old_kids: Mapping[int | None, list[int]], old_rows: Mapping[int, Row]) -> None:
        cursor = self.cursor_node
        cursor_pid = cursor.data if cursor is not None else None
        first = not self._node_of
        kids = self._kids
        # Only parents whose children changed are touched; the rest of the tree stays as it is.
        moved = False
        self._changed_nodes = False
        try:
            for pid in [p for p in kids.keys() | old_kids.keys() if kids.get(p) != old_kids.get(p)]:
                node = self.root if pid is None else self._node_of.get(pid)
                if node is not None:  # else: new this time, built with its parent
                    moved = self._sync(node, pid) or moved
        finally:
            changed, self._changed_nodes = self._changed_nodes, None
            if changed:
                self._invalidate()
        if not moved:
            # Same lines as before: repaint only those whose figures changed. (After adding or
            # removing nodes the tree lays out and repaints every line anyway.)
            for pid, row in self._rows.items():
                if old_rows.get(pid) != row:
                    self._node_of[pid].refresh()
        target = self._node_of.get(cursor_pid) if cursor_pid is not None else None
        if target is None and cursor_pid is not None:
            # The process under the cursor was pruned: fall back to the first shown line.
            target = next(iter(self._node_of.values()), None)
        if first and self._node_of:
            target = self.root.children[0]
        if target is not None and target is not cursor:
            _ = self.last_line  # lay the lines out now so the node's line is current
            self.move_cursor(target)

    def _sync(self, node: TreeNode[int], pid: int | None) -> bool:
        """Make ``node``'s children those of ``pid``, in order; True if any node was added or
        removed. Children out of order are re-added, as few as possible (with their subtree)."""
        want = self._kids.get(pid, [])
        if pid is not None:
            node.allow_expand = bool(want)
        if [c.data for c in node.children] == want:
            return False
        position = {p: i for i, p in enumerate(want)}
        kept = [c for c in node.children if c.data in position]
        for child in list(node.children):
            if child.data not in position:
                self._drop(child)
        stay = in_order([position[c.data] for c in kept])  # type: ignore[index]
        for i, child in enumerate(kept):
            if i not in stay:
                self._drop(child)
        for i, child_pid in enumerate(want):
            children = node.children
            if i < len(children) and children[i].data == child_pid:
                continue
            new = node.add(
                Text(self._rows[child_pid].name),
                child_pid,
                before=i if i < len(children) else None,
                expand=child_pid not in self._collapsed,
            )
            self._node_of[child_pid] = new
            self._sync(new, child_pid)  # its subtree, from scratch
        return True

    def _drop(self, node: TreeNode[int]) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.data is not None and self._node_of.get(n.data) is n:
                del self._node_of[n.data]
            stack.extend(n.children)
        node.remove()

    # -- user actions ----------------------------------------------------------------------

    def _on_tree_node_collapsed(self, event: Tree.NodeCollapsed[int]) -> None:
        if event.node.data is not None:
            self._collapsed.add(event.node.data)

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[int]) -> None:
        if event.node.data is not None:
            self._collapsed.discard(event.node.data)

    def action_cycle_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
