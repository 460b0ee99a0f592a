"""The repository layout must never let ``platform/`` shadow the stdlib module."""

from __future__ import annotations

import importlib.util
import platform
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_stdlib_platform_is_the_one_imported():
    assert platform.system()  # would raise AttributeError if platform/ were a package
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib


def test_platform_folder_is_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()
    spec = importlib.util.find_spec("platform")
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert spec is not None and Path(spec.origin).resolve().parent == stdlib


def test_libraries_that_import_platform_still_work():
    import uuid

    import redis
    import sqlalchemy

    assert uuid.uuid4() and redis.Redis and sqlalchemy.__version__


def test_fengqiao_is_imported_from_platform_folder():
    import fengqiao

    assert Path(fengqiao.__file__).resolve().parent == ROOT / "platform" / "fengqiao"


def test_top_level_layout():
    for name in ["platform", "plugins", "form_definitions", "themes", "tests", "bench",
                 "setup.cfg", "README.md", "Makefile", ".ci/run"]:
        assert (ROOT / name).exists(), name


def test_lint_rejects_a_stdlib_shadowing_module(tmp_path):
    """The ruff config (A005, strict) flags a `platform` package before it can break imports."""
    import shutil
    import subprocess

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "platform").mkdir()
    (tmp_path / "platform" / "__init__.py").write_text("X = 1\n")
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert "A005" in result.stdout or "stdlib-module-shadowing" in result.stdout
