"""Where eBPF cannot work: a clear one-line reason, a fallback under auto, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.ebpf import EbpfCollector, loader

from .helpers import SYSCALLS

pytestmark = pytest.mark.ebpf

REPO = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _as_nobody(args: list[str]) -> subprocess.CompletedProcess[str]:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop root")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [*NOBODY, sys.executable, *args],
        capture_output=True,
        text=True,
        cwd="/",
        env=env,
        timeout=60,
    )


def test_not_root_is_a_collector_error() -> None:
    code = (
        "from denet_tui.collectors.ebpf import EbpfCollector\n"
        "from denet_tui.collectors.base import CollectorError\n"
        "try:\n    EbpfCollector()\nexcept CollectorError as e:\n    print(e)\n"
    )
    r = _as_nobody(["-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("not root"), r.stdout
    assert "Traceback" not in r.stderr


def test_cli_ebpf_without_root_exits_2_with_the_reason() -> None:
    r = _as_nobody(["-m", "denet_tui", "run", "--json", "--collector", "ebpf", "--", "true"])
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "not root" in lines[0], r.stderr
    assert r.stdout == ""


def test_cli_auto_without_root_falls_back_with_the_reason() -> None:
    r = _as_nobody(["-m", "denet_tui", "run", "--json", "--collector", "auto", "--", "true"])
    assert r.returncode == 0, r.stderr
    meta = json.loads(r.stdout.splitlines()[0])
    assert meta["collector"]["name"] == "procfs"
    assert "not root" in meta["collector"]["reason"]
    assert "Traceback" not in r.stderr


def test_without_bcc_is_a_collector_error(tmp_path: Path) -> None:
    # -S: no site-packages at all, so no Debian dist-packages and no bcc.
    code = (
        "from denet_tui.collectors.ebpf import EbpfCollector\n"
        "from denet_tui.collectors.base import CollectorError\n"
        "try:\n    EbpfCollector()\nexcept CollectorError as e:\n    print(e)\n"
    )
    r = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("BCC is not importable"), r.stdout


def test_compile_failure_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for source in loader.BPF_DIR.iterdir():
        (tmp_path / source.name).write_text("this is not C;\n")
    monkeypatch.setattr("denet_tui.collectors.ebpf.loader.BPF_DIR", tmp_path)
    with pytest.raises(CollectorError) as info:
        EbpfCollector()
    message = str(info.value)
    assert message.startswith("cannot load the BPF program")
    assert "\n" not in message


def test_info_and_start_contract() -> None:
    with EbpfCollector(probes=SYSCALLS) as c:
        assert c.info.name == "ebpf"
        assert c.info.syscalls == "exact"
        assert c.info.share_basis == "time"
        with pytest.raises(CollectorError):
            c.sample()  # not started


def test_relative_output_paths_land_in_the_working_directory(tmp_path: Path) -> None:
    """BCC's compiler changes the process's directory while it works; a recording opened
    meanwhile by the screen landed in the kernel headers' folder (3 runs in 3)."""
    from tests.functional.tmux import DENET, Tmux

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    tmux = Tmux(f"denet-e2e-{os.getpid()}-relative-paths")
    try:
        tmux.start(
            f"cd {tmp_path} && {DENET} run --exit-on-finish --record rel.jsonl --export rel.json"
            f" -- sleep 1; touch {tmp_path}/done; sleep 30",
        )
        deadline = time.monotonic() + 30
        while not (tmp_path / "done").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        tmux.kill()
    lines = (tmp_path / "rel.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "meta" and json.loads(lines[-1])["kind"] == "end"
    assert json.loads((tmp_path / "rel.json").read_text())
