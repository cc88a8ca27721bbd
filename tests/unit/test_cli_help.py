"""The options' help names what exists."""

from __future__ import annotations

from denet_tui.cli import build_parser
from denet_tui.collectors.ebpf.families import FAMILIES


def test_the_probes_help_names_every_family() -> None:
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    probes = next(a for a in run._actions if a.dest == "probes")
    assert all(name in probes.help for name in FAMILIES), probes.help
