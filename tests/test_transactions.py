"""One transaction per request, command or job; domain errors mapped to HTTP by the web layer.

``fengqiao/transaction.py``: services flush, the request commits once at its end (a success)
or rolls back (an error answer), signals and outbox jobs go out only after the commit.
``fengqiao/exceptions.py``: services raise domain errors; ``fengqiao/errors.py`` alone maps
them to statuses and the error shape.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengqiao import audit, signals
from fengqiao.access import public
from fengqiao.accounts.service import announce_user_created, create_user
from fengqiao.csrf import csrf
from fengqiao.db import db
from fengqiao.errors import APIError, http_status
from fengqiao.exceptions import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
)
from fengqiao.jobs import enqueue
from fengqiao.models import AuditEntry, JobRecord, OrgUnit, User
from fengqiao.orgs.service import create_unit
from fengqiao.transaction import after_commit

PACKAGE = Path(__file__).resolve().parents[1] / "platform" / "fengqiao"
NEW_UNIT = ("339901001001009", "试验网格")


def _post_route(app, rule: str, view) -> None:
    """A test-only public POST route on ``app`` (before its first request)."""
    view = public(view)
    csrf.exempt(view)
    app.add_url_rule(rule, view.__name__, view, methods=["POST"])


def _write_unit_and_audit_row(fail_with: DomainError | None = None):
    """The unit of work of a request: a change, its audit row, then maybe a refusal."""
    create_unit(NEW_UNIT[0], NEW_UNIT[1], "grid", "339901001001")
    audit.record("export.cases", record_ref="transaction-test")
    db.flush()
    if fail_with is not None:
        raise fail_with
    return {"ok": True}


def _saved(app) -> tuple[bool, bool]:
    """Whether the unit and the audit row are in the database (read in a fresh session)."""
    with app.app_context():
        unit = db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == NEW_UNIT[0]))
        row = db.scalar(sa.select(AuditEntry.id).where(AuditEntry.record == "transaction-test"))
        return unit is not None, row is not None


# ---- the request ----------------------------------------------------------------------------


def test_a_request_that_fails_after_the_audit_row_keeps_neither_row(demo):
    def failing_write():
        return _write_unit_and_audit_row(Conflict("已被他人处理", code="taken"))

    _post_route(demo, "/api/v1/_test/failing-write", failing_write)
    response = demo.test_client().post("/api/v1/_test/failing-write")
    assert response.status_code == 409
    assert response.get_json() == {"errors": [{"pointer": "", "message": "已被他人处理", "code": "taken"}]}
    assert _saved(demo) == (False, False)


def test_a_request_that_succeeds_commits_the_change_with_its_audit_row(demo):
    def good_write():
        return _write_unit_and_audit_row()

    _post_route(demo, "/api/v1/_test/good-write", good_write)
    response = demo.test_client().post("/api/v1/_test/good-write")
    assert response.status_code == 200
    assert _saved(demo) == (True, True)


def test_a_page_answering_with_an_error_status_rolls_back_what_it_wrote(demo):
    def refused_form():
        create_unit(NEW_UNIT[0], NEW_UNIT[1], "grid", "339901001001")
        return "请修改后重新提交", 422

    _post_route(demo, "/_test/refused-form", refused_form)
    assert demo.test_client().post("/_test/refused-form").status_code == 422
    assert _saved(demo) == (False, False)


def test_a_commit_that_fails_is_not_answered_as_a_success(demo):
    def duplicate_account():
        db.add(User(username="shenli", password_hash="x"))  # taken: refused only at the commit
        return {"ok": True}, 201

    _post_route(demo, "/api/v1/_test/duplicate-account", duplicate_account)
    response = demo.test_client().post("/api/v1/_test/duplicate-account")
    assert response.status_code == 500
    assert response.get_json()["errors"][0]["code"] == "server_error"


def test_a_refusal_is_audited_even_though_its_request_rolls_back(demo):
    def refused_reveal():
        create_unit(NEW_UNIT[0], NEW_UNIT[1], "grid", "339901001001")  # holds SQLite's write lock
        db.flush()
        audit.record("case.reveal", outcome="denied", record_ref="transaction-test", reason="试验")
        raise Forbidden("您的角色无权查看完整个人信息")

    _post_route(demo, "/api/v1/_test/refused-reveal", refused_reveal)
    assert demo.test_client().post("/api/v1/_test/refused-reveal").status_code == 403
    with demo.app_context():
        outcomes = db.scalars(sa.select(AuditEntry.outcome).where(AuditEntry.record == "transaction-test"))
        assert list(outcomes) == ["denied"]  # written once, after the rollback
        assert db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == NEW_UNIT[0])) is None


# ---- signals and after-commit work --------------------------------------------------------------


def test_a_signal_is_delivered_only_after_the_commit_and_never_after_a_rollback(demo):
    delivered = []

    def receiver(sender, username, **_kw):
        with demo.extensions["fengqiao.db"].engine.connect() as elsewhere:  # another connection
            committed = elsewhere.scalar(sa.select(User.id).where(User.username == username)) is not None
        delivered.append((username, committed))

    signals.user_created.connect(receiver, sender=demo)
    try:
        with demo.app_context():
            announce_user_created(create_user("rolled_back", "Passw0rd-Long-1", "staff", "339901001001"))
            assert delivered == []
            db.rollback()
            announce_user_created(create_user("kept", "Passw0rd-Long-1", "staff", "339901001001"))
            assert delivered == []  # sent, but the transaction is still open
            db.commit()
        assert delivered == [("kept", True)]
    finally:
        signals.user_created.disconnect(receiver, sender=demo)


def test_a_savepoint_rolled_back_drops_only_the_work_queued_inside_it(demo):
    calls = []
    with demo.app_context():
        db.execute(sa.select(1))  # a transaction is open
        after_commit(calls.append, "before")
        with pytest.raises(Conflict):
            with db.begin_nested():
                after_commit(calls.append, "inside")
                raise Conflict()
        after_commit(calls.append, "after")
        assert calls == []
        db.commit()
    assert calls == ["before", "after"]


def test_after_commit_runs_at_once_when_no_transaction_is_open(demo):
    calls = []
    with demo.app_context():
        after_commit(calls.append, "now")
    assert calls == ["now"]


# ---- a job ---------------------------------------------------------------------------------------


def test_a_job_commits_its_work_with_its_status_or_nothing_of_it(demo):
    def write_then_fail():
        create_unit(NEW_UNIT[0], NEW_UNIT[1], "grid", "339901001001")
        db.flush()
        raise RuntimeError("boom")

    def write():
        create_unit(NEW_UNIT[0], NEW_UNIT[1], "grid", "339901001001")
        return {"written": True}

    demo.extensions["fengqiao.jobs"].update({"test.write_then_fail": write_then_fail, "test.write": write})
    with demo.app_context():
        failed = enqueue("test.write_then_fail")
        db.commit()  # the in-process runner runs it now (tests wait for it)
        assert db.get(JobRecord, failed).status == "pending"
    assert _saved(demo) == (False, False)
    with demo.app_context():
        done = enqueue("test.write")
        db.commit()
        db.expire_all()
        assert (db.get(JobRecord, done).status, db.get(JobRecord, done).result) == ("done", {"written": True})
    assert _saved(demo) == (True, False)


# ---- the rule itself ----------------------------------------------------------------------------

# Where a commit belongs: the units of work. Everything else in ``fengqiao`` flushes only.
COMMITTING_LAYERS = {
    "web", "api",  # views (the request commits; a few keep work before an error answer)
    "cli.py",  # commands commit once at their end
    "jobs/runner.py",  # the job's claim, then its work with its status
    "jobs/sweep.py",  # the ticker's enqueue of periodic jobs is a unit of its own
    "transaction.py",  # the mechanism
    "testing",  # the pytest plugin's fixtures
}
# Single functions outside those layers, each with its reason.
COMMITTING_FUNCTIONS = {
    ("cases/jobs.py", "recompute_deadlines"): "a checkpoint per batch of a long job (SQLite write lock)",
    ("cases/jobs.py", "_on_calendar_changed"): "a receiver runs after the commit: its enqueue is its own unit",
    ("webhooks/events.py", "emit"): "a receiver runs after the commit: its enqueue is its own unit",
    ("demo_data.py", "load_demo_data"): "the demo county is a unit of its own (commands, fixtures, benches)",
    ("demo_data.py", "load_plugin_demo_data"): "one plugin's failing loader loses only its own rows",
    **dict.fromkeys((("demo_living.py", "_escalate_some"), ("demo_living.py", "load_living_demo"),
                     ("demo_living.py", "_settle_jobs")),
                    "the living demo writes a year of history step by step, each step as a request would"),
}


def _commits(path: Path) -> list[tuple[str, int]]:
    """(enclosing function, line) of every ``<something>.commit()`` call in ``path``."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr == "commit" and not child.args):
                found.append((function, child.lineno))
            visit(child, name)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def _in_committing_layer(relative: str) -> bool:
    return any(relative == layer or relative.startswith(layer + "/") for layer in COMMITTING_LAYERS)


