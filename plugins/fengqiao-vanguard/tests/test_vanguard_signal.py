"""``volunteer.hours_confirmed`` → pending 双报到 points, with only vanguard enabled: the
signal is sent here by name, exactly as the volunteer plugin sends it (never imported)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.events import plugin_signal, send_signal
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import csrf_token
from vanguard_helpers import ID_CARD, LANYUE, YEAR, approve, id_card, new_member, score

from fengqiao_vanguard.models import ScoreEvent

pytestmark = pytest.mark.plugins("vanguard")
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # review, scores, signal, notices: both


def hours(app, entry_id: int, hours: float, *, card: str | None = ID_CARD, mobile: str | None = None,
          double_report: bool = True, served_on: str = f"{YEAR}-01-15") -> None:
    with app.app_context():
        send_signal(plugin_signal("volunteer.hours_confirmed"), entry_id=entry_id, volunteer_id=7,
                    name="张建华", id_card=card, mobile=mobile, org=LANYUE, activity_id=3,
                    activity_title="敬老院义务理发", served_on=served_on, hours=hours,
                    double_report=double_report, confirmed_by="shenli")


def volunteer_events(app) -> list[tuple[int | None, float, str, str]]:
    with app.app_context():
        return [tuple(r) for r in db.execute(
            sa.select(ScoreEvent.volunteer_entry_id, ScoreEvent.points, ScoreEvent.status, ScoreEvent.period)
            .where(ScoreEvent.source == "volunteer").order_by(ScoreEvent.id))]


def test_hours_of_a_double_report_member_become_pending_points_once(app, client, bearer):
    shenli = bearer("shenli")
    member_id = new_member(client, shenli, id_card=ID_CARD)
    hours(app, 101, 4.0)
    hours(app, 101, 4.0)  # delivered twice: still one event
    assert volunteer_events(app) == [(101, 2.0, "pending", f"{YEAR}-01")]
    assert score(client, shenli, member_id)["score"] == 0  # pending until the branch approves
    queue = client.get("/api/v1/p/vanguard/queue", headers=shenli).get_json()["items"]
    assert [(e["indicator_code"], e["source"], e["points"]) for e in queue] == [("double_report", "volunteer", 2.0)]
    assert "敬老院义务理发" in queue[0]["reason"] and ID_CARD not in queue[0]["reason"]
    approve(client, shenli, queue[0]["id"])  # system-proposed: the secretary may approve it
    assert score(client, shenli, member_id)["score"] == 2.0


@sqlite_only
def test_matching_falls_back_to_the_mobile_and_ignores_others(app, client, bearer):
    new_member(client, bearer("shenli"), mobile="13900139000")
    hours(app, 1, 2.0, card=id_card("11010519491231002"), mobile="13900139000")  # unknown card, known mobile
    hours(app, 2, 2.0, card=id_card("11010519491231003"), mobile="13700137000")  # nobody
    hours(app, 3, 2.0, card=None, mobile="13900139000", double_report=False)  # not 双报到
    assert volunteer_events(app) == [(1, 1.0, "pending", f"{YEAR}-01")]


@sqlite_only
def test_rate_and_yearly_cap_come_from_the_settings(app, client, bearer, login_as):
    new_member(client, bearer("shenli"), id_card=ID_CARD)
    login_as("admin")
    token = csrf_token(client, "/admin/plugins/vanguard")
    response = client.post("/admin/plugins/vanguard", data={
        "volunteer_rate": "1", "volunteer_year_cap": "5", "volunteer_indicator": "service",
        "objection_days": "5", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    hours(app, 1, 3.0)
    hours(app, 2, 3.0)  # only 2 points left of the cap of 5
    hours(app, 3, 1.0)  # the cap is reached: nothing to review
    hours(app, 4, 2.0, served_on=f"{YEAR - 1}-12-30")  # another year, another cap
    assert volunteer_events(app) == [(1, 3.0, "pending", f"{YEAR}-01"), (2, 2.0, "pending", f"{YEAR}-01"),
                                     (4, 2.0, "pending", f"{YEAR - 1}-12")]
    with app.app_context():
        codes = set(db.scalars(sa.select(ScoreEvent.reason).where(ScoreEvent.volunteer_entry_id == 2)))
    assert any("年度上限" in c for c in codes)


@sqlite_only
def test_nothing_is_received_while_vanguard_is_switched_off(app, client, bearer, login_as):
    new_member(client, bearer("shenli"), id_card=ID_CARD)
    login_as("admin")
    token = csrf_token(client, "/admin/plugins")
    assert client.post("/admin/plugins/vanguard/switch", data={"enabled": "0", "csrf_token": token}).status_code == 302
    hours(app, 1, 2.0)
    assert volunteer_events(app) == []
    assert client.get("/p/vanguard/").status_code == 404


@sqlite_only
def test_vanguard_works_without_the_volunteer_plugin(app, client, bearer):
    """Only vanguard is loaded: its pages, API and scoring work, and no volunteer route exists."""
    shenli = bearer("shenli")
    assert client.get("/api/v1/p/volunteer/volunteers/1", headers=shenli).status_code == 404
    member_id = new_member(client, shenli)
    assert score(client, shenli, member_id)["stars"] == 0
    plugins = {p["name"]: p["state"] for p in client.get("/api/v1/plugins", headers=bearer("admin")).get_json()}
    assert plugins["vanguard"] == "enabled" and plugins.get("volunteer") != "enabled"
