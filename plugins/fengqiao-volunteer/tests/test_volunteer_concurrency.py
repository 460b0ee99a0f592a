"""Races with real threads on SQLite and PostgreSQL: the last place of an activity goes to
exactly one volunteer, and two organisers confirming at once cannot pass the daily limit."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db

pytestmark = pytest.mark.plugins("volunteer")
RACERS = 6


def _race(app, work, n):
    """Run ``work(i)`` in ``n`` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
            except Exception as err:  # collected and asserted on below
                results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_the_last_place_goes_to_exactly_one(app, make_volunteer, make_activity, client, staff):
    from fengqiao_volunteer import activities
    from fengqiao_volunteer.models import Activity, Enrollment

    activity = make_activity(starts="2030-05-01T09:00", ends="2030-05-01T11:00", quota=2)
    early = make_volunteer()
    assert client.post(f"/api/v1/p/volunteer/activities/{activity}/enrollments", json={"volunteer": early},
                       headers=staff).status_code == 201
    racers = [make_volunteer() for _ in range(RACERS)]

    results = _race(app, lambda i: activities.enroll(activity, racers[i], channel="phone").status, RACERS)
    assert sorted(results) == ["enrolled"] + ["waiting"] * (RACERS - 1), results
    with app.app_context():
        assert db.scalar(sa.select(Activity.enrolled).where(Activity.id == activity)) == 2
        statuses = db.scalars(sa.select(Enrollment.status).where(Enrollment.activity_id == activity)).all()
        assert statuses.count("enrolled") == 2 and statuses.count("waiting") == RACERS - 1


def test_concurrent_confirmations_respect_the_daily_limit(app, make_volunteer, make_activity):
    from fengqiao_volunteer import hours
    from fengqiao_volunteer.models import Activity, HoursEntry

    volunteer = make_volunteer()
    ids = [make_activity(starts="2025-03-01T08:00", ends="2025-03-01T18:00") for _ in range(3)]

    def confirm(i):
        return float(hours.record_hours(db.get(Activity, ids[i]), volunteer, 5, actor="shenli").hours)

    results = _race(app, confirm, 3)
    assert results.count(5.0) == 1, results
    assert all(isinstance(r, APIError) and r.problems[0][2] == "daily_limit" for r in results if r != 5.0)
    with app.app_context():
        assert float(db.scalar(sa.select(sa.func.sum(HoursEntry.hours)))) == 5.0
