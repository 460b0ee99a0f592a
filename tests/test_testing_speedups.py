"""The test process's shortcuts (fengqiao/testing/): building an app with the memoised route
parsing gives the URL map Werkzeug's own parsing gives (same parts, trace, converters and
arguments per route, the converters bound to the new app's map), and ``--dist loadgroup``'s
groups reach xdist's scheduler."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from werkzeug.routing.rules import Rule

from fengqiao.testing.plugin import app_settings_for_tests
from fengqiao.testing.speedups import memoise_rule_parsing


def _routes(app) -> dict:
    out = {}
    for rule in app.url_map.iter_rules():
        converters = {name: (type(c), c.regex, c.part_isolating, c.weight, c.map is app.url_map)
                      for name, c in rule._converters.items()}
        out[(rule.rule, rule.endpoint, tuple(sorted(rule.methods or ())))] = (
            rule._parts, rule._trace, converters, set(rule.arguments))
    return out


@pytest.mark.plugins("points", "volunteer", "certificates")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_memoised_rule_parsing_builds_the_map_werkzeug_builds(app, database_url, tmp_path, monkeypatch):
    from fengqiao.app import create_app

    assert memoise_rule_parsing()  # installed by the pytest plugin; a second call changes nothing
    settings = app_settings_for_tests(database_url, tmp_path, plugins=["points", "volunteer", "certificates"])
    memoised = create_app(settings)  # the parses of `app` answered from the cache
    monkeypatch.setattr(Rule, "_parse_rule", Rule._parse_rule.__wrapped__)
    werkzeug = create_app(settings)
    mine, theirs = _routes(memoised), _routes(werkzeug)
    assert len(mine) > 200 and mine == theirs
    assert any(converters for _p, _t, converters, _a in mine.values())  # <int:…> and friends compared too
    with memoised.test_request_context():  # matching and building through the memoised map
        adapter = memoised.url_map.bind("localhost")
        for rule in memoised.url_map.iter_rules():
            if not rule.arguments and "GET" in (rule.methods or ()):
                assert adapter.match(rule.rule.replace("//", "/"), method="GET")[0] == rule.endpoint, rule.rule
    for made in (memoised, werkzeug):
        made.extensions["fengqiao.db"].dispose()


def test_loadgroup_groups_reach_the_controller(request, tmp_path, monkeypatch):
    """pytest 9 ignores xdist's ``@group`` node-id suffix: a worker writes its groups to the file
    the controller named, and the controller's scheduler reads them (ungrouped tests are left out)."""
    from fengqiao.testing import groups

    class Item:
        def __init__(self, nodeid: str, *group: str) -> None:
            self.nodeid, self.marks = nodeid, [SimpleNamespace(args=(g,), kwargs={}) for g in group]

        def iter_markers(self, name: str):
            return iter(self.marks)

    items = [Item("tests/a.py::test_one[sqlite]", "tests/a.py"), Item("tests/a.py::test_two", "tests/a.py"),
             Item("tests/b.py::test_alone[postgresql]")]
    monkeypatch.setattr(request.config, "workerinput", {groups.WORKER_KEY: str(groups.folder(request.config) / "gw0.json")},
                        raising=False)
    try:
        groups.write(request.config, items)
        assert groups.read(request.config) == {"tests/a.py::test_one[sqlite]": "tests/a.py",
                                                "tests/a.py::test_two": "tests/a.py"}
    finally:
        groups.remove_folder(request.config)


def test_test_apps_share_compiled_statements(app, database_url, tmp_path):
    """PostgreSQL: one engine per URL for the process, its pool emptied before each reset;
    SQLite: new engines with the first one's dialect and statement cache. Either way a
    statement a test app compiled is not compiled again by the next app."""
    import sqlalchemy as sa
    from sqlalchemy.engine.default import CACHE_HIT

    from fengqiao.app import create_app
    from fengqiao.db import db
    from fengqiao.models import User
    from fengqiao.testing.speedups import drop_kept_connections, share_compiled_statements

    assert share_compiled_statements()  # installed by the pytest plugin; a second call changes nothing
    other = create_app(app_settings_for_tests(database_url, tmp_path / "other"))
    first, second = app.extensions["fengqiao.db"].engine, other.extensions["fengqiao.db"].engine
    assert first.dialect is second.dialect and first._compiled_cache is second._compiled_cache
    assert (first is second) == (first.dialect.name == "postgresql")
    users = User.__table__
    statement = sa.select(users.c.username).where(users.c.username == sa.bindparam("name"))
    with app.app_context():
        db.connection().execute(statement, {"name": "a"}).all()
    with other.app_context():
        assert db.connection().execute(statement, {"name": "b"}).context.cache_hit == CACHE_HIT  # not compiled again
    assert first.dialect.server_version_info  # the shared dialect is initialised, whichever engine connected
    if first.dialect.name == "postgresql":
        with first.connect():
            assert first.pool.checkedout() == 1
        assert first.pool.checkedin() >= 1
        drop_kept_connections(str(first.url.render_as_string(hide_password=False)))
        assert first.pool.checkedin() == 0  # a fresh pool: nothing handed on to the next test
    other.extensions["fengqiao.db"].dispose()
