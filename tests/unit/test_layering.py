"""The core runs without Textual: importing it in a fresh interpreter never loads Textual."""

from __future__ import annotations

import subprocess
import sys

CORE = (
    "denet_tui.model",
    "denet_tui.rates",
    "denet_tui.ledger",
    "denet_tui.finished",
    "denet_tui.wire",
    "denet_tui.session",
    "denet_tui.pump",
    "denet_tui.headless",
    "denet_tui.sinks.jsonl",
    "denet_tui.sinks.export",
    "denet_tui.collectors.select",
    "denet_tui.collectors.procfs",
    "denet_tui.collectors.replay",
    "denet_tui.collectors.ebpf",
)


def test_importing_the_core_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {CORE!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_probe_families_do_not_import_each_other() -> None:
    """A family's reader knows its own BPF side only: what two families share lives in the
    tracker, the layout, base.py or events.py (the event families' base), never in one family
    importing another."""
    import ast
    from pathlib import Path

    import denet_tui.collectors.ebpf.families as families

    here = Path(families.__file__).parent
    mine = {p.stem for p in here.glob("*.py")} - {"__init__", "base", "events"}
    assert "syscalls" in mine
    for name in mine:
        tree = ast.parse((here / f"{name}.py").read_text())
        imported = {
            n.module if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in n.names
        }
        others = {f"denet_tui.collectors.ebpf.families.{o}" for o in mine - {name}}
        assert not imported & others, f"family {name} imports {imported & others}"
