"""Issue 18 §4 志愿服务: the organiser records who served in a past activity (补录) while
residents' enrolment stays closed; sign-in opens on the activity's day, not before."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.workdays import LOCAL_TZ

pytestmark = pytest.mark.plugins("volunteer")
API = "/api/v1/p/volunteer"


def test_organiser_backfills_a_past_activity_and_records_hours(app, client, staff, make_volunteer, make_activity):
    activity = make_activity(starts="2025-03-01T09:00", ends="2025-03-01T12:00")  # held last year
    volunteer = make_volunteer()
    response = client.post(f"{API}/activities/{activity}/enrollments", json={"volunteer": volunteer}, headers=staff)
    assert response.status_code == 201, response.get_json()
    hours = client.post(f"{API}/activities/{activity}/hours", json={"volunteer": volunteer, "hours": 2.5},
                        headers=staff)
    assert hours.status_code == 201, hours.get_json()
    from fengqiao_volunteer.models import Enrollment, EnrollmentEvent

    with app.app_context():
        events = db.execute(sa.select(EnrollmentEvent.action, EnrollmentEvent.actor)
                            .join(Enrollment, EnrollmentEvent.enrollment_id == Enrollment.id)
                            .where(Enrollment.activity_id == activity).order_by(EnrollmentEvent.id)).all()
    assert [tuple(e) for e in events] == [("enrolled", "shenli"), ("backfilled", "shenli")]


def test_residents_cannot_enrol_in_a_past_activity(app, make_volunteer, make_activity):
    activity = make_activity(starts="2025-03-01T09:00", ends="2025-03-01T12:00")
    volunteer = make_volunteer()
    from fengqiao_volunteer import activities

    with app.app_context():
        with pytest.raises(APIError) as refused:
            activities.enroll(activity, volunteer, channel="phone")  # the public sign-up page
        assert refused.value.status == 422 and refused.value.problems[0][1] == "报名已截止"
        with pytest.raises(APIError):  # nor the organiser's channel without an organiser
            activities.enroll(activity, volunteer, channel="staff", actor=None)


def test_organiser_cannot_backfill_an_activity_not_yet_held(client, staff, make_volunteer, make_activity):
    closed = make_activity(starts="2030-05-01T09:00", ends="2030-05-01T11:00", signup_deadline="2020-01-01T00:00")
    response = client.post(f"{API}/activities/{closed}/enrollments", json={"volunteer": make_volunteer()},
                           headers=staff)
    assert response.status_code == 422 and response.get_json()["errors"][0]["message"] == "报名已截止"


def test_sign_in_opens_on_the_activity_day(app, make_volunteer, make_activity):
    from fengqiao_volunteer import activities

    today = utcnow().astimezone(LOCAL_TZ).date()
    tomorrow = today + timedelta(days=1)
    later = make_activity(starts=f"{tomorrow}T09:00", ends=f"{tomorrow}T11:00")
    now = make_activity(starts=f"{today}T00:00", ends=f"{today}T23:59")
    volunteer = make_volunteer()
    with app.app_context():
        activities.enroll(later, volunteer)
        activities.enroll(now, volunteer)
        with pytest.raises(APIError) as early:
            activities.attendance(later, volunteer, "in")
        assert early.value.status == 422
        assert early.value.problems[0][1] == f"签到将于活动当天（{tomorrow.month}月{tomorrow.day}日）开放"
        done = activities.attendance(now, volunteer, "in")
        assert done.signed_in_at is not None
