"""pytest fixtures: real databases, an app, clients signed in as a role.

Loaded automatically through the ``pytest11`` entry point once ``fengqiao`` is installed.

- ``app`` runs each test on SQLite and on PostgreSQL; narrow it with
  ``@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)``.
- The app loads no plugins unless a test asks: ``@pytest.mark.plugins("hello", …)`` (or
  ``pytestmark = pytest.mark.plugins("hello")`` for a module), so core tests never depend
  on what happens to be installed.
- Databases are reset, not rebuilt, between tests, and ``demo`` (the demo county with the
  core's and enabled plugins' forms published) is restored from a snapshot taken once per
  test process (fengqiao/testing/databases.py, docs/testing.md);
  ``login_as("shenli")``/``bearer("shenli")`` act as a demo account;
  ``submit_form(client, key, data)`` submits through the public API and
  ``walk_case(client, number, [(action, body), …], headers)`` takes workflow steps.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import jinja2
import jinja2.bccache
import pytest

from fengqiao.testing import groups
from fengqiao.testing.databases import (
    PostgresTestDatabase,
    SqliteTemplates,
    load_demo_into,
    migrate,
)
from fengqiao.testing.services import Postgres, Redis, start_postgres, start_redis
from fengqiao.testing.speedups import (
    drop_kept_connections,
    memoise_rule_parsing,
    memoise_url_builders,
    share_compiled_statements,
)

TEST_SECRET = "fengqiao-test-secret-key-0123456789abcdef"
_DEMO_PRELOADED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Postgres]:
    try:
        server = start_postgres()
    except (RuntimeError, OSError) as err:
        pytest.skip(f"PostgreSQL unavailable: {err}")
    yield server
    server.stop()


def _worker_index() -> int:
    """0, 1, … for pytest-xdist workers (gw0, gw1, …); 0 without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker[2:].isdigit() else 0


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    """The local Redis, on a database number of this test process's own (13, 12, … per
    xdist worker), emptied before and after; else a throwaway server."""
    try:
        server = start_redis(13 - _worker_index() % 8)
    except (RuntimeError, OSError) as err:
        pytest.skip(f"Redis unavailable: {err}")
    import redis

    redis.Redis.from_url(server.url).flushdb()
    yield server
    redis.Redis.from_url(server.url).flushdb()
    server.stop()


