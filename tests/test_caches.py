"""The per-process caches (fengqiao/caches.py) never serve what another process changed.

Each test warms a cache through one app, changes the underlying rows through a second app
on the same database (another web process, a CLI, a worker), and expects the first app's
next request to see the change. A last test pins the cost of a submission: one transaction
and a fixed, small number of statements.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from fengqiao.testing.plugin import app_settings_for_tests, submit_form

REQUEST = {"request_type": "complaint", "summary": "湖滨路烧烤店夜间油烟噪音扰民",
           "content": "每晚十点后油烟和噪音很大。", "caller_name": "陈德福", "caller_mobile": "13800138000"}
FORM = "livelihood-request"


@pytest.fixture
def other_app(demo, database_url, tmp_path, request):
    """A second app on the same database: what another process would do."""
    from fengqiao.app import create_app

    marker = request.node.get_closest_marker("plugins")
    other = create_app(app_settings_for_tests(database_url, tmp_path / "other",
                                              plugins=list(marker.args) if marker else []))
    yield other
    other.extensions["fengqiao.db"].dispose()


def _token(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_a_token_revoked_in_another_process_is_refused_on_the_next_request(client, bearer, other_app):
    from fengqiao.accounts.service import token_digest
    from fengqiao.db import db, utcnow
    from fengqiao.models import ApiToken

    headers = bearer("shenli")
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert client.get("/api/v1/cases", headers=headers).status_code == 200  # served from the cache
    with other_app.app_context():
        row = db.scalar(sa.select(ApiToken).where(ApiToken.digest == token_digest(_token(headers))))
        row.revoked_at = utcnow()
        db.commit()
    refused = client.get("/api/v1/cases", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["errors"][0]["code"] == "invalid_token"


def test_a_user_disabled_or_given_another_role_elsewhere_counts_on_the_next_request(client, bearer, other_app):
    from fengqiao.db import db
    from fengqiao.models import User

    headers = bearer("shenli")  # staff: may list accounts (users.view)
    assert client.get("/api/v1/users", headers=headers).status_code == 200
    with other_app.app_context():
        user = db.scalar(sa.select(User).where(User.username == "shenli"))
        for membership in user.memberships:
            membership.role = "viewer"
        db.commit()
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    with other_app.app_context():
        db.scalar(sa.select(User).where(User.username == "shenli")).active = False
        db.commit()
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_an_expired_token_is_refused_though_its_grant_is_cached(client, bearer, monkeypatch):
    from fengqiao.accounts import principals, service

    headers = bearer("shenli")
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    later = datetime.now(principals.utcnow().tzinfo) + service.TOKEN_LIFETIME + timedelta(minutes=1)
    monkeypatch.setattr(principals, "utcnow", lambda: later)
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


@pytest.mark.plugins("hello")
def test_a_plugin_switched_off_in_another_process_is_off_on_the_next_request(client, other_app):
    from fengqiao.db import db
    from fengqiao.plugins.state import save_settings, set_enabled

    assert client.get("/p/hello/wall").status_code == 200
    with other_app.app_context():
        save_settings("hello", {"greeting_text": "各位邻居好"})
        db.commit()
    assert "各位邻居好" in client.get("/p/hello/wall").get_data(as_text=True)  # its settings, too
    with other_app.app_context():
        set_enabled("hello", False, "admin")
        db.commit()
    assert client.get("/p/hello/wall").status_code == 404
    with other_app.app_context():
        set_enabled("hello", True, "admin")
        db.commit()
    assert client.get("/p/hello/wall").status_code == 200


def _deadline(client, headers, number: str) -> datetime:
    return datetime.fromisoformat(client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["deadline"])


def test_a_calendar_day_added_in_another_process_moves_the_next_deadline(client, bearer, other_app):
    from fengqiao.db import db
    from fengqiao.workcalendar import to_local
    from fengqiao.workcalendar.changes import add_day

    headers = bearer("shenli")
    first = _deadline(client, headers, submit_form(client, FORM, REQUEST, headers)["case_number"])
    with other_app.app_context():  # the day the deadline fell on becomes a holiday
        add_day(to_local(first).date(), "holiday", "临时调休", actor="admin")
        db.commit()
    second = _deadline(client, headers, submit_form(client, FORM, REQUEST, headers)["case_number"])
    assert to_local(second).date() > to_local(first).date()


def test_a_form_republished_in_another_process_is_used_by_the_next_submission(client, bearer, other_app):
    from fengqiao.db import db
    from fengqiao.forms import store

    headers = bearer("shenli")
    before = submit_form(client, FORM, REQUEST, headers)["case_number"]
    with other_app.app_context():
        latest = store.get_version(FORM)
        definition = {**latest.definition, "title": latest.definition["title"] + "（新版）"}
        store.import_definition(definition, publish_now=True)
        db.commit()
        number = store.get_form(FORM).latest_version
    after = submit_form(client, FORM, REQUEST, headers)["case_number"]
    versions = {n: client.get(f"/api/v1/cases/{n}", headers=headers).get_json()["form_version"] for n in (before, after)}
    assert versions == {before: number - 1, after: number}
    assert client.get(f"/api/v1/forms/{FORM}").get_json()["version"] == number


@pytest.mark.plugins("hello")
def test_a_request_sees_its_own_change_of_a_cached_table(app):
    from fengqiao.plugins.state import is_active, set_enabled

    with app.test_request_context("/"):
        assert is_active("hello")
        set_enabled("hello", False, "admin")
        assert not is_active("hello")


def test_every_cached_table_carries_its_version_trigger(app):
    from fengqiao.caches import SOURCES

    engine = app.extensions["fengqiao.db"].engine
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(sa.text("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                        "WHERE t.tgname LIKE 'fq_cache_%'")).scalars()
        else:
            rows = conn.execute(sa.text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                                        "AND name LIKE 'fq_cache_%'")).scalars()
        assert set(rows) == set(SOURCES)


SUBMISSION_STATEMENTS = {"postgresql": 2, "sqlite": 5}
"""The stamps, then one statement for the case, its submission and its event on PostgreSQL;
on SQLite (no data-modifying CTEs) the serial and three INSERTs."""


def test_a_submission_is_one_transaction_of_a_few_statements(app, client, bearer):
    headers = bearer("zhangmin")
    submit_form(client, FORM, REQUEST, headers)  # fills the caches: token, user, form, calendar
    engine = app.extensions["fengqiao.db"].engine
    seen: dict[str, list] = {"statements": [], "begin": [], "commit": [], "rollback": [], "checkout": []}

    def note(kind):
        return lambda *args, **kwargs: seen[kind].append(args[2] if kind == "statements" else kind)

    listeners = [(engine, "before_cursor_execute", note("statements")), (engine, "begin", note("begin")),
                 (engine, "commit", note("commit")), (engine, "rollback", note("rollback")),
                 (engine.pool, "checkout", note("checkout"))]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        submit_form(client, FORM, REQUEST, headers)
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
    assert len(seen["statements"]) <= SUBMISSION_STATEMENTS[engine.dialect.name], seen["statements"]
    assert (len(seen["begin"]), len(seen["commit"]), len(seen["rollback"]), len(seen["checkout"])) == (1, 1, 0, 1)
