"""Fixtures of the functional tests."""

from __future__ import annotations

import os

import pytest

from tests.functional.tmux import Tmux


@pytest.fixture
def tmux(request: pytest.FixtureRequest):
    t = Tmux(f"denet-e2e-{os.getpid()}-{request.node.name}")
    yield t
    t.kill()
