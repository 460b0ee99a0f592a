"""A `format: time` field filled in a browser: `<input type=time>` posts `08:30`, and the
2020-12 checker wants RFC 3339 (`08:30:00+08:00`); the page adds seconds and China's offset,
as it does for date-times."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Submission
from fengqiao.testing.plugin import csrf_token

DEFINITION = {"key": "duty-time", "title": "值班时间登记", "access": "public",
              "schema": {"type": "object", "required": ["start"],
                         "properties": {"start": {"type": "string", "title": "开始时间", "format": "time"}}}}


@pytest.fixture
def time_form(demo):
    from fengqiao.forms import store

    with demo.app_context():
        version = store.publish(store.save_draft(DEFINITION))
        db.commit()
        store.announce_published(version)
    return demo


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("typed", "stored"), [("08:30", "08:30:00+08:00"), ("21:05:09", "21:05:09+08:00")])
def test_a_time_typed_in_the_page_is_stored_in_rfc3339(client, time_form, typed, stored):
    page = client.get("/forms/duty-time").get_data(as_text=True)
    assert 'type="time"' in page
    response = client.post("/forms/duty-time", data={
        "csrf_token": csrf_token(client, "/forms/duty-time"), "fq_version": "1", "start": typed,
        "org": "339901001001"})  # the form names no accepting unit: the resident picks a community
    assert response.status_code == 303, response.get_data(as_text=True)
    with time_form.app_context():
        assert db.scalar(sa.select(Submission.data)) == {"start": stored}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_time_that_is_not_one_is_refused_in_chinese(client, time_form):
    response = client.post("/forms/duty-time", data={
        "csrf_token": csrf_token(client, "/forms/duty-time"), "fq_version": "1", "start": "25:99"})
    assert response.status_code == 422
    with time_form.app_context():
        assert db.scalar(sa.select(sa.func.count(Submission.id))) == 0
