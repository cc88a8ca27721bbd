from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files

import jsonschema
import pytest

# A parent that runs 20 CPU burners (shells, about 30 ms each here) one after another, then
# writes what getrusage says its waited-for children used: argv[1] is the file.
BURNERS = """
import json, resource, subprocess, sys
for _ in range(20):
    subprocess.run(["sh", "-c", "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done"], check=True)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump(
    {"cpu": kids.ru_utime + kids.ru_stime, "user": kids.ru_utime, "system": kids.ru_stime,
     "nvcsw": kids.ru_nvcsw, "nivcsw": kids.ru_nivcsw},
    open(sys.argv[1], "w"),
)
"""


def run_json(*args: str, timeout: float = 60) -> tuple[int, list[dict], str]:
    """Run `denet-tui ARGS` headless and return (exit status, parsed JSON lines, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "denet_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines, proc.stderr


def denet_as_nobody(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run `denet-tui ARGS` as the `nobody` user (setpriv), text output captured."""
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        + [sys.executable, "-m", "denet_tui", *args],
        capture_output=True,
        text=True,
        **kwargs,
    )


def snapshots(lines: list[dict]) -> list[dict]:
    return [d for d in lines if d["kind"] == "snapshot"]


def every_process(lines: list[dict]) -> list[dict]:
    """Each process ever listed, as last listed (by pid and start time)."""
    last: dict[tuple[int, float | None], dict] = {}
    for s in snapshots(lines):
        for p in s["processes"]:
            last[(p["pid"], p["start_ts"])] = p
    return list(last.values())


@pytest.fixture(scope="session")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(files("denet_tui").joinpath("jsonl.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)
