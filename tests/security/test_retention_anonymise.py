"""Retention: closed cases past their type's ``retention.closed_days`` are anonymised by the
daily job (statistics kept); ``fengqiao cases anonymise --dry-run`` only reports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from fengqiao.testing.plugin import submit_form

ID, MOBILE = "339901195203140111", "13800138000"
REQUEST = {"request_type": "complaint", "summary": f"油烟扰民 回电{MOBILE}", "content": "每晚十点后油烟很大。",
           "address": "湖滨路88号", "caller_name": "陈德福", "caller_mobile": MOBILE, "id_card": ID}
INCIDENT = {"summary": "路灯不亮", "category": "市容环境", "description": f"居民 {MOBILE} 反映。",
            "location": {"address": "揽月花园5幢"}}


def _with_retention(app, key: str, days: int) -> None:
    """Save a new version of case type ``key`` with a retention rule, as an admin would."""
    from fengqiao.cases.case_types import latest_row, save_version
    from fengqiao.db import db
    from fengqiao.models import User

    with app.app_context():
        definition = dict(latest_row(key).definition)
        definition["retention"] = {"closed_days": days}
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        save_version(key, json.dumps(definition, ensure_ascii=False), "保存期限", admin)
        db.commit()


@pytest.fixture
def world(app, client, bearer):
    """A closed 民生诉求 with a reveal-worthy history, an open one, and a closed 网格事件
    (whose type keeps data forever)."""
    headers = bearer("shenli")
    closed = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    still_open = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    incident = submit_form(client, "grid-incident", INCIDENT, headers=headers, org="339901001001")["case_number"]
    for number in (closed,):
        version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
        answered = client.post(f"/api/v1/cases/{number}/actions/answer",
                               json={"version": version, "comment": f"已电话答复陈德福 {MOBILE}"}, headers=headers)
        assert answered.status_code == 200, answered.get_data(as_text=True)
    _with_retention(app, "livelihood_request", 30)
    return {"closed": closed, "open": still_open, "incident": incident}


def _case(app, number):
    from fengqiao.db import db
    from fengqiao.models import Case, CaseEvent, Submission

    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        submissions = [s.data for s in db.scalars(sa.select(Submission).where(Submission.case_id == case.id))]
        comments = [e.comment for e in db.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id))]
        return {"data": case.data, "title": case.title, "state": case.state, "type": case.type,
                "org": case.org.code, "closed_at": case.closed_at, "created_at": case.created_at,
                "phone_tail": case.phone_tail, "submissions": submissions, "comments": comments}


def _attach_a_file(app, number):
    """A stored upload belonging to the case's submission; returns its path on disk."""
    from fengqiao.db import db
    from fengqiao.forms.uploads import upload_root
    from fengqiao.models import Attachment, Case, Submission

    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        submission = db.scalar(sa.select(Submission).where(Submission.case_id == case.id))
        path = upload_root() / "ab" / "retention-test.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
        db.add(Attachment(id="att_retention", filename="门口照片.png", content_type="image/png", size=40,
                          sha256="0" * 64, storage_key="ab/retention-test.png", submission_id=submission.id))
        db.commit()
    assert path.exists()
    return path