def test_services_flush_and_never_commit():
    offenders, used = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("migrations/") or _in_committing_layer(relative):
            continue
        for function, line in _commits(path):
            if (relative, function) in COMMITTING_FUNCTIONS:
                used.add((relative, function))
            else:
                offenders.append(f"{relative}:{line} ({function})")
    assert offenders == [], "services flush; the request, command or job commits: " + ", ".join(offenders)
    stale = set(COMMITTING_FUNCTIONS) - used
    assert not stale, f"allowed but no longer committing (remove from the list): {stale}"


def test_the_scan_finds_a_commit_inside_a_nested_function(tmp_path):
    module = tmp_path / "service.py"
    module.write_text("def outer():\n    def inner():\n        db.commit()\n    session.commit()\n")
    assert _commits(module) == [("inner", 3), ("outer", 4)]


# ---- domain errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "status"), [
    (NotFound(), 404), (Unauthenticated(), 401), (Forbidden(), 403), (Conflict(), 409), (Gone(), 410),
    (TooLarge(), 413), (RateLimited(retry_after=7), 429), (Invalid([("/name", "此项为必填项", "required")]), 422),
    (APIError(415), 415),
])
def test_each_kind_of_domain_error_has_its_status_and_the_error_shape(app, error, status):
    def raising():
        raise error

    _post_route(app, "/api/v1/_test/raise", raising)
    response = app.test_client().post("/api/v1/_test/raise")
    assert response.status_code == status == http_status(error)
    assert response.get_json() == {"errors": [{"pointer": p, "message": m, "code": c} for p, m, c in error.problems]}
    assert response.headers.get("Retry-After") == ("7" if status == 429 else None)


