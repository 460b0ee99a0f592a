"""A quarterly 公示 tells the branch's members who have an account (issue 21: plugins' own
events through ``fengqiao.sdk.channels.notify``): once, never the publisher, never a member of
another unit, and nothing when the publishing fails."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.db import db
from fengqiao.models import Notification, User
from vanguard_helpers import LANYUE, QIAODONG, YEAR, new_member

pytestmark = pytest.mark.plugins("vanguard")
API = "/api/v1/p/vanguard"


def _inbox(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        return sorted(db.execute(
            sa.select(User.username, Notification.kind, Notification.event_key, Notification.link)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind == "vanguard.notice_opened")).all())


def test_opening_a_notice_tells_the_units_members_with_an_account_once(app, client, bearer):
    shenli, hanzhiming = bearer("shenli"), bearer("hanzhiming")
    new_member(client, shenli, name="袁涛", username="yuantao")
    new_member(client, shenli, name="沈丽", username="shenli")  # the publisher: not told of their own act
    new_member(client, shenli, name="李卫东")  # no account: nobody to tell
    new_member(client, hanzhiming, name="韩志明", org=QIAODONG, username="hanzhiming")  # another community

    response = client.post(f"{API}/notices", headers=shenli, json={"org": LANYUE, "year": YEAR, "quarter": 1})
    assert response.status_code == 201, response.get_data(as_text=True)
    notice_id = response.get_json()["id"]
    rows = _inbox(app)
    assert rows == [("yuantao", "vanguard.notice_opened", f"vanguard:notice:{notice_id}",
                     f"/p/vanguard/notices/{notice_id}")]
    with app.app_context():
        text = db.scalar(sa.select(Notification.text).where(Notification.kind == "vanguard.notice_opened"))
    assert f"{YEAR} 年第 1 季度" in text and "异议受理至" in text and "袁涛" not in text

    again = client.post(f"{API}/notices", headers=shenli, json={"org": LANYUE, "year": YEAR, "quarter": 1})
    assert again.status_code == 409  # the same quarter again: refused, nobody told twice
    assert _inbox(app) == rows
