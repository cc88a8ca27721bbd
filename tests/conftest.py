"""Shared test setup.

eBPF rule: a test marked `@pytest.mark.ebpf` needs root, BCC, kernel headers and tracefs. When
`denet_tui.collectors.ebpf.support.ebpf_unavailable_reason()` says eBPF is unavailable here, the
test is skipped with that reason.

CI rule: with DENET_TUI_REQUIRE_EBPF=1 (as `.ci/run` sets), CI runs as root after the set-up has
installed everything, so *no* test may skip there: every skip (eBPF, tmux, setpriv, headers, …)
becomes a failure with its reason, and no feature can silently go untested where it can be.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

_EBPF_REASON = pytest.StashKey[str | None]()


def _ebpf_reason(config: pytest.Config) -> str | None:
    """Computed once per session, on the first eBPF test."""
    if _EBPF_REASON not in config.stash:
        from denet_tui.collectors.ebpf.support import ebpf_unavailable_reason

        config.stash[_EBPF_REASON] = ebpf_unavailable_reason()
    return config.stash[_EBPF_REASON]


def ebpf_required() -> bool:
    return os.environ.get("DENET_TUI_REQUIRE_EBPF") == "1"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("ebpf") is None:
        return
    reason = _ebpf_reason(item.config)
    if reason is not None:
        pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and ebpf_required() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"{reason} (DENET_TUI_REQUIRE_EBPF=1: in CI no test may skip)"


@pytest.fixture
def repo_root() -> Path:
    """The repository's top directory."""
    return REPO_ROOT
