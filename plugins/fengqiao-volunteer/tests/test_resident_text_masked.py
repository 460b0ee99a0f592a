"""Resident-entered text goes through the masking layer on every volunteer page (issue 17,
finding 8): a 微心愿 title carrying a phone number showed in full on a self-registered
volunteer's record page, and on the staff list."""

from __future__ import annotations

import pytest
from fengqiao.sdk.testing import csrf_token, submit_form
from volunteer_helpers import COMMUNITY

pytestmark = [pytest.mark.plugins("volunteer"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
P = "/p/volunteer"
WISH = "请 13911114444 的王阿姨帮忙修水龙头，身份证 110105199003071234"
SHOWN = ("13911114444", "110105199003071234")


def _unmasked(html: str) -> list[str]:
    return [value for value in SHOWN if value in html]


def test_wish_titles_are_masked_on_the_volunteer_page_and_the_staff_list(app, client, make_volunteer, login_as):
    from fengqiao_volunteer.tokens import volunteer_token

    number = submit_form(app.test_client(), "volunteer-wish", {"wish": WISH, "name": "王阿姨", "mobile": "13911115555"},
                         org=COMMUNITY)["case_number"]
    volunteer = make_volunteer()
    with app.test_request_context():
        me = f"{P}/me/{volunteer_token(volunteer)}"
    anonymous = app.test_client()  # the record page is reached by its token, no account
    page = anonymous.get(me).get_data(as_text=True)
    assert "139****4444" in page and _unmasked(page) == []
    anonymous.post(f"{me}/wishes/{number}/claim", data={"csrf_token": csrf_token(anonymous, me)})
    claimed = anonymous.get(me).get_data(as_text=True)
    assert "认领成功" in claimed and "我认领的心愿" in claimed
    assert "139****4444" in claimed and _unmasked(claimed) == []
    login_as("shenli")
    staff_list = client.get(f"{P}/wishes").get_data(as_text=True)
    assert number in staff_list and "139****4444" in staff_list and _unmasked(staff_list) == []


def test_correction_reasons_are_masked_in_the_hours_export(client, staff, make_volunteer, make_activity, login_as):
    import io

    from openpyxl import load_workbook

    volunteer, activity = make_volunteer(), make_activity()
    entry = client.post(f"/api/v1/p/volunteer/activities/{activity}/hours",
                        json={"volunteer": volunteer, "hours": 3}, headers=staff).get_json()["id"]
    fixed = client.post(f"/api/v1/p/volunteer/hours/{entry}/corrections",
                        json={"hours": -1, "reason": "13911114444 来电说签到晚了一小时"}, headers=staff)
    assert fixed.status_code == 201
    login_as("shenli")
    sheet = load_workbook(io.BytesIO(client.get(f"{P}/export/hours.xlsx").data)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "139****4444 来电说签到晚了一小时" in cells and not any("13911114444" in c for c in cells)
