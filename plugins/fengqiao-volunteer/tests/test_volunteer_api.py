"""The API of issue 9 and its acceptance: registration with minors' consent, activities,
enrollment with a waiting list, the hours rules with Chinese 422s, stars by confirmed hours."""

from __future__ import annotations

from pathlib import Path

import pytest
from fengqiao.sdk.events import plugin_signal
from fengqiao.sdk.testing import imports_outside_the_sdk
from volunteer_helpers import COMMUNITY, OTHER_COMMUNITY, adult_id, minor_id

pytestmark = pytest.mark.plugins("volunteer")
API = "/api/v1/p/volunteer"
# Validation and permissions do not depend on the backend; what sums, locks or counts runs on both.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _errors(response) -> list[dict]:
    return response.get_json()["errors"]


@sqlite_only
def test_registration_checks_the_id_number_and_a_minors_consent(client, staff):
    body = {"name": "李小华", "id_card": minor_id(), "mobile": "13900000001", "org": COMMUNITY}
    response = client.post(f"{API}/volunteers", json=body, headers=staff)
    assert response.status_code == 422
    [error] = _errors(response)
    assert error["pointer"] == "/guardian_consent" and "监护人" in error["message"]
    response = client.post(f"{API}/volunteers", json={**body, "guardian_consent": True}, headers=staff)
    assert response.status_code == 201 and isinstance(response.get_json()["id"], int)

    wrong = adult_id(1)[:-1] + ("1" if adult_id(1)[-1] == "0" else "0")
    bad = client.post(f"{API}/volunteers", json={**body, "id_card": wrong}, headers=staff)
    assert bad.status_code == 422 and _errors(bad)[0]["pointer"] == "/id_card"
    assert _errors(bad)[0]["message"] == "身份证号码校验位不正确"

    adult = {"name": "张伟", "id_card": adult_id(2).lower(), "org": COMMUNITY}
    assert client.post(f"{API}/volunteers", json=adult, headers=staff).status_code == 201
    again = client.post(f"{API}/volunteers", json=adult, headers=staff)
    assert again.status_code == 409 and _errors(again)[0]["code"] == "duplicate"
    assert client.post(f"{API}/volunteers", json=[body], headers=staff).status_code == 422
    assert client.get(f"{API}/volunteers?cursor=10000000000000000000000", headers=staff).status_code == 422
    missing = client.post(f"{API}/volunteers", json={"id_card": adult_id(3)}, headers=staff)
    assert {e["pointer"] for e in _errors(missing)} == {"/name", "/org"}
    assert all(e["message"] == "此项为必填项" for e in _errors(missing))


@sqlite_only
def test_staff_register_only_in_their_scope_and_need_the_permission(client, staff, bearer):
    body = {"name": "王芳", "id_card": adult_id(4), "org": OTHER_COMMUNITY}
    response = client.post(f"{API}/volunteers", json=body, headers=staff)
    assert response.status_code == 422 and _errors(response)[0]["pointer"] == "/org"
    assert client.post(f"{API}/volunteers", json=body).status_code == 401
    assert client.post(f"{API}/volunteers", json=body, headers=bearer("zhangmin")).status_code == 403


@sqlite_only
def test_volunteer_detail_is_masked_and_scoped(client, staff, bearer, make_volunteer):
    vid = make_volunteer(name="欧阳娜娜", mobile="13812345678")
    data = client.get(f"{API}/volunteers/{vid}", headers=staff).get_json()
    assert data["id"] == vid and data["total_hours"] == 0 and data["stars"] == 0
    assert data["name"] == "欧阳***" or data["name"].startswith("欧") and "*" in data["name"]
    assert data["mobile"] == "138****5678" and "*" in data["id_card"] and data["star_award"] is None
    assert client.get(f"{API}/volunteers/{vid}", headers=bearer("hanzhiming")).status_code == 404  # 桥东
    listed = client.get(f"{API}/volunteers", headers=staff).get_json()
    assert [v["id"] for v in listed["items"]] == [vid] and listed["next_cursor"] is None


@sqlite_only
def test_activity_validation(client, staff):
    body = {"title": "助老", "org": COMMUNITY, "starts_at": "2026-12-05T09:00", "ends_at": "2026-12-05T08:00",
            "quota": 3}
    response = client.post(f"{API}/activities", json=body, headers=staff)
    assert response.status_code == 422 and _errors(response)[0]["pointer"] == "/ends_at"
    response = client.post(f"{API}/activities", json={**body, "ends_at": "明天"}, headers=staff)
    assert _errors(response)[0]["pointer"] == "/ends_at" and "日期" in _errors(response)[0]["message"]
    response = client.post(f"{API}/activities", json={**body, "quota": 0, "ends_at": "2026-12-05T11:00"}, headers=staff)
    assert response.status_code == 422 and _errors(response)[0]["pointer"] == "/quota"


