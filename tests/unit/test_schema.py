"""The shipped JSON Schema is the one generated from the model (``scripts/gen_schema.py``)."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema

from denet_tui.schema import generate


def test_the_shipped_schema_is_generated_from_the_model() -> None:
    shipped = json.loads(files("denet_tui").joinpath("jsonl.schema.json").read_text())
    assert shipped == generate(), "the model changed: run scripts/gen_schema.py"
    jsonschema.Draft202012Validator.check_schema(shipped)
