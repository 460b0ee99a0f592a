"""Synthetic cases (benchmarks' data) look like submitted ones: unique numbers from the real
counters, valid form data, the normal scope deciding who sees them."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from fengqiao.cases.case_types import case_type
from fengqiao.cases.synthetic import NoUnits, generate_cases
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.forms import store
from fengqiao.forms.submit import version_validator
from fengqiao.models import Case, CaseEvent, CaseParticipant, OrgUnit
from fengqiao.testing.cli import run_cli
from fengqiao.testing.plugin import submit_form
from fengqiao.validation import problems

N = 500
NUMBER = re.compile(r"^([A-Z]+)-(\d{8})-(\d{6})$")
LANYUE = "/339901/339901001/339901001001/"  # 揽月社区, shenli's community
INCIDENT = {"summary": "路灯不亮", "category": "安全隐患", "description": "湖滨路口路灯连续三晚不亮。",
            "location": {"address": "湖滨路口"}}


def _numbers() -> list[str]:
    return list(db.scalars(sa.select(Case.number)))


def test_numbers_are_unique_fit_the_scheme_and_survive_a_second_run(demo):
    with demo.app_context():
        first = generate_cases(N, seed=1)
        assert (first.cases, first.events) == (N, N) and first.participants > 0
        again = generate_cases(N, seed=1)  # the same seed: only the counters keep numbers apart
        assert again.cases == N
        rows = db.execute(sa.select(Case.number, Case.type, Case.created_at).order_by(Case.id)).all()
        assert len(rows) == 2 * N and len({r.number for r in rows}) == 2 * N
        for r in rows:
            prefix, day, _serial = NUMBER.match(r.number).groups()
            assert prefix == case_type(r.type).prefix
            assert day == r.created_at.astimezone(LOCAL_TZ).strftime("%Y%m%d")
        first_run = [r.created_at for r in rows[:N]]
        assert first_run == sorted(first_run)  # ids follow creation time, as with real cases
        assert utcnow() - timedelta(days=366) < first_run[0] and first_run[-1] <= utcnow()
        submits = db.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.action == "submit"))
        assert submits == 2 * N


def test_rows_are_consistent_and_form_data_valid(demo):
    with demo.app_context():
        generate_cases(N, seed=3)
        cases = db.scalars(sa.select(Case)).all()
        finals = [c for c in cases if case_type(c.type).is_final(c.state)]
        assert len(finals) > N / 2 and all(c.closed_at and c.closed_at >= c.created_at for c in finals)
        assert all(c.closed_at is None for c in cases if c not in finals)
        assert {c.sla_status for c in finals} <= {"met", "missed", "none"}
        assert {c.org.level for c in cases} == {"grid", "community"}
        assert {c.type for c in cases} >= {"grid_incident", "livelihood_request", "proxy_service"}
        checked = 0
        for c in cases:
            if c.form_key:
                _form, version = store.published(c.form_key, c.form_version)
                assert problems(version_validator(version), c.data) == [], (c.form_key, c.data)
                checked += 1
            if c.deadline is not None:
                assert c.deadline > c.created_at and c.sla_limit
        assert checked > N / 2
        dispatched = db.scalars(sa.select(CaseParticipant.org_id)).all()
        kinds = set(db.scalars(sa.select(OrgUnit.kind).where(OrgUnit.id.in_(dispatched))))
        assert kinds == {"department"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stored_times_look_like_the_orm_s(demo):
    """SQLite keeps datetimes as text: synthetic rows must sort and compare like real ones."""
    with demo.app_context():
        generate_cases(20, seed=4)
        raw = db.execute(sa.text("SELECT created_at, deadline FROM cases")).all()
        stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
        assert all(stamp.match(r.created_at) and (r.deadline is None or stamp.match(r.deadline)) for r in raw)


def test_synthetic_cases_show_in_a_staff_queue_through_the_scope(demo, client, bearer, login_as):
    with demo.app_context():
        generate_cases(N, seed=2)
        # shenli's scope, spelled out independently of queries.cases_in: cases owned by a unit
        # under 揽月社区 or dispatched to one (its property company 揽月花园物业服务中心 is such a
        # unit), so the expectation holds whatever units the generator happens to pick.
        sent_here = (sa.select(CaseParticipant.case_id).join(OrgUnit, CaseParticipant.org_id == OrgUnit.id)
                     .where(OrgUnit.path.startswith(LANYUE)))
        lanyue = sa.or_(OrgUnit.path.startswith(LANYUE), Case.id.in_(sent_here))
        mine = db.scalars(sa.select(Case.number).join(OrgUnit, Case.org_id == OrgUnit.id)
                          .where(lanyue).order_by(Case.id.desc())).all()
        others = db.scalars(sa.select(Case.number).join(OrgUnit, Case.org_id == OrgUnit.id)
                            .where(~lanyue).order_by(Case.id.desc())).all()
    assert len(mine) > 20 and others
    listed = client.get("/api/v1/cases?limit=20", headers=bearer("shenli")).get_json()
    assert [c["number"] for c in listed["items"]] == mine[:20]
    html = login_as("shenli").get("/queues").get_data(as_text=True)
    assert mine[0] in html and not any(n in html for n in others[:50])


def test_a_later_submission_gets_a_fresh_number(demo, client, bearer):
    today = datetime.now(LOCAL_TZ).date()
    end_of_today = datetime.combine(today, time(23, 59), tzinfo=LOCAL_TZ)
    with demo.app_context():
        generate_cases(N, seed=5, now=end_of_today, days=1)  # today's counters all advanced
        taken = _numbers()
    todays = [int(m.group(3)) for m in map(NUMBER.match, taken)
              if m.group(1) == "WG" and m.group(2) == f"{today:%Y%m%d}"]
    assert len(todays) > 50
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("liuyang"))["case_number"]
    prefix, day, serial = NUMBER.match(number).groups()
    assert number not in taken and (prefix, day) == ("WG", f"{today:%Y%m%d}")
    assert int(serial) == max(todays) + 1


def test_refuses_without_grids(app):
    with app.app_context(), pytest.raises(NoUnits, match="没有可用的网格或社区"):
        generate_cases(10)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_command_generates_and_explains_bad_input(database_url, tmp_path):
    env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_MODE": "testing",
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "inst")}

    def run(*args):
        return run_cli(args, env)

    assert run("db", "upgrade").returncode == 0
    empty = run("cases", "generate", "10")
    assert empty.returncode == 1 and "请先加载演示数据" in empty.stderr
    assert run("demo-data", "load").returncode == 0
    bad = run("cases", "generate", "十个")
    assert bad.returncode == 1 and "N「十个」不是有效的数量" in bad.stderr
    done = run("cases", "generate", "30", "--seed", "9")
    assert done.returncode == 0, done.stderr
    assert "已生成 30/30 件" in done.stdout and "完成：30 件事项、30 条办理记录" in done.stdout
    env["FENGQIAO_MODE"] = "production"
    env["FENGQIAO_SECRET_KEY"] = "s" * 40
    refused = run("cases", "generate", "10")
    assert refused.returncode == 1 and "--allow-production" in refused.stderr