def test_enrollment_is_first_come_then_waiting_list(app, client, staff, make_volunteer, make_activity):
    activity = make_activity(starts="2030-05-01T09:00", ends="2030-05-01T11:00", quota=1)
    first, second, third = make_volunteer(), make_volunteer(), make_volunteer()
    url = f"{API}/activities/{activity}/enrollments"
    ok = client.post(url, json={"volunteer": first}, headers=staff)
    assert ok.status_code == 201 and ok.get_json()["status"] == "enrolled"
    again = client.post(url, json={"volunteer": first}, headers=staff)
    assert again.status_code == 409 and _errors(again)[0]["code"] == "duplicate"
    waiting = client.post(url, json={"volunteer": second}, headers=staff)
    assert waiting.status_code == 409
    body = waiting.get_json()
    assert body["errors"][0]["code"] == "waitlisted" and "候补" in body["errors"][0]["message"]
    assert body["status"] == "waiting" and body["position"] == 1
    assert client.post(url, json={"volunteer": third}, headers=staff).get_json()["position"] == 2
    # A freed place goes to the first on the waiting list.
    with app.app_context():
        from fengqiao_volunteer.activities import cancel

        cancel(ok.get_json()["id"])
    again = client.post(url, json={"volunteer": first}, headers=staff)  # re-enrolling after cancelling
    assert again.status_code == 409 and again.get_json()["position"] == 2  # behind the third
    detail = client.get(f"{API}/activities", headers=staff).get_json()["items"][0]
    assert detail["enrolled"] == 1
    with app.app_context():
        import sqlalchemy as sa
        from fengqiao.sdk.models import db

        from fengqiao_volunteer.models import EnrollmentEvent

        actions = db.scalars(sa.select(EnrollmentEvent.action).order_by(EnrollmentEvent.id)).all()
        assert actions == ["enrolled", "waiting", "waiting", "cancelled", "promoted", "waiting"]
    unknown = client.post(url, json={"volunteer": 99999}, headers=staff)  # missing = out of scope: one answer
    assert unknown.status_code == 404 and _errors(unknown)[0]["pointer"] == "/volunteer"
    assert _errors(unknown)[0]["message"] == "未找到该页面或记录"
    assert client.post(f"{API}/activities/99999/enrollments", json={"volunteer": first},
                       headers=staff).status_code == 404
    huge = 2**40  # beyond PostgreSQL's integer: still a clean 404/422, never a 500
    assert client.post(f"{API}/activities/{huge}/enrollments", json={"volunteer": first},
                       headers=staff).status_code == 404
    assert client.post(url, json={"volunteer": huge}, headers=staff).status_code == 422
    assert client.get(f"{API}/volunteers/{huge}", headers=staff).status_code == 404


def _hours(client, staff, activity, volunteer, hours, served_on=None):
    body = {"volunteer": volunteer, "hours": hours, **({"served_on": served_on} if served_on else {})}
    return client.post(f"{API}/activities/{activity}/hours", json=body, headers=staff)


def test_hours_rules_answer_422_in_chinese(client, staff, make_volunteer, make_activity):
    volunteer = make_volunteer()
    morning = make_activity(starts="2025-03-01T08:00", ends="2025-03-01T13:00")  # 5 h
    afternoon = make_activity(starts="2025-03-01T13:00", ends="2025-03-01T18:00")  # 5 h

    step = _hours(client, staff, morning, volunteer, 0.3)
    assert step.status_code == 422
    assert _errors(step)[0] == {"pointer": "/hours", "code": "multipleOf",
                                "message": "工时须以 0.5 小时为单位登记（如 1、1.5、2）"}
    longer = _hours(client, staff, morning, volunteer, 5.5)
    assert longer.status_code == 422 and _errors(longer)[0]["code"] == "maximum"
    assert "活动时长 5 小时" in _errors(longer)[0]["message"]
    assert _hours(client, staff, morning, volunteer, 0).status_code == 422

    assert _hours(client, staff, morning, volunteer, 5).status_code == 201
    # The day's limit sums entries across activities: 5 + 3.5 = 8.5 > 8.
    past_day = _hours(client, staff, afternoon, volunteer, 3.5)
    assert past_day.status_code == 422 and _errors(past_day)[0]["code"] == "daily_limit"
    assert "每人每日工时不能超过 8 小时" in _errors(past_day)[0]["message"]
    assert _hours(client, staff, afternoon, volunteer, 3).status_code == 201
    # Same activity again: its length is a cap per volunteer, not per entry.
    assert _hours(client, staff, morning, volunteer, 0.5).get_json()["errors"][0]["code"] == "maximum"
    outside = _hours(client, staff, morning, volunteer, 1, served_on="2025-03-02")
    assert outside.status_code == 422 and _errors(outside)[0]["pointer"] == "/served_on"
    assert client.get(f"{API}/volunteers/{volunteer}", headers=staff).get_json()["total_hours"] == 8


