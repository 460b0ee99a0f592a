"""A waiting-listed volunteer promoted to a place reaches the inbox of the staff member who
put them on the list (volunteers have no account; issue 21: plugins' own events through
``fengqiao.sdk.channels.notify``): once, with the name masked, never to whoever freed the place."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.models import Notification, User
from fengqiao.sdk.models import db

from fengqiao_volunteer.activities import cancel

pytestmark = pytest.mark.plugins("volunteer")
API = "/api/v1/p/volunteer"


def _rows(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        return db.execute(sa.select(User.username, Notification.event_key, Notification.text, Notification.link)
                          .join(User, User.id == Notification.user_id)
                          .where(Notification.kind == "volunteer.promoted").order_by(Notification.id)).all()


def _enroll(client, staff, activity: int, volunteer: int) -> dict:
    return client.post(f"{API}/activities/{activity}/enrollments", json={"volunteer": volunteer},
                       headers=staff).get_json()


def test_a_promotion_tells_who_waiting_listed_the_volunteer_once(app, client, staff, bearer, make_volunteer,
                                                                 make_activity):
    activity = make_activity(starts="2030-05-01T09:00", ends="2030-05-01T11:00", quota=1)
    first, second = make_volunteer(name="陈志远"), make_volunteer(name="王秀英")
    placed = _enroll(client, staff, activity, first)
    waiting = _enroll(client, staff, activity, second)  # 沈丽 lists 王秀英 as waiting
    assert placed["status"] == "enrolled" and waiting["status"] == "waiting"

    with app.app_context():
        cancel(placed["id"], actor="yuantao")  # a colleague frees the place
        cancel(placed["id"], actor="yuantao")  # again: already cancelled, nothing more
    rows = _rows(app)
    assert [(u, link) for u, _k, _t, link in rows] == [("shenli", f"/p/volunteer/activities/{activity}")]
    assert "王*" in rows[0][2] and "王秀英" not in rows[0][2] and "社区清洁" in rows[0][2]
    assert rows[0][1].startswith(f"volunteer:promoted:{waiting['id']}:")


def test_no_message_to_the_one_who_freed_the_place_themselves(app, client, staff, make_volunteer, make_activity):
    activity = make_activity(starts="2030-05-01T09:00", ends="2030-05-01T11:00", quota=1)
    placed = _enroll(client, staff, activity, make_volunteer())
    _enroll(client, staff, activity, make_volunteer())
    with app.app_context():
        cancel(placed["id"], actor="shenli")
    assert _rows(app) == []
