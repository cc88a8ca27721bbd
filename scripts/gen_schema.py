"""Write denet_tui/jsonl.schema.json from the model (denet_tui/schema.py); run after changing a
model dataclass. `tests/unit/test_schema.py` fails while the shipped file differs."""

from __future__ import annotations

import json
from pathlib import Path

from denet_tui.schema import generate

OUT = Path(__file__).resolve().parents[1] / "denet_tui" / "jsonl.schema.json"

if __name__ == "__main__":
    OUT.write_text(json.dumps(generate(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")
