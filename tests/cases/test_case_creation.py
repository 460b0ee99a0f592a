"""Opening cases (fengqiao/cases/creation.py): one module for submissions and the importer,
each case with its submission and its ``submit`` event, numbers gap-free per day."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fengqiao.testing.plugin import submit_form

REQUEST = {"request_type": "complaint", "summary": "湖滨路烧烤店夜间油烟噪音扰民",
           "content": "每晚十点后油烟和噪音很大。", "caller_name": "陈德福", "caller_mobile": "13800138000"}
NUMBER = re.compile(r"^(?P<prefix>[A-Z]+)-(?P<day>\d{8})-(?P<serial>\d{6,})$")


def test_submissions_and_imports_share_the_day_s_serial_and_write_all_three_rows(app, client, bearer):
    from fengqiao.cases.creation import NewCase, open_cases
    from fengqiao.db import db, utcnow
    from fengqiao.models import Case, CaseEvent, Submission

    headers = bearer("zhangmin")
    submitted = [submit_form(client, "livelihood-request", REQUEST, headers)["case_number"] for _ in range(2)]
    with app.app_context():
        first = db.scalar(sa.select(Case).where(Case.number == submitted[0]))
        now = utcnow()
        template = NewCase(NUMBER.match(first.number)["prefix"],
                           case={"type": first.type, "title": "导入", "state": first.state, "org_id": first.org_id,
                                 "form_key": first.form_key, "form_version": first.form_version, "data": {},
                                 "version": 1, "created_at": now, "workflow_version": first.workflow_version},
                           submission={"form_version_id": db.scalar(sa.select(Submission.form_version_id)),
                                       "data": {}, "channel": "import", "created_at": now},
                           event={"at": now, "action": "submit", "to_state": first.state, "comment": "",
                                  "changes": {}, "internal": False})
        with db.get_bind().begin() as conn:
            imported = open_cases(conn, template.prefix, now, [template] * 3)
        numbers = submitted + imported
        serials = [int(NUMBER.match(n)["serial"]) for n in numbers]
        assert serials == list(range(serials[0], serials[0] + 5))  # one serial, no gap, no repeat
        assert all(len(NUMBER.match(n)["serial"]) == 6 for n in numbers)
        cases = {c.number: c.id for c in db.scalars(sa.select(Case).where(Case.number.in_(numbers)))}
        assert set(cases) == set(numbers)
        for case_id in cases.values():
            assert db.scalar(sa.select(sa.func.count()).where(Submission.case_id == case_id)) == 1
            assert db.scalars(sa.select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all() == ["submit"]
        codes = db.scalars(sa.select(Case.tracking_code).where(Case.number.in_(numbers))).all()
        assert len(set(codes)) == 5 and all(len(code) == 8 for code in codes)


def test_a_refused_column_is_an_error_not_a_silent_drop(app):
    from fengqiao.cases.creation import NewCase, open_case
    from fengqiao.db import db, utcnow

    with app.app_context(), pytest.raises(ValueError, match="step_due"):
        open_case(db, NewCase("GD", {"created_at": utcnow(), "step_due": utcnow()}, {}, {}))
