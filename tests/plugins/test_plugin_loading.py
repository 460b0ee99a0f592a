"""Broken plugins, found through real entry points, never stop the platform.

Each case writes fake distributions (``<dist>-<version>.dist-info`` with ``METADATA``,
``entry_points.txt``, ``top_level.txt`` and ``RECORD``, next to their module) into a temporary
folder and puts it on ``sys.path``: the same metadata ``pip install`` leaves behind, read by
``importlib.metadata`` and stevedore exactly as in production. The app must start, answer
``/healthz``, and report the plugin's state and reason both in ``GET /api/v1/plugins`` and in
``fengqiao plugins list --json`` (a subprocess that finds the fakes through ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from stevedore import ExtensionManager

from fengqiao.plugins.discovery import NAMESPACE, discover
from fengqiao.testing.cli import run_cli


@dataclass
class FakeDist:
    dist: str  # distribution name
    module: str  # top-level module, unique per fake (modules stay imported)
    source: str
    entry_points: dict[str, str] = field(default_factory=dict)  # name -> "module:attr"
    version: str = "0.3.1"


def _plugin_source(class_body: str, name: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        from flask import Blueprint

        from fengqiao.sdk import Plugin
        {extra}

        class Fake(Plugin):
            name = {name!r}
            title = "测试插件 {name}"
        """) + textwrap.indent(textwrap.dedent(class_body), "    ")


BLUEPRINT = """
def blueprint(self):
    bp = Blueprint("fake", __name__)
    bp.get("/")(lambda: "这里不应可达")
    return bp
"""

CASES: dict[str, list[FakeDist]] = {
    "import_error": [FakeDist(
        "fake-broken-import", "fq_fake_broken_import",
        'raise ImportError("缺少依赖 libfoo")\n',
        {"broken_import": "fq_fake_broken_import:Fake"},
    )],
    "incompatible": [FakeDist(
        "fake-future", "fq_fake_future",
        _plugin_source('api_version = ">=99"\n' + BLUEPRINT, "future"),
        {"future": "fq_fake_future:Fake"},
    )],
    "duplicate_name": [
        FakeDist("fake-twin-a", "fq_fake_twin_a", _plugin_source(BLUEPRINT, "twin"),
                 {"twin": "fq_fake_twin_a:Fake"}),
        FakeDist("fake-twin-b", "fq_fake_twin_b", _plugin_source(BLUEPRINT, "twin"),
                 {"twin": "fq_fake_twin_b:Fake"}, version="2.0"),
    ],
    "setup_raises": [FakeDist(
        "fake-crashy", "fq_fake_crashy",
        _plugin_source(BLUEPRINT + textwrap.dedent("""
            def setup(self, ctx):
                ctx.add_menu_item("p_crashy.index", "坏菜单")
                ctx.add_permission("view", "查看", roles=("staff",))
                ctx.add_widget("card", "坏卡片", lambda: 1 / 0)
                raise RuntimeError("配置缺失")
            """), "crashy"),
        {"crashy": "fq_fake_crashy:Fake"},
    )],
    "not_a_plugin": [FakeDist(
        "fake-notplugin", "fq_fake_notplugin",
        "def helper():\n    return 42\n\n\nclass NotAPlugin:\n    name = 'notplugin'\n",
        {"notplugin": "fq_fake_notplugin:NotAPlugin", "justafunction": "fq_fake_notplugin:helper"},
    )],
    "bad_name": [FakeDist(
        "fake-badname", "fq_fake_badname", _plugin_source(BLUEPRINT, "Bad-Name"),
        {"badname": "fq_fake_badname:Fake"},
    )],
    "partly_enabled": [FakeDist(
        "fake-alphabet", "fq_fake_alphabet",
        _plugin_source(BLUEPRINT, "alpha") + textwrap.dedent("""

            class Beta(Fake):
                name = "beta"


            class Nameless(Fake):
                name = ""  # falls back to the entry point's name
            """),
        {"alpha": "fq_fake_alphabet:Fake", "beta": "fq_fake_alphabet:Beta",
         "gamma": "fq_fake_alphabet:Nameless"},
    )],
}

# case -> {plugin name: (state, text the reason must contain)}
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "import_error": {"broken_import": ("failed", "ImportError: 缺少依赖 libfoo")},
    "incompatible": {"future": ("incompatible", ">=99")},
    "duplicate_name": {"twin": ("failed", "duplicate_name")},
    "setup_raises": {"crashy": ("failed", "RuntimeError: 配置缺失")},
    "not_a_plugin": {"notplugin": ("failed", "Plugin"), "justafunction": ("failed", "Plugin")},
    "bad_name": {"Bad-Name": ("failed", "无效")},
}