def test_a_page_shows_the_domain_error_in_chinese_and_asks_to_sign_in_when_needed(app):
    def archived():
        raise Gone("表单「测试」已停用，不再接受提交", code="archived")

    def anonymous():
        raise Unauthenticated()

    _post_route(app, "/_test/archived", archived)
    _post_route(app, "/_test/anonymous", anonymous)
    client = app.test_client()
    page = client.post("/_test/archived")
    assert page.status_code == 410 and "表单「测试」已停用" in page.get_data(as_text=True)
    login = client.post("/_test/anonymous")
    assert login.status_code == 302 and "/login?next=" in login.headers["Location"]


def test_domain_errors_carry_their_defaults_and_their_problems():
    assert (NotFound().message, NotFound().code) == ("未找到该页面或记录", "not_found")
    assert Conflict("已被他人认领", code="claimed", pointer="/version").problems == [("/version", "已被他人认领", "claimed")]
    invalid = Invalid([("/a", "甲", "required"), ("/b", "乙", "type"), ("/a", "丙", "maxLength")])
    assert invalid.for_field("/a") == ["甲", "丙"] and str(invalid) == "甲"
    assert Invalid.field("/org", "单位不存在", "unknown_org").problems == [("/org", "单位不存在", "unknown_org")]
    assert isinstance(APIError(400), DomainError)
