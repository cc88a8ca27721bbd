"""Syscall table and category rules: complete, disjoint, and matching the kernel headers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from denet_tui import syscalls
from denet_tui.syscall_table import TABLES
from denet_tui.syscalls import (
    CATEGORIES,
    category_index_by_nr,
    category_of,
    category_of_nr,
    rules,
    syscall_name,
    table,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "scripts" / "gen_syscall_table.py"
GENERATED = REPO_ROOT / "denet_tui" / "syscall_table.py"
HEADERS = (
    Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    Path("/usr/include/asm-generic/unistd.h"),
)


def test_categories_order() -> None:
    assert CATEGORIES == (
        "file_io",
        "network",
        "memory",
        "process",
        "signal",
        "ipc",
        "sync",
        "time",
        "sched",
        "security",
        "system",
        "other",
    )
    assert list(rules()) == list(CATEGORIES)


def test_rules_are_disjoint() -> None:
    seen: dict[str, str] = {}
    for category, names in rules().items():
        for name in names:
            assert name not in seen, f"{name} in both {seen[name]} and {category}"
            seen[name] = category


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_every_table_name_is_categorised_explicitly(arch: str) -> None:
    listed = set().union(*rules().values())
    missing = sorted(set(TABLES[arch].values()) - listed)
    assert not missing, f"{arch} syscalls without a category: {missing}"


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("read", "file_io"),
        ("connect", "network"),
        ("mmap", "memory"),
        ("clone3", "process"),
        ("rt_sigaction", "signal"),
        ("pipe2", "ipc"),
        ("futex", "sync"),
        ("clock_nanosleep", "time"),
        ("sched_yield", "sched"),
        ("setuid", "security"),
        ("uname", "system"),
        # Documented choices for the debatable ones.
        ("epoll_wait", "ipc"),
        ("poll", "ipc"),
        ("membarrier", "sync"),
        ("kill", "signal"),
        ("prctl", "process"),
        ("io_uring_enter", "file_io"),
        ("afs_syscall", "other"),
    ],
)
def test_known_members(name: str, category: str) -> None:
    assert category_of(name) == category


def test_unknown_names_and_numbers_are_other() -> None:
    assert category_of("not_a_syscall") == "other"
    for arch in ("x86_64", "aarch64"):
        assert syscall_name(99999, arch) == "syscall_99999"
        assert category_of_nr(99999, arch) == "other"
    # A hole inside the aarch64 numbering (arch-specific range) keeps its number too.
    assert syscall_name(250, "aarch64") == "syscall_250"
    assert category_of("syscall_250") == "other"


@pytest.mark.parametrize(
    ("nr", "name"),
    [(0, "read"), (1, "write"), (2, "open"), (59, "execve"), (231, "exit_group"), (435, "clone3")],
)
def test_x86_64_numbers(nr: int, name: str) -> None:
    assert syscall_name(nr, "x86_64") == name


@pytest.mark.parametrize(
    ("nr", "name"),
    [(63, "read"), (64, "write"), (221, "execve"), (435, "clone3"), (25, "fcntl"), (62, "lseek")],
)
def test_aarch64_numbers(nr: int, name: str) -> None:
    # 25 and 62 come through the __NR3264_* indirection: the 64-bit name must win.
    assert syscall_name(nr, "aarch64") == name


def test_aarch64_has_only_64_bit_names() -> None:
    names = set(TABLES["aarch64"].values())
    assert not names & {"fcntl64", "llseek", "mmap2", "clock_gettime64", "futex_time64"}
    assert {"mmap", "newfstatat", "fstat", "renameat", "clone3", "memfd_secret"} <= names
    assert "open" not in names  # the generic table only has openat


def test_arch_aliases_and_default() -> None:
    assert table("amd64") == table("x86_64")
    assert table("arm64") == table("aarch64")
    with pytest.raises(ValueError):
        table("sparc")
    # The default follows the running machine; on an unsupported one nothing is named.
    expected = syscalls.machine_arch()
    assert table() == (TABLES[expected] if expected else {})
    assert syscall_name(10**6) == "syscall_1000000"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_category_index_by_nr(arch: str) -> None:
    indexes = category_index_by_nr(arch)
    numbers = TABLES[arch]
    assert len(indexes) == max(numbers) + 1
    for nr, index in enumerate(indexes):
        assert CATEGORIES[index] == category_of_nr(nr, arch)
    assert CATEGORIES[indexes[435]] == "process"
    indexes[0] = -1  # callers get their own copy
    assert category_index_by_nr(arch)[0] != -1


@pytest.mark.skipif(
    not all(h.exists() for h in HEADERS), reason="kernel UAPI headers (linux-libc-dev) missing"
)
def test_generated_table_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "syscall_table.py"
    subprocess.run([sys.executable, str(GENERATOR), "--output", str(out)], check=True)
    assert out.read_text() == GENERATED.read_text(), (
        "denet_tui/syscall_table.py is stale: run python scripts/gen_syscall_table.py"
    )
