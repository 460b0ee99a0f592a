"""A wheel that installs anywhere (docs/deploy.md, "Packaging").

The core and every bundled plugin are built as wheels from a copy of the checkout and
installed into a new virtual environment in a temporary folder. There, with the checkout on
no path, ``fengqiao db upgrade`` and ``fengqiao demo-data load`` run and gunicorn serves the
themed login page, the published public forms and a plugin's page. The dependencies come
from this test's own environment (a folder of links to its site-packages, minus every
fengqiao distribution), so nothing is downloaded; fengqiao itself comes only from the wheels.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))
PLUGIN_PACKAGES = [p.name.replace("-", "_") for p in PLUGINS]
# What a build must not see: environments, caches, earlier builds (setuptools would ship a
# stale build/lib), the egg-info editable installs leave behind.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     "*.pyc", "instance", "test-artifacts", ".*_cache")
SECRET_KEY = "wheel-test-k7Qm2xVt9pLs4nWd8rZa3bYc6hJe1uFg5oTi0"


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def _core_sources(folder: str, names: list[str]) -> set[str]:
    """The core's build sees its own files only: no plugins, tests or benchmarks."""
    ignored = set(NOT_SOURCES(folder, names))
    if Path(folder) == ROOT:
        ignored |= {"plugins", "tests", "bench"} & set(names)
    return ignored


def _source_files(folder: Path, pattern: str = "**/*") -> set[str]:
    """Files under ``folder`` (relative, POSIX) that a distribution must carry."""
    return {p.relative_to(folder).as_posix() for p in folder.glob(pattern)
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def _wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _under(names: set[str], prefix: str) -> set[str]:
    return {n[len(prefix):] for n in names if n.startswith(prefix)}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """One wheel per distribution, built once in one pip run: no build isolation (the test
    extra brings setuptools >= 77) and no index, so it is offline and takes seconds."""
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(ROOT, source / "fengqiao", ignore=_core_sources)
    for plugin in PLUGINS:
        shutil.copytree(plugin, source / plugin.name, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("wheels")
    _run([sys.executable, "-m", "pip", "wheel", "-qq", "--no-deps", "--no-build-isolation", "--no-index",
          "--wheel-dir", out, source / "fengqiao", *(source / p.name for p in PLUGINS)])
    built = {w.name.split("-")[0]: w for w in out.glob("*.whl")}
    assert sorted(built) == sorted(["fengqiao", *PLUGIN_PACKAGES])
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheels) -> Path:
    """A new virtual environment holding the wheels; its dependencies are links to ours."""
    home = tmp_path_factory.mktemp("venv")
    env = home / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", env])
    _run([sys.executable, "-m", "pip", "--python", env / "bin" / "python", "install", "-qq", "--no-deps",
          "--no-index", *wheels.values()])
    dependencies = home / "dependencies"
    dependencies.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("fengqiao", "__editable__")) and entry.suffix != ".pth":
            (dependencies / entry.name).symlink_to(entry)
    site = _run([env / "bin" / "python", "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    (Path(site.stdout.strip()) / "dependencies.pth").write_text(f"{dependencies}\n", encoding="utf-8")
    return env


def test_wheels_carry_the_data_folders_and_nothing_from_the_checkout(wheels):
    core = _wheel_files(wheels["fengqiao"])
    assert {n.split("/")[0] for n in core} == {"fengqiao", "fengqiao-0.1.0.dist-info"}  # no bench/, tests/
    assert _source_files(ROOT / "platform" / "fengqiao") <= _under(core, "fengqiao/")
    assert _source_files(ROOT / "themes") <= _under(core, "fengqiao/bundled/themes/")
    assert _source_files(ROOT / "form_definitions", "*.json") <= _under(core, "fengqiao/bundled/form_definitions/")
    for plugin, package in zip(PLUGINS, PLUGIN_PACKAGES, strict=True):
        names = _wheel_files(wheels[package])
        assert {n.split("/")[0] for n in names} == {package, f"{package}-0.1.0.dist-info"}, plugin.name
        # templates, static files, migrations and form definitions included
        assert _source_files(plugin / package) <= _under(names, f"{package}/"), plugin.name


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn exited {server.returncode}:\n{log.read_text()}"
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"gunicorn did not serve {url} within 90 s:\n{log.read_text()}")


PROBE = """
import importlib, json, sys
import fengqiao, fengqiao.testing.plugin  # the pytest plugin the wheel registers (pytest11)
from fengqiao.app import create_app
create_app({"require_secret_key": False})  # imports the core's modules and loads the plugins
print(json.dumps({
    "fengqiao": fengqiao.__file__,
    "plugins": [importlib.import_module(name).__file__ for name in sys.argv[1:]],
    "path": sys.path,
    "modules": sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)}),
}))
"""


def test_installed_wheels_migrate_load_the_demo_and_serve(venv, tmp_path):
    work = tmp_path / "site"  # the current folder of every command: holds nothing but instance/
    work.mkdir()
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "FENGQIAO_INSTANCE_PATH": str(work / "instance"), "FENGQIAO_SECRET_KEY": SECRET_KEY}

    _run([venv / "bin" / "fengqiao", "db", "upgrade"], cwd=work, env=env)
    # Testing mode only for its cheap password hashes: 25 production argon2 hashes cost seconds.
    loaded = _run([venv / "bin" / "fengqiao", "demo-data", "load"], cwd=work, env={**env, "FENGQIAO_MODE": "testing"})
    assert "已加载演示数据" in loaded.stdout

    probe = json.loads(_run([venv / "bin" / "python", "-I", "-c", PROBE, *PLUGIN_PACKAGES],
                            cwd=work, env=env).stdout)
    assert Path(probe["fengqiao"]).is_relative_to(venv)
    assert all(Path(f).is_relative_to(venv) for f in probe["plugins"]), probe["plugins"]
    assert not [p for p in probe["path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert not [f for f in probe["modules"] if Path(f).is_relative_to(ROOT)]  # no bench/, no checkout

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [venv / "bin" / "python", "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "fengqiao.wsgi:app"], cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(f"{base}/login", server, log)

        status, login = _get(f"{base}/login")
        html = login.decode()
        assert status == 200 and "工作人员登录" in html
        assert 'class="topbar"' in html and 'href="/theme/fengqiao.css"' in html  # default theme's base.html
        status, css = _get(f"{base}/theme/fengqiao.css")
        assert (status, css) == (200, (ROOT / "themes" / "default" / "static" / "fengqiao.css").read_bytes())

        status, forms = _get(f"{base}/forms")  # published by `db upgrade` from the bundled definitions
        public = [json.loads(p.read_text(encoding="utf-8")) for p in (ROOT / "form_definitions").glob("*.json")]
        titles = [d["title"] for d in public if d.get("access") == "public"]
        assert status == 200 and titles and all(t in forms.decode() for t in titles)

        status, board = _get(f"{base}/p/points/board")  # a plugin's template inside the theme
        assert status == 200 and "积分公示栏" in board.decode() and 'class="topbar"' in board.decode()
        status, plugin_css = _get(f"{base}/p/points/static/points.css")
        plugin_static = ROOT / "plugins" / "fengqiao-points" / "fengqiao_points" / "static" / "points.css"
        assert (status, plugin_css) == (200, plugin_static.read_bytes())
    finally:
        server.terminate()
        server.wait(timeout=30)
