"""How diff matches processes between two runs."""

from __future__ import annotations

from denet_tui.model import ProcessSample
from denet_tui.reports.diff import command_key


def test_diff_matches_commands_with_temporary_names_blanked() -> None:
    def key(*argv: str) -> str:
        return command_key(ProcessSample(pid=1, ppid=0, name="x", cmdline=argv, alive=False))

    assert key("as", "-o", "/tmp/ccKd4SSg.o", "/tmp/ccAb12cd.s") == "as -o /tmp/*.o /tmp/*.s"
    assert key("ld", "-fresolution=/tmp/ccyjvWqP.res", "x.o") == "ld -fresolution=/tmp/*.res x.o"
    assert key("cc", "-c", "u3.c") == "cc -c u3.c"
