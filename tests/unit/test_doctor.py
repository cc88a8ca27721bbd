"""denet_tui.doctor: the report format, first_failure, and the real checks on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from denet_tui import doctor
from denet_tui.collectors.ebpf import support
from denet_tui.collectors.ebpf.support import Check, first_failure
from denet_tui.doctor import format_check

LABELS = ("ok    ", "FAIL  ", "info  ", "skip  ")


# --- formatting and first_failure ----------------------------------------------------------------


def test_format_ok_line() -> None:
    line = format_check(Check("root", True, "running as uid 0", None))
    assert line == "ok    root            running as uid 0"


def test_format_fail_line_names_the_fix() -> None:
    line = format_check(
        Check(
            "kernel headers",
            False,
            "no kernel headers: /lib/modules/x/build missing",
            "run scripts/setup.sh as root",
        )
    )
    assert line.startswith("FAIL  kernel headers  no kernel headers")
    assert line.endswith(" — fix: run scripts/setup.sh as root")


def test_format_ok_line_never_shows_a_fix() -> None:
    assert "fix:" not in format_check(Check("bcc", True, "bcc 0.26.0", "unused"))


def test_format_info_and_skip_labels() -> None:
    info = format_check(Check("kprobes", True, "no kprobes", info=True))
    skip = format_check(Check("load program", False, "not tried", skipped=True))
    assert info.startswith("info  kprobes ")
    assert skip.startswith("skip  load program")


def test_first_failure() -> None:
    good = Check("root", True, "uid 0")
    info = Check("kprobes", True, "none", info=True)
    bad1 = Check("bcc", False, "bcc not importable", "apt")
    bad2 = Check("tracefs", False, "tracefs not mounted", "mount")
    skip = Check("load program", False, "not tried", skipped=True)
    assert first_failure([]) is None
    assert first_failure([good, info]) is None
    assert first_failure([good, skip]) is None
    assert first_failure([good, info, bad1, bad2, skip]) is bad1


def test_check_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Check("root", True, "x").ok = False  # type: ignore[misc]


# --- individual checks with made-up inputs -------------------------------------------------------


def test_root_by_capabilities() -> None:
    both = (1 << support.CAP_BPF) | (1 << support.CAP_PERFMON)
    assert support.check_root(uid=1000, status_text=f"CapEff:\t{both:016x}\n").ok
    only_bpf = support.check_root(uid=1000, status_text=f"CapEff:\t{1 << support.CAP_BPF:016x}\n")
    assert not only_bpf.ok
    assert only_bpf.detail.startswith("not root")
    assert "CAP_PERFMON" in only_bpf.detail and "CAP_BPF," not in only_bpf.detail
    assert support.check_root(uid=0).ok


def test_headers_missing(tmp_path: Path) -> None:
    c = support.check_headers(release="9.9.9-test", modules=str(tmp_path))
    assert not c.ok
    assert c.detail == f"no kernel headers: {tmp_path}/9.9.9-test/build missing"
    assert c.fix == "run scripts/setup.sh as root"


def test_headers_without_include(tmp_path: Path) -> None:
    (tmp_path / "9.9.9-test" / "build").mkdir(parents=True)
    c = support.check_headers(release="9.9.9-test", modules=str(tmp_path))
    assert not c.ok and "no include/" in c.detail


def test_headers_real_tree(tmp_path: Path) -> None:
    (tmp_path / "9.9.9-test" / "build" / "include").mkdir(parents=True)
    c = support.check_headers(release="9.9.9-test", modules=str(tmp_path))
    assert c.ok and "fallback" not in c.detail


def test_headers_debian_fallback_is_explained() -> None:
    src = sorted(Path("/usr/src").glob("linux-headers-*-amd64"))
    if not src:
        pytest.skip("no /usr/src/linux-headers-*-amd64 on this machine")
    modules = Path(os.environ.get("TMPDIR", "/tmp"))
    with _tmp_modules(modules) as root:
        (root / "9.9.9-test").mkdir()
        (root / "9.9.9-test" / "build").symlink_to(src[-1])
        c = support.check_headers(release="9.9.9-test", modules=str(root))
    assert c.ok
    assert "Debian fallback" in c.detail and "harmless" in c.detail and "stable types" in c.detail


class _tmp_modules:
    def __init__(self, base: Path) -> None:
        import tempfile

        self.path = Path(tempfile.mkdtemp(dir=base, prefix="denet-modules-"))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path)


def test_kprobes_is_info_never_failure() -> None:
    c = support.check_kprobes()
    assert c.ok and c.info
    assert "tracepoints only" in c.detail


def test_load_failure_reports_first_line_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> int:
        raise Exception("Failed to compile BPF module <text>\nsecond line\nthird")

    monkeypatch.setattr(support, "_compile_and_attach", boom)
    c = support.check_load()
    assert not c.ok
    assert c.detail == "test program failed: Exception: Failed to compile BPF module <text>"


def test_load_not_tried_after_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    called = []
    monkeypatch.setattr(
        support, "check_root", lambda: Check("root", False, "not root (uid 7)", "x")
    )
    monkeypatch.setattr(support, "_compile_and_attach", lambda: called.append(1) or 1)
    checks = support.run_checks(load_program=True)
    assert not called
    assert checks[-1].name == "load program" and checks[-1].skipped
    assert first_failure(checks).name == "root"  # type: ignore[union-attr]


def test_a_crashing_check_becomes_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash() -> Check:
        raise RuntimeError("oops\nmore")

    monkeypatch.setattr(support, "check_tracefs", crash)
    checks = support.run_checks(load_program=False)
    bad = [c for c in checks if c.name == "tracefs"]
    assert bad and not bad[0].ok and bad[0].detail == "check crashed: RuntimeError: oops"


def test_unavailable_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        support,
        "run_checks",
        lambda load_program=False: [
            Check("root", False, "not root (uid 1000; CapEff lacks CAP_BPF, CAP_PERFMON)", "sudo"),
        ],
    )
    assert support.ebpf_unavailable_reason() == (
        "ebpf unavailable: not root (uid 1000; CapEff lacks CAP_BPF, CAP_PERFMON)"
    )
    monkeypatch.setattr(support, "run_checks", lambda load_program=False: [Check("root", True, "")])
    assert support.ebpf_unavailable_reason() is None


def test_main_output_and_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = [
        Check("root", True, "running as uid 0"),
        Check(
            "kernel headers",
            False,
            "no kernel headers: /lib/modules/x/build missing",
            "run scripts/setup.sh as root",
        ),
        Check("load program", False, "not tried: an earlier check failed", skipped=True),
    ]
    monkeypatch.setattr(doctor, "run_checks", lambda load_program=True: checks)
    assert doctor.main() == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "ok    root            running as uid 0",
        "FAIL  kernel headers  no kernel headers: /lib/modules/x/build missing"
        " — fix: run scripts/setup.sh as root",
        "skip  load program    not tried: an earlier check failed",
        "ebpf unavailable: no kernel headers: /lib/modules/x/build missing"
        " → --collector auto uses procfs",
    ]
    monkeypatch.setattr(doctor, "run_checks", lambda load_program=True: checks[:1])
    assert doctor.main() == 0
    assert capsys.readouterr().out.splitlines()[-1] == "eBPF works here: --collector auto uses ebpf"


# --- the real checks on this machine -------------------------------------------------------------


def _run_doctor(*prefix: str, repo: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(repo))
    return subprocess.run(
        [*prefix, sys.executable, "-m", "denet_tui.doctor"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_module_runs_and_reports_line_by_line(repo_root: Path) -> None:
    proc = _run_doctor(repo=repo_root)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    names = [ln[6:22].strip() for ln in lines[:-1]]
    assert names == ["root", "bcc", "kernel headers", "tracefs", "kprobes", "load program"]
    assert all(ln.startswith(LABELS) for ln in lines[:-1])
    assert (proc.returncode == 0) == lines[-1].startswith("eBPF works here")


@pytest.mark.ebpf
def test_all_static_checks_pass_here() -> None:
    checks = support.run_checks(load_program=False)
    assert first_failure(checks) is None, [format_check(c) for c in checks]
    assert support.ebpf_unavailable_reason() is None


@pytest.mark.ebpf
def test_test_program_loads_and_sees_syscalls() -> None:
    c = support.check_load()
    assert c.ok, c.detail
    assert "raw_syscalls:sys_enter" in c.detail and " ms" in c.detail


@pytest.mark.ebpf
def test_doctor_exits_0_where_ebpf_works(repo_root: Path) -> None:
    proc = _run_doctor(repo=repo_root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "eBPF works here: --collector auto uses ebpf"
    assert not [ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL")]


def test_doctor_as_nobody_says_not_root(repo_root: Path) -> None:
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop to uid 65534")
    proc = _run_doctor(
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        repo=repo_root,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("FAIL  root            not root (uid 65534")
    assert lines[-1].startswith("ebpf unavailable: not root")
    assert lines[-1].endswith("→ --collector auto uses procfs")