@sqlite_only
def test_sign_up_deadline_adults_only_and_future_service(client, staff, make_volunteer, make_activity):
    volunteer = make_volunteer()
    closed = make_activity(starts="2030-05-01T09:00", ends="2030-05-01T11:00", signup_deadline="2020-01-01T00:00")
    response = client.post(f"{API}/activities/{closed}/enrollments", json={"volunteer": volunteer}, headers=staff)
    assert response.status_code == 422 and _errors(response)[0]["message"] == "报名已截止"
    response = _hours(client, staff, closed, volunteer, 1)
    assert response.status_code == 422 and "尚未发生" in _errors(response)[0]["message"]
    night = make_activity(starts="2030-05-01T20:00", ends="2030-05-01T23:00", adults_only=True)
    minor = make_volunteer(id_card=minor_id(2, years=10), guardian_consent=True)  # 14 in 2030
    response = client.post(f"{API}/activities/{night}/enrollments", json={"volunteer": minor}, headers=staff)
    assert response.status_code == 422 and _errors(response)[0]["message"] == "该活动仅限成年志愿者参加"
    assert client.post(f"{API}/activities/{night}/enrollments", json={"volunteer": volunteer},
                       headers=staff).status_code == 201


def _long_activity(make_activity) -> int:
    return make_activity(starts="2024-01-01T00:00", ends="2025-12-31T23:00", quota=5)


def _days(n):
    from datetime import date, timedelta

    return [(date(2024, 1, 1) + timedelta(days=i)).isoformat() for i in range(n)]


def test_stars_follow_confirmed_hours(client, staff, make_volunteer, make_activity):
    activity = _long_activity(make_activity)
    volunteer = make_volunteer()
    days = _days(13)
    for day in days[:12]:
        assert _hours(client, staff, activity, volunteer, 8, day).status_code == 201
    last = _hours(client, staff, activity, volunteer, 3.5, days[12])
    assert last.get_json()["total_hours"] == 99.5 and last.get_json()["stars"] == 0
    detail = client.get(f"{API}/volunteers/{volunteer}", headers=staff).get_json()
    assert (detail["total_hours"], detail["stars"], detail["star_award"]) == (99.5, 0, None)

    assert _hours(client, staff, activity, volunteer, 0.5, days[12]).get_json()["stars"] == 1
    detail = client.get(f"{API}/volunteers/{volunteer}", headers=staff).get_json()
    assert (detail["total_hours"], detail["stars"]) == (100, 1)
    assert detail["star_award"]["stars"] == 1 and detail["star_award"]["status"] == "notice"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_1500_hours_make_five_stars(app, client, staff, make_volunteer, make_activity):
    activity = _long_activity(make_activity)
    volunteer = make_volunteer()
    with app.app_context():  # 187 days of 8 h through the service (the API path is tested above)
        from fengqiao.sdk.models import db

        from fengqiao_volunteer.hours import record_hours
        from fengqiao_volunteer.models import Activity

        for day in _days(187):
            record_hours(db.get(Activity, activity), volunteer, 8, served_on=day, actor="shenli")  # 1496 h
    assert _hours(client, staff, activity, volunteer, 3.5, _days(188)[-1]).get_json()["stars"] == 4
    assert _hours(client, staff, activity, volunteer, 0.5, _days(188)[-1]).get_json()["stars"] == 5
    detail = client.get(f"{API}/volunteers/{volunteer}", headers=staff).get_json()
    assert (detail["total_hours"], detail["stars"]) == (1500, 5)


def test_thresholds_and_rounding_rules():
    from fengqiao_volunteer.rules import is_half_hour_step, round_down_half, stars_for

    levels = [100, 300, 600, 1000, 1500]
    assert [stars_for(h, levels) for h in (0, 99.5, 100, 299.5, 300, 600, 999.5, 1000, 1499.5, 1500, 9000)] == [
        0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5]
    assert is_half_hour_step(2.5) and not is_half_hour_step(0.3)
    assert round_down_half(1 + 50 / 60) == 1.5 and round_down_half(-1) == 0