@pytest.fixture(scope="session")
def _sqlite_folder(tmp_path_factory) -> Iterator[Path]:
    """Where this process's SQLite files live: in memory (/dev/shm) where there is one, as a
    test's database is written, checkpointed and thrown away, and on a disk each commit and
    each close (the WAL's checkpoint) waits for it. ``FENGQIAO_TEST_SQLITE_DIR`` picks another
    folder; without either they go under pytest's tmp_path."""
    base = os.environ.get("FENGQIAO_TEST_SQLITE_DIR") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else "")
    if not base:
        yield tmp_path_factory.mktemp("sqlite")
        return
    folder = Path(tempfile.mkdtemp(prefix="fengqiao-sqlite-", dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def _sqlite_templates(_sqlite_folder: Path) -> SqliteTemplates:
    (_sqlite_folder / "templates").mkdir()
    return SqliteTemplates(_sqlite_folder / "templates")


@pytest.fixture(scope="session")
def _sqlite_template(_sqlite_templates: SqliteTemplates) -> Path:
    """The just-migrated SQLite file, for a module-scoped world that copies it itself."""
    return _sqlite_templates.migrated


@pytest.fixture(scope="session")
def _pg_database(pg_server: Postgres) -> Iterator[PostgresTestDatabase]:
    name = pg_server.create_database(durable=False)  # thrown away at the end: no flush per commit
    url = pg_server.url(name)
    migrate(url)
    database = PostgresTestDatabase(url)
    yield database
    database.dispose()
    pg_server.drop_database(name)


def _demo_snapshot(request) -> tuple | None:
    """The key of the demo snapshot a test starts from, or None when it loads no demo or
    its app's demo cannot be told in advance (``plugins: "*"``, a Redis the loading may use)."""
    if "demo" not in request.fixturenames:
        return None
    marker = request.node.get_closest_marker("plugins")
    config = {"plugins": list(marker.args) if marker else [], **request.getfixturevalue("app_config")}
    if not isinstance(config["plugins"], list | tuple) or config.get("redis_url"):
        return None
    return ("demo", *config["plugins"])


def _demo_maker(key: tuple, tmp_path_factory) -> Callable[[str], None]:
    def make(url: str) -> None:
        instance = tmp_path_factory.mktemp("demo-snapshot")
        load_demo_into(url, app_settings_for_tests(url, instance, plugins=list(key[1:])))
    return make


_UNSAFE_IN_NAME = re.compile(r"[^\w.-]")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated database: empty, or already holding the demo county when the test uses
    ``demo`` (a snapshot per set of plugins, taken once per test process)."""
    snapshot = _demo_snapshot(request)
    make = _demo_maker(snapshot, tmp_path_factory) if snapshot else None
    request.node.stash[_DEMO_PRELOADED] = snapshot is not None
    if request.param == "sqlite":
        name = _UNSAFE_IN_NAME.sub("_", request.node.name)[:60]
        path = request.getfixturevalue("_sqlite_folder") / f"{name}-{uuid.uuid4().hex[:8]}.db"
        request.getfixturevalue("_sqlite_templates").copy_to(path, snapshot, make)
        yield f"sqlite:///{path}"
        for leftover in (path.name, f"{path.name}-wal", f"{path.name}-shm"):  # the app has let go of it
            (path.parent / leftover).unlink(missing_ok=True)
        return
    database: PostgresTestDatabase = request.getfixturevalue("_pg_database")
    drop_kept_connections(database.url)
    database.reset(snapshot, make)
    yield database.url


@pytest.fixture
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """An empty, unmigrated database on the same backend as ``database_url`` would use."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: Postgres = request.getfixturevalue("pg_server")
    name = server.create_database(durable=False)
    yield server.url(name)
    server.drop_database(name)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "plugins(*names): load these installed plugins in `app`")
    config.addinivalue_line("markers", "browser: drives headless Chromium through Playwright")
    config.addinivalue_line("markers", "slow: takes 5 s or more on a quiet machine (`-m 'not slow'` skips it)")
    memoise_url_builders()  # every test builds an app: compile each route's URL builder once
    memoise_rule_parsing()  # … and parse each route string once
    share_compiled_statements()  # … and compile each SQL statement once


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # only with pytest-xdist
def pytest_xdist_auto_num_workers(config) -> int | None:
    """``-n auto``: one test process more than there are CPUs (a test waits on PostgreSQL,
    Redis, a subprocess or the browser about as much as it computes); the Makefile caps it
    at 4. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus + 1


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads xdist_group into the node ids
def pytest_collection_modifyitems(config, items) -> None:
    """Under xdist, the long tests (browser walk-throughs, servers, wheels) go first, so no
    worker starts one while the others are finishing (the suite's tail); and under
    ``--dist loadgroup`` a module's tests stay on one worker when they share a module-scoped
    fixture (a security world, built wheels), so it is built once, not once per worker.
    (``--dist loadgroup`` hands out the groups first, largest first, then the other tests in
    this order; fengqiao/testing/groups.py carries the groups to the controller.)"""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    items.sort(key=lambda item: not (item.get_closest_marker("browser") or item.get_closest_marker("slow")))
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        if fixtures is not None and any(
                defs[-1].scope in ("module", "package", "class") for defs in fixtures.name2fixturedefs.values() if defs):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    groups.write(config, items)


@pytest.hookimpl(optionalhook=True)  # xdist's controller, for each worker it starts
def pytest_configure_node(node) -> None:
    node.workerinput[groups.WORKER_KEY] = str(groups.folder(node.config) / f"{node.gateway.id}.json")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    return groups.scheduler(config, log) if config.getvalue("dist") == "loadgroup" else None


def pytest_unconfigure(config) -> None:
    groups.remove_folder(config)


@pytest.fixture
def app_config() -> dict:
    """Override (or parametrize) to change settings (``redis_url``, ``theme`` …)."""
    return {}


def app_settings_for_tests(database_url: str, tmp_path: Path, **overrides) -> dict:
    """Settings for a test app: testing mode, no Redis, no plugins unless asked."""
    config = {
        "mode": "testing",
        "database_url": database_url,
        "instance_path": str(tmp_path / "instance"),
        "secret_key": TEST_SECRET,
        "redis_url": None,
        "plugins": [],
    }
    config.update(overrides)
    return config


class _SharedTemplateCode(jinja2.BytecodeCache):
    """Compiled templates shared by every test app of the process: each test builds a new app,
    whose Jinja environment would otherwise parse and compile every template it renders again
    (about a tenth of a short test). Entries are checked against the source's checksum."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self.code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


@pytest.fixture
def app(request, database_url, tmp_path, app_config):
    from fengqiao.app import create_app

    marker = request.node.get_closest_marker("plugins")
    plugins = list(marker.args) if marker else []
    app = create_app(app_settings_for_tests(database_url, tmp_path, **{"plugins": plugins, **app_config}))
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    yield app
    app.extensions["fengqiao.db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(request, app):
    """The demo jurisdiction (docs/domain.md, "Demo county") loaded into the test database:
    usually ``database_url`` already restored it from a snapshot, else it is loaded now."""
    if not request.node.stash.get(_DEMO_PRELOADED, False):
        from fengqiao.demo_data import load_demo_data

        with app.app_context():
            load_demo_data()
    return app


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token from a page's form (tests post forms the way a browser does)."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, username: str, password: str | None = None):
    from fengqiao.demo_data import DEMO_PASSWORD

    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password or DEMO_PASSWORD, "csrf_token": token},
    )


def api_token(client, username: str, password: str | None = None) -> str:
    from fengqiao.demo_data import DEMO_PASSWORD

    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": password or DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


def submit_form(client, key: str, data: dict, headers: dict | None = None, org: str | None = None) -> dict:
    """Submit ``data`` to form ``key`` through the API; returns ``{case_number, tracking_code}``."""
    url = f"/api/v1/forms/{key}/submissions" + (f"?org={org}" if org else "")
    response = client.post(url, json=data, headers=headers or {})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def walk_case(client, number: str, steps: list[tuple[str, dict]], headers: dict) -> dict:
    """Take workflow ``steps`` (``[(action, {"comment": …, "fields": …}), …]``) on a case in
    order, each with the case's current version; returns the case JSON after the last one."""
    for action, body in steps:
        version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
        response = client.post(f"/api/v1/cases/{number}/actions/{action}",
                               json={"version": version, **body}, headers=headers)
        assert response.status_code == 200, (action, response.get_data(as_text=True))
    return client.get(f"/api/v1/cases/{number}", headers=headers).get_json()


def png_bytes(color: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A small real PNG (uploads are decoded and re-encoded, so fakes are refused)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


def upload_photo(client, number: str, headers: dict, name: str = "photo.png") -> str:
    """Upload a photo for a step of case ``number`` (``POST /cases/<n>/photos``); its id."""
    import io

    response = client.post(f"/api/v1/cases/{number}/photos", headers=headers,
                           data={"file": (io.BytesIO(png_bytes()), name)}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def self_handle_photos(client, number: str, headers: dict) -> dict:
    """Fields for 自行处置 (``before_after_photos``): a before and an after photo."""
    return {"before_photos": [upload_photo(client, number, headers, "before.png")],
            "after_photos": [upload_photo(client, number, headers, "after.png")]}


@pytest.fixture
def login_as(client, demo):
    """``login_as("shenli")`` signs the test client in as a demo account."""

    def _login(username: str):
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


@pytest.fixture
def bearer(client, demo):
    """``bearer("shenli")`` returns headers carrying an API token for a demo account."""

    def _headers(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_token(client, username)}"}

    return _headers


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--lang=zh-CN",  # the browser's own words (file inputs) in Chinese, as on a clerk's machine
]


@pytest.fixture
def live_server(app):
    """The app served on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="session")
def _chromium():
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install playwright)")
    with sync_playwright() as p, _screenshots_when_asked():
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


SCREENSHOTS = "FENGQIAO_SCREENSHOTS"


@contextlib.contextmanager
def _screenshots_when_asked():
    """Screenshots are for people to look at (``make screenshots``), not assertions: unless
    ``FENGQIAO_SCREENSHOTS=1``, ``page.screenshot(path=…)`` and ``locator.screenshot`` only
    return empty bytes. A full-page screenshot of a long page costs Chromium 0.5–2.5 s, and
    the suite takes ~80 of them."""
    if os.environ.get(SCREENSHOTS) == "1":
        yield
        return
    from playwright.sync_api import Locator, Page

    def skipped(self, *args, **kwargs) -> bytes:
        return b""

    saved = Page.screenshot, Locator.screenshot
    Page.screenshot = Locator.screenshot = skipped
    try:
        yield
    finally:
        Page.screenshot, Locator.screenshot = saved


@pytest.fixture
def page(_chromium):
    """A fresh browser page (desktop size); use ``phone_page`` for a phone viewport."""
    context = _chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


@pytest.fixture(autouse=True)
def _close_browser_contexts(request) -> Iterator[None]:
    """After a browser test, close the contexts it opened itself (``person_page``: one per
    person of a walk-through), else each keeps its pages, renderer and service worker alive in
    the test process's Chromium until the last test."""
    yield
    browser = request.node.funcargs.get("_chromium") if "_chromium" in request.fixturenames else None
    for context in browser.contexts if browser is not None else ():
        with contextlib.suppress(Exception):  # already closed, or the browser is gone
            context.close()


@pytest.fixture
def phone_page(_chromium):
    context = _chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                    device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def browser_login(page, base: str, username: str, password: str | None = None) -> None:
    """Sign ``page`` in through the login form, as a person does; returns on the dashboard."""
    from fengqiao.demo_data import DEMO_PASSWORD

    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def person_page(browser, base: str, username: str | None = None, phone: bool = False):
    """A browser context of one person's own (a 390×844 phone or a 1280 px desk), signed in
    when ``username`` is given: each person of a walk-through acts in their own browser."""
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    page = browser.new_context(locale="zh-CN", viewport=size).new_page()
    if username:
        browser_login(page, base, username)
    return page


def case_action_form(page, button: str):
    """The case page's form of the action whose button reads ``button``."""
    return page.locator("form.case-action", has=page.get_by_role("button", name=button, exact=True))


def act_on_case(page, base: str, number: str, button: str, comment: str | None = None,
                fields: dict | None = None, shot: Path | None = None) -> None:
    """Take one step on the staff case page as a clerk does — selects by visible option (or
    value), ticks, dates, text — optionally photograph the filled form, send it and wait for
    the confirmation."""
    from playwright.sync_api import expect

    page.goto(f"{base}/cases/{number}")
    form = case_action_form(page, button)
    expect(form).to_be_visible()
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    for name, value in (fields or {}).items():
        control = form.locator(f"[name=field_{name}]")
        if value is True:
            control.check()
        elif control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)  # a string matches an option's value or its label
        else:
            control.fill(value)
    if shot:
        form.scroll_into_view_if_needed()
        page.screenshot(path=str(shot), full_page=True)
    form.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(f"{base}/cases/{number}")
    expect(page.get_by_text("已办理，当前状态")).to_be_visible()


@pytest.fixture
def screenshot_dir() -> Path:
    """Screenshots land in ./test-artifacts so a person can look at what the tests saw."""
    path = Path("test-artifacts")
    path.mkdir(exist_ok=True)
    return path


def load_plugin_demo(app) -> list[str]:
    """Run the enabled plugins' demo loaders (``ctx.add_demo_data``) as ``fengqiao demo`` does;
    returns the names of the plugins whose loader ran."""
    from fengqiao.demo_data import load_plugin_demo_data

    with app.app_context():
        return load_plugin_demo_data()


def imports_outside_the_sdk(package: Path) -> list[str]:
    """``file: module`` for every import of the core other than ``fengqiao.sdk`` and its
    submodules (``fengqiao.sdk.testing`` is for tests only), and of another plugin
    (``fengqiao_*``), in a plugin's package; a plugin test asserts it is empty."""
    import ast

    own = package.name
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                sdk = name == "fengqiao.sdk" or (name.startswith("fengqiao.sdk.") and name != "fengqiao.sdk.testing")
                if (top == "fengqiao" and not sdk) or (top.startswith("fengqiao_") and top != own):
                    found.append(f"{path.relative_to(package)}: {name}")
    return found


def migration_drift(app, table_prefix: str) -> list:
    """Differences between the models and the migrated database for tables named
    ``<table_prefix>…`` (Alembic's autogenerate comparison); a plugin test asserts it is empty."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fengqiao.db import Base, db
    from fengqiao.plugins.tables import plugin_metadata

    with app.app_context():
        context = MigrationContext.configure(db.connection(), opts={"compare_type": True})
        diff = compare_metadata(context, [Base.metadata, *plugin_metadata()])  # type: ignore[arg-type]
    return [d for d in diff if table_prefix in repr(d)]
