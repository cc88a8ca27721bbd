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
