"""NaN and infinities are not numbers a form can hold.

Python's JSON parser reads ``NaN``, ``Infinity`` and ``1e999`` (→ inf), and ``float()`` reads
``nan``/``inf`` typed into a page; NaN then passes every ``minimum``/``maximum`` (each
comparison is false), SQLite stores it and PostgreSQL's json type refuses it (a 500). Both
doors answer with a Chinese message and store nothing.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case, Submission
from fengqiao.testing.plugin import csrf_token

DISPUTE = ('{"dispute_type": "邻里纠纷", "summary": "楼上漏水", "facts": "吊顶受损。", "risk_level": "low",'
           ' "parties": [{"name": "钱芳", "role": "申请人"}, {"name": "李志刚", "role": "被申请人"}],'
           ' "all_parties_agree": true, "amount": %s}')


def _stored(app) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count(Case.id))) + db.scalar(sa.select(sa.func.count(Submission.id)))


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "[1, {\"x\": NaN}]"])
def test_the_api_refuses_non_finite_numbers(client, demo, bearer, number):
    response = client.post("/api/v1/forms/dispute-registration/submissions", data=DISPUTE % number,
                           headers={**bearer("fengguoping"), "Content-Type": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["errors"][0]["code"] == "invalid_number"
    assert "数字" in response.get_json()["errors"][0]["message"]
    assert _stored(client.application) == 0


def test_the_api_still_takes_ordinary_numbers(client, demo, bearer):
    response = client.post("/api/v1/forms/dispute-registration/submissions", data=DISPUTE % "1200.5",
                           headers={**bearer("fengguoping"), "Content-Type": "application/json"})
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["nan", "inf", "-Infinity", "1e999"])
def test_a_page_refuses_non_finite_numbers(client, login_as, typed):
    login_as("fengguoping")
    token = csrf_token(client, "/forms/dispute-registration")
    response = client.post("/forms/dispute-registration", data={
        "csrf_token": token, "fq_version": "1", "dispute_type": "邻里纠纷", "summary": "楼上漏水",
        "facts": "吊顶受损。", "risk_level": "low", "parties-0-name": "钱芳", "parties-0-role": "申请人",
        "parties-1-name": "李志刚", "parties-1-role": "被申请人", "all_parties_agree": "y", "amount": typed})
    assert response.status_code == 422
    assert "应填写数字" in response.get_data(as_text=True)
    assert _stored(client.application) == 0


@pytest.mark.parametrize("typed", ["nan", "NaN", "inf", "-Infinity", "1e999", "-1e400"])
def test_finite_float_refuses_what_no_field_holds(typed):
    from fengqiao.params import finite_float

    with pytest.raises(ValueError):
        finite_float(typed)
    assert finite_float("1e3") == 1000.0 and finite_float("-0.5") == -0.5