def test_dry_run_reports_and_the_job_anonymises_once(app, world):
    from fengqiao.cases import retention
    from fengqiao.cases.jobs import anonymise_expired
    from fengqiao.db import db, utcnow
    from fengqiao.models import AuditEntry

    stored = _attach_a_file(app, world["closed"])
    before = _case(app, world["closed"])
    with app.app_context():
        assert retention.policies() == {"livelihood_request": 30}
        assert retention.report().to_json() == {"dry_run": True, "total": 0, "by_type": {}}  # closed today
        later = utcnow() + timedelta(days=31)
        assert retention.report(later).to_json() == {"dry_run": True, "total": 1, "by_type": {"livelihood_request": 1}}
    assert _case(app, world["closed"]) == before  # the dry run changed nothing

    with app.app_context():
        assert retention.anonymise_expired(later).to_json()["by_type"] == {"livelihood_request": 1}
        assert retention.anonymise_expired(later).total == 0  # never twice
        db.commit()  # as the job runner does; the stored file goes only now
        assert anonymise_expired() == {"dry_run": False, "total": 0, "by_type": {}}  # the job, today
        audited = [(e.action, e.actor_name, e.case_number)
                   for e in db.scalars(sa.select(AuditEntry).where(AuditEntry.action.startswith("case.")))]
    assert audited == [("case.anonymise", "system", world["closed"])]

    after = _case(app, world["closed"])
    text = json.dumps({k: v for k, v in after.items() if isinstance(v, (str, dict, list))}, ensure_ascii=False)
    for personal in (ID, MOBILE, "陈德福", "湖滨路88号", "油烟"):
        assert personal not in text, personal
    assert after["data"]["request_type"] == "complaint"  # a coded choice: statistics
    assert after["data"]["caller_name"] == retention.ANONYMISED and after["title"] == "民生诉求（已匿名化）"
    assert after["submissions"][0]["id_card"] == retention.ANONYMISED and after["phone_tail"] == ""
    for key in ("state", "type", "org", "closed_at", "created_at"):
        assert after[key] == before[key], key
    assert not stored.exists()  # the uploaded file is gone with its row
    with app.app_context():
        from fengqiao.models import Attachment

        assert db.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert _case(app, world["open"])["data"]["id_card"] == ID  # open cases keep their data
    assert MOBILE in _case(app, world["incident"])["data"]["description"]  # no retention for its type


def test_the_command_prints_the_dry_run_then_anonymises(app, world, database_url, tmp_path):
    from fengqiao.cli import main
    from fengqiao.db import db, utcnow
    from fengqiao.models import Case

    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == world["closed"]))
        case.closed_at = utcnow() - timedelta(days=40)  # closed forty days ago
        db.commit()
    env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_MODE": "testing", "FENGQIAO_PLUGINS": "",
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "cli-instance")}
    runner = CliRunner()
    dry = runner.invoke(main, ["cases", "anonymise", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "将匿名化 1 件" in dry.output and "试运行" in dry.output and "民生诉求（livelihood_request）：1 件" in dry.output
    assert _case(app, world["closed"])["data"]["id_card"] == ID
    real = runner.invoke(main, ["cases", "anonymise"], env=env)
    assert real.exit_code == 0, real.output
    assert "已匿名化 1 件" in real.output
    assert _case(app, world["closed"])["data"]["id_card"] != ID
    assert "将匿名化 0 件" in runner.invoke(main, ["cases", "anonymise", "--dry-run"], env=env).output


def test_a_retention_rule_must_be_a_positive_number_of_days(app, demo):
    from fengqiao.cases.case_types import latest_row, save_version
    from fengqiao.db import db
    from fengqiao.errors import ValidationFailed
    from fengqiao.models import User

    with app.app_context():
        definition = dict(latest_row("grid_incident").definition, retention={"closed_days": 0})
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        with pytest.raises(ValidationFailed) as failed:
            save_version("grid_incident", json.dumps(definition, ensure_ascii=False), "", admin)
    assert any(p.startswith("/retention") for p, _m, _c in failed.value.problems)


def test_anonymised_keeps_numbers_choices_and_dates():
    from fengqiao.cases.retention import ANONYMISED, anonymised

    schema = {"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["a", "b"]}, "level": {"type": "string", "oneOf": [{"const": "low"}]},
        "on": {"type": "string", "format": "date"}, "amount": {"type": "number"}, "agree": {"type": "boolean"},
        "photos": {"type": "array", "items": {"type": "string", "format": "attachment"}},
        "parties": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}
    data = {"kind": "a", "level": "low", "on": "2026-01-02", "amount": 3.5, "agree": True, "photos": ["f1"],
            "parties": [{"name": "钱芳"}], "unknown": "王建军", "empty": ""}
    assert anonymised(schema, data) == {"kind": "a", "level": "low", "on": "2026-01-02", "amount": 3.5, "agree": True,
                                        "photos": [], "parties": [{"name": ANONYMISED}], "unknown": ANONYMISED, "empty": ""}
