"""Reports, diffs and budgets over real runs: the text report's syscall table equals strace's on
the same command; the HTML report of a build opens in headless Chromium (no network) without a
console error and fetches nothing; diff finds the doubled opens first; each kind of budget."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from denet_tui.budgets import EXIT_BUDGET

from .helpers import TIMING, strace_counts

pytestmark = pytest.mark.ebpf
REPO = Path(__file__).resolve().parents[2]


def denet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "denet_tui", *args], capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=120, env={**os.environ, **(env or {})},
    )  # fmt: skip


def recorded(
    tmp: Path, name: str, *cmd: str, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> Path:
    out = tmp / f"{name}.jsonl"
    done = denet("run", "--json", "--out", str(out), *extra, "--", *cmd, env=env)
    assert done.returncode == 0, done.stderr
    return out


def strace_table(text: str) -> dict[str, tuple[int, int]]:
    """{syscall: (calls, errors)} from a table in ``strace -c``'s own format."""
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) in (5, 6) and parts[3].isdigit() and parts[-1] != "total":
            rows[parts[-1]] = (int(parts[3]), int(parts[4]) if len(parts) == 6 else 0)
    return rows


def test_the_text_report_has_strace_c_counts(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for i in range(200):
        (tree / f"d{i % 5}").mkdir(parents=True, exist_ok=True)
        (tree / f"d{i % 5}" / f"f{i}").write_bytes(b"x" * (i * 37))
    run = recorded(
        tmp_path,
        "tar",
        "tar",
        "cf",
        str(tmp_path / "a.tar"),
        "-C",
        str(tmp_path),
        "tree",
        extra=("--probes", "syscalls"),
    )
    text = denet("report", str(run), "--format", "text")
    assert text.returncode == 0, text.stderr
    ours = strace_table(text.stdout)
    theirs = strace_counts(["tar", "cf", str(tmp_path / "b.tar"), "-C", str(tmp_path), "tree"],
                           tmp_path / "strace.txt")  # fmt: skip
    assert sum(c for c, _ in theirs.values()) > 1000
    assert {k: v for k, v in ours.items() if k not in TIMING} == {
        k: v for k, v in theirs.items() if k not in TIMING
    }
    assert re.search(r"\tCommand being timed: \"tar cf .*\"\n", text.stdout)
    assert "\tExit status: 0\n" in text.stdout
    csv = denet("report", str(run), "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("pid,ppid,name,cmdline") and len(csv) == 2  # tar alone


MAKEFILE = """OBJS := $(patsubst %.c,%.o,$(wildcard u*.c))
lib.a: $(OBJS)
\tar rcs lib.a $(OBJS)
%.o: %.c
\tcc -O1 -c $< -o $@
"""


def test_the_html_report_of_a_build_opens_offline_in_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("DENET_TUI_REQUIRE_EBPF"):
            pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
        pytest.skip("chromium is not installed")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        body = "".join(f"double f{i}_{f}(double x){{return x*{f}+{i};}}\n" for f in range(200))
        (src / f"u{i}.c").write_text(body)
    (src / "Makefile").write_text(MAKEFILE)
    run = recorded(tmp_path, "make", "make", "-C", str(src), "-j2",
                   extra=("--interval", "0.2", "--probes", "syscalls,sched"))  # fmt: skip
    html = tmp_path / "make.html"
    done = denet("report", str(run), "-o", str(html))
    assert done.returncode == 0, done.stderr
    page = html.read_text()
    # Nothing it refers to is fetched: no src/href/url()/@import to another place, in the page
    # around the library (plotly.js itself holds link texts for its maps' credits, unused here).
    assert get_plotlyjs() in page
    page = page.replace(get_plotlyjs(), "")
    assert not re.search(r"<(?:script|img|iframe)[^>]*\ssrc\s*=|<link\b", page)
    assert not re.search(
        r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", page
    )  # noqa: E501
    assert "cc -O1 -c u3.c -o u3.o" in page and "Plotly.newPlot" in page
    shot = tmp_path / "report.png"
    browser = subprocess.run(
        ["unshare", "-n", chromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--enable-logging=stderr", "--v=0", "--window-size=1400,2000",
         f"--screenshot={shot}", html.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.stat().st_size > 50_000, browser.stderr[-2000:]
    ours = [ln for ln in browser.stderr.splitlines() if "CONSOLE" in ln and "file://" in ln]
    assert ours == [], ours  # (Chromium's own pages log about the missing network: not ours)


# Opens of missing files, as many as $OPENS says (the command line stays the same: diff matches
# processes by it).
OPENS = """
import os
for i in range(int(os.environ["OPENS"])):
    try:
        os.open(f"/nonexistent/{i}", os.O_RDONLY)
    except OSError:
        pass
"""


def test_diff_shows_the_doubled_opens_first_and_nothing_else_beyond_timing(tmp_path: Path) -> None:
    probes = ("--probes", "syscalls")
    runs = {
        name: recorded(tmp_path, name, sys.executable, "-c", OPENS, extra=probes,
                       env={"OPENS": str(n), "PYTHONHASHSEED": "0"})
        for name, n in (("one", 3000), ("same", 3000), ("two", 6000))
    }  # fmt: skip
    one, same, two = runs["one"], runs["same"], runs["two"]
    done = denet("diff", str(one), str(same), "--json")
    assert done.returncode == 0, done.stderr
    moved = [c for c in json.loads(done.stdout)["changes"] if c["section"] == "syscall"]
    assert all(c["timing_dependent"] for c in moved), moved
    done = denet("diff", str(one), str(two), "--json")
    first = json.loads(done.stdout)["changes"][0]
    assert (first["section"], first["name"]) == ("syscall", "openat")  # its failed calls
    assert first["relative"] == pytest.approx(1.0, abs=0.05)  # +100 % (and the start-up's opens)
    text = denet("diff", str(one), str(two)).stdout
    assert re.search(r"syscall\s+openat\s+calls .* \+9\d\.\d%", text), text
    done = denet("diff", str(one), str(two), "--max-regression", "10%")
    assert done.returncode == EXIT_BUDGET and "regression: syscall openat " in done.stderr
    # Different schema versions: one line.
    old = tmp_path / "old.jsonl"
    lines = one.read_text().splitlines()
    old.write_text("\n".join([lines[0].replace('"schema":5', '"schema":3'), *lines[1:]]) + "\n")
    done = denet("diff", str(old), str(one))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "schema" in done.stderr


@pytest.mark.parametrize(
    ("budgets", "cmd", "code", "said"),
    [
        (("syscalls.openat<=1000", "wall_s<=60"), "exit 0", 0, ""),
        (("syscalls.openat<=10", "cpu_s<=100"), "exit 0", EXIT_BUDGET,
         "budget exceeded: syscalls.openat<=10 (measured syscalls.openat = "),
        (("syscalls.openat<=10",), "exit 7", 7, "budget exceeded: syscalls.openat<=10"),
        (("no_such_figure<=3",), "exit 0", 2, "no figure 'no_such_figure'"),
        (("syscalls.opnat<=0",), "exit 0", 2, "no figure 'syscalls.opnat'"),
        (("peak_rss<=2zz",), "exit 0", 2, "unknown unit 'zz'"),
    ],
)  # fmt: skip
def test_budgets(tmp_path: Path, budgets: tuple[str, ...], cmd: str, code: int, said: str) -> None:
    script = "for i in $(seq 20); do cat /nonexistent 2>/dev/null; done; " + cmd
    flags = [x for b in budgets for x in ("--budget", b)]
    done = denet("run", "--json", "--out", str(tmp_path / "r.jsonl"), "--probes", "syscalls",
                 *flags, "--", "sh", "-c", script)  # fmt: skip
    assert done.returncode == code, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    if code == 2:  # refused before anything ran
        assert done.stderr.count("\n") == 1 and not (tmp_path / "r.jsonl").exists()


def test_bad_recordings_are_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    for args in (("report", str(junk)), ("report", str(tmp_path / "missing.jsonl")),
                 ("diff", str(junk), str(junk))):  # fmt: skip
        done = denet(*args)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    # A recording cut short still gives its report, and says so.
    run = recorded(tmp_path, "t", "sh", "-c", "for i in 1 2 3; do cat /etc/hostname; done",
                   extra=("--probes", "syscalls"))  # fmt: skip
    cut = tmp_path / "cut.jsonl"
    cut.write_text(run.read_text()[:-40])
    done = denet("report", str(cut), "--format", "text")
    assert done.returncode == 0 and "cut short at line" in done.stdout, done.stderr
