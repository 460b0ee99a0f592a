"""The ``world`` fixture: one demo world per test module (security_world.py builds it)."""

from __future__ import annotations

import pytest
from security_world import build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory, _sqlite_template):
    built = build_world(tmp_path_factory, _sqlite_template)
    yield built
    built.app.extensions["fengqiao.db"].dispose()
