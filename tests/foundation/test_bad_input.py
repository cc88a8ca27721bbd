"""Bad input is one line and exit 2, found before anything runs; never an "internal error"."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .conftest import denet_as_nobody, run_json


@pytest.mark.parametrize(
    ("option", "make", "says"),
    [
        ("--export", lambda d: d / "missing" / "x.json", "no such directory"),
        ("--export", lambda d: d, "is a directory"),
        ("--out", lambda d: d / "missing" / "x.jsonl", "no such directory"),
        ("--out", lambda d: Path("/proc/denet-tui-x"), "cannot create files in /proc"),
        ("--record", lambda d: d / "missing" / "r.jsonl", "no such directory"),
    ],
)
def test_unwritable_output_paths_fail_before_the_command_runs(
    tmp_path: Path, option: str, make, says: str
) -> None:
    marker = tmp_path / "ran"
    args = ["run", "--collector", "procfs"]
    if option == "--out":
        args.append("--json")
    code, lines, err = run_json(*args, option, str(make(tmp_path)), "--", "touch", str(marker))
    assert code == 2 and lines == []
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "internal error" not in err
    assert not marker.exists()


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is not installed")
def test_an_output_path_without_permission_is_refused() -> None:
    private = Path(tempfile.mkdtemp(prefix="denet-private-"))
    try:
        private.chmod(0o700)  # root's: `nobody` may not create files in it
        proc = denet_as_nobody(
            "run",
            "--json",
            "--collector",
            "procfs",
            "--out",
            str(private / "x.jsonl"),
            "--",
            "true",
            timeout=60,
            cwd="/",
        )
        assert proc.returncode == 2 and "Permission denied" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    finally:
        shutil.rmtree(private)


def _replay(path: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "denet_tui", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stderr


def test_bad_recordings_say_what_is_wrong_and_where(tmp_path: Path, repo_root: Path) -> None:
    good = (repo_root / "tests" / "data" / "build-procfs.jsonl").read_bytes()
    cases = {
        "truncated.jsonl": (good[:3000], "the recording holds no snapshot"),  # cut in line 2
        "binary.jsonl": (os.urandom(64) + b"\xff", ":1: not text"),
        "empty.jsonl": (b"", "not a denet-tui recording"),
        "fields.jsonl": (
            good.split(b"\n")[0] + b'\n{"kind":"snapshot","t":1}\n',
            ":2: snapshot record without the field",
        ),
        "types.jsonl": (
            good.split(b"\n")[0] + b'\n{"kind":"snapshot","t":1,"ts":1,"target":{"pid":1,'
            b'"status":"running"},"processes":5,"syscalls":{"by_category":{},"by_name":{}}}\n',
            ":2: malformed snapshot record",
        ),
    }
    for name, (data, says) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        code, err = _replay(path)
        assert code == 2, (name, err)
        assert len(err.strip().splitlines()) == 1 and says in err, (name, err)
        assert "internal error" not in err and "Traceback" not in err


def test_a_device_is_written_into_never_replaced() -> None:
    import stat

    # /dev/full takes no bytes: each output fails in one line, and the device stays a device.
    for option in ("--export", "--out"):
        code, _, err = run_json(
            "run", "--json", "--collector", "procfs", option, "/dev/full", "--", "true"
        )
        assert code == 2, (option, err)
        assert err.strip().splitlines() == [
            "denet-tui: cannot write /dev/full: No space left on device"
        ]
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    code, lines, err = run_json(
        "run", "--json", "--collector", "procfs", "--export", "/dev/null", "--", "true"
    )
    assert code == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode), err


def test_a_source_without_newlines_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    device = tmp_path / "zero"
    os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # endless NUL bytes
    code, err = _replay(device)
    assert code == 2 and ":1: a line longer than" in err
