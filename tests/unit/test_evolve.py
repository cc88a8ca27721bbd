"""evolve: dataclasses.replace's results and checks, for every class of the model."""

from __future__ import annotations

import dataclasses

import pytest

from denet_tui.evolve import evolve
from denet_tui.model import ProcessSample, TargetStatus


def sample() -> ProcessSample:
    return ProcessSample(
        pid=7, ppid=1, name="cc", cmdline=["cc", "-c"], alive=True, null_reasons={"x": "why"}
    )


def test_the_same_as_replace_field_by_field() -> None:
    s = sample()
    got = evolve(s, cpu_percent=12.5, state="R")
    assert got == dataclasses.replace(s, cpu_percent=12.5, state="R")
    assert (got.cpu_percent, got.state, got.name) == (12.5, "R", "cc")
    assert s.cpu_percent is None  # the original is untouched


def test_post_init_runs_on_what_changed() -> None:
    got = evolve(sample(), cmdline=["a", "b"], null_reasons={"y": "z"})
    assert got.cmdline == ("a", "b")
    assert dict(got.null_reasons) == {"y": "z"}
    with pytest.raises(TypeError):
        got.null_reasons["q"] = "r"  # type: ignore[index]  # frozen, as replace's


def test_an_unknown_field_is_refused_as_replace_refuses_it() -> None:
    with pytest.raises(TypeError, match="no field bogus"):
        evolve(TargetStatus(pid=3, status="running"), bogus=1)
    with pytest.raises(TypeError):
        dataclasses.replace(TargetStatus(pid=3, status="running"), bogus=1)


def test_a_class_without_slots_goes_through_replace() -> None:
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int
        b: int = 0

    assert evolve(Plain(1), b=2) == Plain(1, 2)
