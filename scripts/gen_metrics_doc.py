"""Write docs/metrics.md from denet_tui/metrics.py; run after changing a metric or a figure.
`tests/unit/test_metrics.py` fails while the shipped file differs."""

from __future__ import annotations

from pathlib import Path

from denet_tui.metrics import markdown

OUT = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"

if __name__ == "__main__":
    OUT.write_text(markdown())
    print(f"wrote {OUT}")