def write_dist(root: Path, fake: FakeDist) -> None:
    """What ``pip install`` leaves in site-packages, minus the installer's bookkeeping."""
    (root / f"{fake.module}.py").write_text(fake.source, encoding="utf-8")
    info = root / f"{fake.dist.replace('-', '_')}-{fake.version}.dist-info"
    info.mkdir()
    files = {
        "METADATA": f"Metadata-Version: 2.1\nName: {fake.dist}\nVersion: {fake.version}\n",
        "entry_points.txt": f"[{NAMESPACE}]\n"
        + "".join(f"{name} = {target}\n" for name, target in fake.entry_points.items()),
        "top_level.txt": f"{fake.module}\n",
    }
    for name, text in files.items():
        (info / name).write_text(text, encoding="utf-8")
    record = [f"{fake.module}.py,,"] + [f"{info.name}/{n},," for n in [*files, "RECORD"]]
    (info / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")


def forget_discovery() -> None:
    """Drop the per-process caches so the next lookup scans ``sys.path`` again.

    stevedore keeps entry points per namespace on ``ExtensionManager`` (its on-disk cache is
    keyed by ``sys.path`` and the ``entry_points.txt`` files' mtimes, so it notices by itself).
    """
    discover.cache_clear()
    ExtensionManager.ENTRY_POINT_CACHE.pop(NAMESPACE, None)


@pytest.fixture
def fake_site(request, tmp_path_factory, monkeypatch) -> Path:
    """A folder of fake distributions for the case named by the test's parameter."""
    root = tmp_path_factory.mktemp("site-packages")
    fakes = CASES[request.param]
    for fake in fakes:
        write_dist(root, fake)
    monkeypatch.syspath_prepend(str(root))
    forget_discovery()
    yield root
    forget_discovery()
    for fake in fakes:
        sys.modules.pop(fake.module, None)


@pytest.fixture
def app_config(request, fake_site) -> dict:
    """Every installed plugin (the default outside tests) unless a ``plugins`` mark names some.

    Depending on ``fake_site`` makes the app start after the fakes are on ``sys.path``.
    """
    return {} if request.node.get_closest_marker("plugins") else {"plugins": "*"}


def cli_report(root: Path, tmp_path: Path, **env: str) -> dict[str, list[dict]]:
    """``fengqiao plugins list --json``, finding the fakes ``fake_site`` put on ``sys.path``
    (after forgetting what discovery knew)."""
    assert str(root) in sys.path
    forget_discovery()
    result = run_cli(["plugins", "list", "--json"], {
        "FENGQIAO_MODE": "testing",
        "FENGQIAO_INSTANCE_PATH": str(tmp_path / "cli-instance"),
        "FENGQIAO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        **env,
    })
    assert result.returncode == 0, result.stderr
    return by_name(json.loads(result.stdout))


def by_name(report: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for entry in report:
        assert set(entry) >= {"name", "version", "api_version", "state", "reason"}, entry
        grouped.setdefault(entry["name"], []).append(entry)
    return grouped


def assert_reported(report: dict[str, list[dict]], case: str) -> None:
    for name, (state, reason) in EXPECTED[case].items():
        entries = report.get(name)
        assert entries, f"{name} missing from {sorted(report)}"
        for entry in entries:
            assert entry["state"] == state, entry
            assert reason in (entry["reason"] or ""), entry
            assert entry["version"] in ("0.3.1", "2.0"), entry  # from the fake's METADATA


BROKEN = sorted(EXPECTED)


@pytest.fixture
def case(request) -> str:
    return request.node.callspec.params["fake_site"]


@pytest.mark.parametrize("fake_site", BROKEN, indirect=True)
def test_broken_plugin_is_reported_over_http(case, app, client, bearer):
    assert client.get("/healthz").status_code == 200
    response = client.get("/api/v1/plugins", headers=bearer("admin"))
    assert response.status_code == 200
    assert_reported(by_name(response.get_json()), case)
    loaded = app.extensions["fengqiao.plugins"]
    for name in EXPECTED[case]:
        assert name not in loaded
        assert client.get(f"/p/{name}/", headers=bearer("admin")).status_code == 404


@pytest.mark.parametrize("fake_site", BROKEN, indirect=True)
def test_broken_plugin_is_reported_by_the_cli(case, fake_site, tmp_path):
    assert_reported(cli_report(fake_site, tmp_path), case)


@pytest.mark.parametrize("fake_site", ["duplicate_name"], indirect=True)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_both_duplicates_are_reported(fake_site, tmp_path, app):
    from fengqiao.plugins.loader import plugin_report

    twins = [p for p in plugin_report(app) if p["name"] == "twin"]
    assert sorted(t["version"] for t in twins) == ["0.3.1", "2.0"]
    assert len(cli_report(fake_site, tmp_path)["twin"]) == 2


@pytest.mark.parametrize("fake_site", ["setup_raises"], indirect=True)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_setup_failure_leaves_nothing_behind(fake_site, app, client, login_as):
    """What ``setup()`` registered before raising must not break the core's pages."""
    login_as("admin")
    page = client.get("/")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert "坏菜单" not in html and "坏卡片" not in html
    from fengqiao.accounts.roles import permissions_for

    with app.app_context():
        assert "crashy.view" not in permissions_for("staff")


@pytest.mark.parametrize("fake_site", ["partly_enabled"], indirect=True)
@pytest.mark.plugins("alpha")  # as FENGQIAO_PLUGINS=alpha
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_plugins_not_named_in_fengqiao_plugins_are_disabled(fake_site, tmp_path, app, client, bearer):
    report = by_name(client.get("/api/v1/plugins", headers=bearer("admin")).get_json())
    assert report["alpha"][0]["state"] == "enabled"
    assert report["beta"][0]["state"] == "disabled"
    assert "FENGQIAO_PLUGINS" in report["beta"][0]["reason"]
    assert client.get("/p/alpha/", headers=bearer("admin")).status_code == 200
    assert client.get("/p/beta/", headers=bearer("admin")).status_code == 404
    assert report["gamma"][0]["state"] == "disabled"

    cli = cli_report(fake_site, tmp_path, FENGQIAO_PLUGINS="alpha")
    assert cli["alpha"][0]["state"] == "enabled"
    assert cli["beta"][0]["state"] == "disabled"
    assert "FENGQIAO_PLUGINS" in cli["beta"][0]["reason"]