def test_corrections_are_new_entries_and_signals_follow_the_contract(app, client, staff, make_volunteer,
                                                                    make_activity):
    received = []
    plugin_signal("volunteer.hours_confirmed").connect(lambda sender, **kw: received.append(kw), sender=app,
                                                       weak=False)
    volunteer = make_volunteer(name="刘建国", double_report=True)
    activity = make_activity()
    entry = _hours(client, staff, activity, volunteer, 3).get_json()["id"]
    assert received[-1] == {
        "entry_id": entry, "volunteer_id": volunteer, "name": "刘建国", "id_card": adult_id(1),
        "mobile": "13800000000", "org": COMMUNITY, "activity_id": activity, "activity_title": "社区清洁",
        "served_on": "2025-03-01", "hours": 3.0, "double_report": True, "confirmed_by": "shenli"}

    url = f"{API}/hours/{entry}/corrections"
    no_reason = client.post(url, json={"hours": -1, "reason": ""}, headers=staff)
    assert no_reason.status_code == 422 and _errors(no_reason)[0]["pointer"] == "/reason"
    too_much = client.post(url, json={"hours": -3.5, "reason": "多记"}, headers=staff)
    assert too_much.status_code == 422
    fixed = client.post(url, json={"hours": -1, "reason": "签到晚了一小时"}, headers=staff)
    assert fixed.status_code == 201 and fixed.get_json()["total_hours"] == 2
    assert received[-1]["hours"] == -1.0 and received[-1]["entry_id"] == fixed.get_json()["id"]
    with app.app_context():
        import sqlalchemy as sa
        from fengqiao.sdk.models import db

        from fengqiao_volunteer.models import HoursEntry

        rows = db.execute(sa.select(HoursEntry.hours, HoursEntry.corrects_id).order_by(HoursEntry.id)).all()
        assert [(float(h), c) for h, c in rows] == [(3.0, None), (-1.0, entry)]  # the original is untouched


@sqlite_only
def test_double_report_units_and_teams(client, staff, make_volunteer):
    unit = client.post(f"{API}/units", json={"name": "云澜县税务局", "org": COMMUNITY}, headers=staff)
    assert unit.status_code == 201
    bad = client.post(f"{API}/units", json={"name": "", "org": COMMUNITY, "contact_mobile": "12"}, headers=staff)
    assert {e["pointer"] for e in _errors(bad)} == {"/name", "/contact_mobile"}
    member = make_volunteer(double_report=True, report_unit=unit.get_json()["id"])
    detail = client.get(f"{API}/volunteers/{member}", headers=staff).get_json()
    assert detail["double_report"] and detail["party_member"] and detail["report_unit"] == unit.get_json()["id"]
    team = client.post(f"{API}/teams", json={"name": "先锋队", "org": COMMUNITY, "leader": member}, headers=staff)
    assert team.status_code == 201
    assert client.get(f"{API}/volunteers/{member}", headers=staff).get_json()["team"] == team.get_json()["id"]
    unknown = client.post(f"{API}/teams", json={"name": "x", "org": COMMUNITY, "leader": 999}, headers=staff)
    assert unknown.status_code == 404 and _errors(unknown)[0]["pointer"] == "/leader"  # as another unit's


@sqlite_only
def test_api_routes_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)  # request bodies are JSON Schemas, not prose
    for path, method in [("/p/volunteer/volunteers", "post"), ("/p/volunteer/volunteers/{volunteer_id}", "get"),
                         ("/p/volunteer/activities", "post"),
                         ("/p/volunteer/activities/{activity_id}/enrollments", "post"),
                         ("/p/volunteer/activities/{activity_id}/hours", "post"),
                         ("/p/volunteer/certificates/{serial}", "get")]:
        assert method in spec["paths"][path], path


def test_no_update_of_hours_anywhere():
    """The ledger is append-only: no module issues an UPDATE on HoursEntry."""
    package = Path(__file__).resolve().parents[1] / "fengqiao_volunteer"
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "update(HoursEntry" not in text and "HoursEntry.hours =" not in text, path.name
        assert ".hours = " not in text, path.name


def test_imports_only_the_sdk_from_the_core():
    assert imports_outside_the_sdk(Path(__file__).resolve().parents[1] / "fengqiao_volunteer") == []


def test_a_units_move_carries_the_paths_the_plugin_keeps(app, make_volunteer):
    """The volunteers of 揽月社区 follow it when an admin moves it under 石溪镇 (``org_moved``)."""
    import sqlalchemy as sa
    from fengqiao.sdk.models import db
    from fengqiao.sdk.testing import csrf_token, login

    from fengqiao_volunteer.models import Volunteer

    volunteer_id = make_volunteer()
    admin = app.test_client()
    login(admin, "admin")
    page = f"/admin/orgs/{COMMUNITY}"
    moved = admin.post(page, data={"csrf_token": csrf_token(admin, page), "name": "揽月社区", "parent": "339901100",
                                   "active": "y"})
    assert moved.status_code == 302, moved.get_data(as_text=True)
    with app.app_context():
        assert db.scalar(sa.select(Volunteer.org_path).where(Volunteer.id == volunteer_id)) == \
            f"/339901/339901100/{COMMUNITY}/"
