"""Pages and flows: calendar, roster with attendance and confirmation, phone sign-up, the
volunteer's record page with disputes, certificates and their verification, exports (masked),
rankings, 双报到 units, teams, 微心愿 on the case engine, the star notice job."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import csrf_token, submit_form
from volunteer_helpers import COMMUNITY, adult_id

pytestmark = pytest.mark.plugins("volunteer")
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
P = "/p/volunteer"


def _post(client, url, data, page=None):
    token = csrf_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token})


def test_staff_pages_render_and_need_permission(client, login_as, make_volunteer, make_activity):
    make_volunteer()
    activity = make_activity(starts="2025-03-01T09:00", ends="2025-03-01T12:00")
    assert client.get(f"{P}/").status_code == 302  # to /login
    login_as("zhangmin")  # a grid worker holds neither volunteer permission
    assert client.get(f"{P}/").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as("shenli")
    for url in ["/", "/?month=2025-03", "/?month=garbage", f"/activities/{activity}", "/activities/new",
                "/volunteers", "/volunteers/new", "/teams", "/units", "/wishes", "/rankings", "/rankings?year=2025"]:
        response = client.get(P + url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:400])
    assert "社区清洁" in client.get(f"{P}/?month=2025-03").get_data(as_text=True)
    assert client.get(f"{P}/rankings?year=99999").status_code == 422  # fengqiao.sdk.int_arg: 年份应为…
    assert client.get(f"{P}/activities/99999").status_code == 404
    assert client.get(f"{P}/activities/{2**40}").status_code == 404  # no PostgreSQL overflow (500)
    assert client.get(f"{P}/volunteers/{2**40}").status_code == 404
    dashboard = client.get("/").get_data(as_text=True)
    assert 'href="/p/volunteer/"' in dashboard and "志愿者 <b>1</b> 人" in dashboard  # menu item, widget


@sqlite_only
def test_forms_keep_input_and_show_chinese_errors(client, login_as):
    login_as("shenli")
    response = _post(client, f"{P}/volunteers/new", {"name": "赵六", "id_card": "123", "org": COMMUNITY})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "身份证号码" in html and 'value="赵六"' in html
    response = _post(client, f"{P}/activities/new", {"title": "", "org": COMMUNITY, "starts_at": "2026-12-01T09:00",
                                                     "ends_at": "2026-12-01T08:00", "quota": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "此项为必填项" in html
    response = _post(client, f"{P}/activities/new", {"title": "敬老", "org": COMMUNITY, "starts_at": "2026-12-01T09:00",
                                                     "ends_at": "2026-12-01T11:00", "quota": "3", "insurance": "1"})
    assert response.status_code == 302 and "/p/volunteer/activities/" in response.headers["Location"]
    response = _post(client, f"{P}/volunteers/new", {"name": "赵六", "id_card": adult_id(50), "org": COMMUNITY,
                                                     "double_report": "1", "mobile": "13700001111"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "137****1111" in html and adult_id(50) not in html and "在职党员双报到" in html


def test_roster_attendance_confirmation_dispute_and_correction(app, client, login_as, make_volunteer,
                                                               make_activity):
    activity = make_activity(starts="2025-03-01T09:00", ends="2025-03-01T12:00", quota=1)
    volunteer = make_volunteer(name="陈晓燕")
    login_as("shenli")
    roster = f"{P}/activities/{activity}"
    with app.app_context():  # the activity is in the past: enroll directly for the roster
        from fengqiao_volunteer.models import Activity, Enrollment

        db.execute(sa.update(Activity).where(Activity.id == activity).values(enrolled=1))
        db.add(Enrollment(activity_id=activity, volunteer_id=volunteer, status="enrolled"))
        db.commit()
        enrollment = db.scalar(sa.select(Enrollment.id))
    assert _post(client, f"{roster}/enrollments/{enrollment}/out", {}, roster).status_code == 302
    assert "请先签到再签退" in client.get(roster).get_data(as_text=True)
    _post(client, f"{roster}/enrollments/{enrollment}/in", {}, roster)
    _post(client, f"{roster}/enrollments/{enrollment}/out", {}, roster)
    html = client.get(roster).get_data(as_text=True)
    assert "陈**" in html and "陈晓燕" not in html and "data:image/png;base64," in html
    assert "签到（shenli）" in html and "签退（shenli）" in html  # the roster's history
    _post(client, f"{roster}/hours", {"volunteer": volunteer, "hours": "0.3", "served_on": "2025-03-01"}, roster)
    assert "0.5 小时为单位" in client.get(roster).get_data(as_text=True)
    _post(client, f"{roster}/hours", {"volunteer": volunteer, "hours": "2.5", "served_on": "2025-03-01"}, roster)
    assert "已确认 2.5 小时" in client.get(roster).get_data(as_text=True)

    record = client.get(f"{P}/volunteers/{volunteer}").get_data(as_text=True)
    me_url = re.search(r'data-record-url>([^<]+)<', record).group(1)
    me_path = me_url.split("localhost", 1)[-1]
    me = client.get(me_path).get_data(as_text=True)
    assert "2.5 小时" in me and "提出异议" in me
    entry = re.search(r'name="entry" value="(\d+)"', me).group(1)
    client.post(f"{me_path}/disputes", data={"entry": entry, "reason": "实际服务了 3 小时",
                                             "csrf_token": csrf_token(client, me_path)})
    html = client.get(roster).get_data(as_text=True)
    assert "待处理的工时异议" in html and "实际服务了 3 小时" in html
    _post(client, f"{P}/hours/{entry}/correct", {"hours": "0.5", "reason": "核实签到记录"}, roster)
    record = client.get(f"{P}/volunteers/{volunteer}").get_data(as_text=True)
    assert "更正记录" in record and "3 小时" in record
    assert "待处理的工时异议" not in client.get(roster).get_data(as_text=True)
    # A second objection is turned down with a reason: the hours stay as they are.
    client.post(f"{me_path}/disputes", data={"entry": entry, "reason": "还应加半小时",
                                             "csrf_token": csrf_token(client, me_path)})
    with app.app_context():
        from fengqiao_volunteer.models import Dispute

        dispute = db.scalar(sa.select(Dispute.id).where(Dispute.resolved_at.is_(None)))
    _post(client, f"{P}/disputes/{dispute}/reject", {"resolution": ""}, roster)
    assert "请填写处理意见" in client.get(roster).get_data(as_text=True)
    _post(client, f"{P}/disputes/{dispute}/reject", {"resolution": "签退时间为准", "next": roster}, roster)
    assert "维持原工时" in client.get(roster).get_data(as_text=True)
    with app.app_context():
        assert db.scalar(sa.select(Dispute.resolution).where(Dispute.id == dispute)) == "维持原工时：签退时间为准"


@sqlite_only
def test_phone_signup_registers_enrolls_and_waitlists(app, client, make_activity, demo):
    activity = make_activity(starts="2030-05-01T09:00", ends="2030-05-01T11:00", quota=1)
    url = f"{P}/a/{activity}"
    assert client.get(url).status_code == 200  # public
    bad = _post(client, url, {"name": "孙七", "id_card": adult_id(60)[:-1]})
    assert bad.status_code == 422 and "身份证号码" in bad.get_data(as_text=True)
    ok = _post(client, url, {"name": "孙七", "id_card": adult_id(60), "mobile": "13600000000"})
    assert ok.status_code == 302 and "/p/volunteer/me/" in ok.headers["Location"]
    assert "报名成功" in client.get(ok.headers["Location"]).get_data(as_text=True)
    mismatch = _post(client, url, {"name": "孙八", "id_card": adult_id(60)})
    assert mismatch.status_code == 422 and "姓名与登记的身份证号不符" in mismatch.get_data(as_text=True)
    again = _post(client, url, {"name": "孙七", "id_card": adult_id(60)})
    assert again.status_code == 422 and "已报名" in again.get_data(as_text=True)
    second = _post(client, url, {"name": "周九", "id_card": adult_id(61)})
    assert "候补" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert client.get(f"{P}/me/forged-token").status_code == 404


@sqlite_only
def test_qr_checkin_on_the_phone(app, client, login_as, make_volunteer, make_activity):
    from fengqiao.sdk.models import utcnow
    from fengqiao.sdk.workdays import LOCAL_TZ

    from fengqiao_volunteer import activities

    today = utcnow().astimezone(LOCAL_TZ).date()  # sign-in opens on the activity's day
    activity = make_activity(starts=f"{today}T00:00", ends=f"{today}T23:59")
    volunteer = make_volunteer(name="吴十")
    with app.app_context():
        activities.enroll(activity, volunteer)
    login_as("shenli")
    html = client.get(f"{P}/activities/{activity}").get_data(as_text=True)
    checkin = re.search(r'href="http://localhost(/p/volunteer/checkin/[^"]+)" data-checkin-url', html).group(1)
    checkout = re.search(r'href="http://localhost(/p/volunteer/checkin/[^"]+)" data-checkout-url', html).group(1)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    wrong = _post(client, checkin, {"name": "吴十", "id_card": adult_id(2)})
    assert wrong.status_code == 422 and "未找到该志愿者" in wrong.get_data(as_text=True)
    early = _post(client, checkout, {"name": "吴十", "id_card": adult_id(1)})
    assert "请先签到再签退" in early.get_data(as_text=True)
    assert "签到成功" in _post(client, checkin, {"name": "吴十", "id_card": adult_id(1)}).get_data(as_text=True)
    assert "签退成功" in _post(client, checkout, {"name": "吴十", "id_card": adult_id(1)}).get_data(as_text=True)
    assert client.get(f"{P}/checkin/forged").status_code == 404


@sqlite_only
def test_certificate_pdf_and_verification(app, client, login_as, staff, make_volunteer, make_activity):
    activity = make_activity()
    volunteer = make_volunteer(name="陈晓燕")
    client.post(f"/api/v1/p/volunteer/activities/{activity}/hours", json={"volunteer": volunteer, "hours": 3},
                headers=staff)
    login_as("shenli")
    _post(client, f"{P}/volunteers/{volunteer}/certificate", {}, f"{P}/volunteers/{volunteer}")
    html = client.get(f"{P}/volunteers/{volunteer}").get_data(as_text=True)
    serial = re.search(r"(ZY\d{4}-[A-Z0-9]{10})", html).group(1)
    pdf = client.get(f"{P}/certificates/{serial}.pdf")
    if pdf.status_code == 503:  # FontMissing: the page says so instead of a PDF of empty boxes
        pytest.skip("no CJK font for certificate PDFs (apt-get install fonts-noto-cjk)")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    PdfReader = pytest.importorskip("pypdf", reason="pip install -e 'plugins/fengqiao-volunteer[test]'").PdfReader

    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text().replace("\x00", "").replace("\n", "")
    assert "志愿服务记录证明" in text and serial in text and "/p/volunteer/verify/" + serial in text
    assert "揽月社区志愿服务站" in text and "社区清洁" in text and "2025 年 3 小时" in text
    assert adult_id(1) not in text and adult_id(1)[-4:] in text  # the ID number is masked
    anonymous = app.test_client()
    page = anonymous.get(f"{P}/verify/{serial}").get_data(as_text=True)
    assert "证明有效" in page and "陈**" in page and "陈晓燕" not in page
    assert anonymous.get(f"{P}/verify/ZY2026-NOTREAL000").status_code == 404
    api = anonymous.get(f"/api/v1/p/volunteer/certificates/{serial}").get_json()
    assert api["valid"] and api["name"] == "陈**" and api["total_hours"] == 3


@sqlite_only
def test_exports_are_masked(client, login_as, staff, make_volunteer, make_activity):
    from openpyxl import load_workbook

    volunteer = make_volunteer(name="陈晓燕", mobile="13812345678")
    client.post(f"/api/v1/p/volunteer/activities/{make_activity()}/hours", json={"volunteer": volunteer, "hours": 2},
                headers=staff)
    login_as("shenli")
    for url, expected in [("/export/volunteers.xlsx", "陈**"), ("/export/hours.xlsx", "陈**")]:
        response = client.get(P + url)
        assert response.status_code == 200
        cells = [str(c) for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)
                 for c in row if c is not None]
        assert expected in cells
        assert not any("陈晓燕" in c or adult_id(1) in c or "13812345678" in c for c in cells)


@sqlite_only
def test_rankings_units_and_teams(client, login_as, staff, make_volunteer, make_activity):
    login_as("shenli")
    assert _post(client, f"{P}/units", {"name": "云澜县税务局", "org": COMMUNITY, "contact_mobile": "123"}).status_code == 422
    assert _post(client, f"{P}/units", {"name": "云澜县税务局", "org": COMMUNITY}).status_code == 302
    volunteer = make_volunteer(double_report=True, report_unit=1)
    assert _post(client, f"{P}/teams", {"name": "揽月先锋队", "org": COMMUNITY, "leader": str(volunteer)}).status_code == 302
    assert "揽月先锋队" in client.get(f"{P}/teams").get_data(as_text=True)
    client.post(f"/api/v1/p/volunteer/activities/{make_activity()}/hours", json={"volunteer": volunteer, "hours": 3},
                headers=staff)
    html = client.get(f"{P}/rankings").get_data(as_text=True)
    assert "揽月社区" in html and "云澜县税务局" in html and ">3<" in html


@sqlite_only
def test_micro_wish_from_posting_to_the_residents_confirmation(app, client, login_as, staff, make_volunteer, demo):
    made = submit_form(app.test_client(), "volunteer-wish",
                       {"wish": "家里水龙头漏水想请人修", "name": "王阿姨", "mobile": "13911112222"}, org=COMMUNITY)
    number, code = made["case_number"], made["tracking_code"]
    assert number.startswith("WX-")
    volunteer = make_volunteer(name="刘建国", double_report=True)
    login_as("shenli")
    html = client.get(f"{P}/wishes").get_data(as_text=True)
    assert number in html and "待认领" in html and "13911112222" not in html
    assert _post(client, f"{P}/wishes/{number}/claim", {"volunteer": str(volunteer)}, f"{P}/wishes").status_code == 302
    detail = client.get(f"/api/v1/cases/{number}", headers=staff).get_json()
    assert detail["state"] == "claimed" and detail["history"][-1]["action"] == "claim_wish"
    again = _post(client, f"{P}/wishes/{number}/claim", {"volunteer": str(volunteer)}, f"{P}/wishes")
    assert again.status_code == 302
    resident = app.test_client()
    early = resident.post(f"{P}/wishes/confirm", data={"number": number, "code": code,
                                                       "csrf_token": csrf_token(resident, f"{P}/wishes/confirm")})
    assert early.status_code == 422 and "无需确认" in early.get_data(as_text=True)
    response = client.post(f"/api/v1/cases/{number}/actions/fulfil",
                           json={"version": detail["version"], "comment": "已上门修好",
                                 "fields": {"reply": "志愿者已帮您修好水龙头"}}, headers=staff)
    assert response.status_code == 200, response.get_json()
    wrong = resident.post(f"{P}/wishes/confirm", data={"number": number, "code": "WRONG",
                                                       "csrf_token": csrf_token(resident, f"{P}/wishes/confirm")})
    assert wrong.status_code == 422 and "查询码不正确" in wrong.get_data(as_text=True)
    ok = resident.post(f"{P}/wishes/confirm", data={"number": number, "code": code,
                                                    "csrf_token": csrf_token(resident, f"{P}/wishes/confirm")})
    assert ok.status_code == 200 and "已圆满完成" in ok.get_data(as_text=True)
    final = client.get(f"/api/v1/cases/{number}", headers=staff).get_json()
    assert final["state"] == "confirmed" and [h["action"] for h in final["history"]][-3:] == [
        "claim_wish", "fulfil", "confirm"]


@sqlite_only
def test_a_volunteer_claims_a_wish_of_their_community_from_their_record(app, client, make_volunteer, demo):
    from fengqiao_volunteer.tokens import volunteer_token

    number = submit_form(app.test_client(), "volunteer-wish", {"wish": "想学用智能手机", "name": "李大爷",
                                                              "mobile": "13911113333"}, org=COMMUNITY)["case_number"]
    volunteer = make_volunteer()
    with app.test_request_context():
        me = f"{P}/me/{volunteer_token(volunteer)}"
    assert "想学用智能手机" in client.get(me).get_data(as_text=True)
    client.post(f"{me}/wishes/{number}/claim", data={"csrf_token": csrf_token(client, me)})
    assert "认领成功" in client.get(me).get_data(as_text=True)
    with app.app_context():
        from fengqiao.sdk.cases import case_info

        assert case_info(number)["state"] == "claimed"


@sqlite_only
def test_star_notice_ends_through_the_periodic_job(app, client, staff, make_volunteer, make_activity):
    from fengqiao_volunteer.hours import finalise_awards
    from fengqiao_volunteer.models import StarAward

    activity = make_activity(starts="2024-01-01T00:00", ends="2025-12-31T23:00")
    volunteer = make_volunteer()
    from datetime import date

    for i in range(13):
        client.post(f"/api/v1/p/volunteer/activities/{activity}/hours", headers=staff, json={
            "volunteer": volunteer, "hours": 8, "served_on": (date(2024, 1, 1) + timedelta(days=i)).isoformat()})
    award = client.get(f"/api/v1/p/volunteer/volunteers/{volunteer}", headers=staff).get_json()["star_award"]
    assert award["status"] == "notice" and award["stars"] == 1
    notice = app.test_client().get(f"{P}/stars").get_data(as_text=True)  # public 公示, names masked
    assert "志愿**" in notice or "志**" in notice
    assert "揽月社区" in notice and "1 星" in notice
    with app.app_context():
        assert finalise_awards() == 0  # the notice period has not ended
        db.execute(sa.update(StarAward).values(notice_ends=date(2020, 1, 1)))
        db.commit()
        assert finalise_awards() == 1 and finalise_awards() == 0  # idempotent
        assert "volunteer.finalise_stars" in app.extensions["fengqiao.periodic"]
    award = client.get(f"/api/v1/p/volunteer/volunteers/{volunteer}", headers=staff).get_json()["star_award"]
    assert award["status"] == "final"


@sqlite_only
def test_switched_off_it_hides_pages_and_sends_nothing(app, client, login_as, staff, make_volunteer, make_activity):
    from fengqiao.sdk.events import plugin_signal

    received = []
    plugin_signal("volunteer.hours_confirmed").connect(lambda s, **kw: received.append(kw), sender=app, weak=False)
    volunteer, activity = make_volunteer(), make_activity()
    login_as("admin")
    client.post("/admin/plugins/volunteer/switch", data={"enabled": "0", "csrf_token": csrf_token(client, "/admin/plugins")})
    assert client.get(f"{P}/").status_code == 404
    response = client.post(f"/api/v1/p/volunteer/activities/{activity}/hours", json={"volunteer": volunteer, "hours": 1},
                           headers=staff)
    assert response.status_code == 404 and received == []


@sqlite_only
def test_demo_data_and_cli(app, demo):
    from click.testing import CliRunner

    from fengqiao_volunteer.cli import volunteer

    url = app.extensions["fengqiao.db"].engine.url.render_as_string(hide_password=False)
    env = {"FENGQIAO_MODE": "testing", "FENGQIAO_DATABASE_URL": url, "FENGQIAO_INSTANCE_PATH": app.instance_path,
           "FENGQIAO_PLUGINS": "volunteer"}
    result = CliRunner().invoke(volunteer, ["seed-demo"], env=env)
    assert result.exit_code == 0, result.output
    with app.app_context():
        from fengqiao_volunteer.demo import load
        from fengqiao_volunteer.models import HoursEntry, Volunteer

        load()  # idempotent: a second run adds nothing
        assert db.scalar(sa.select(sa.func.count()).select_from(Volunteer)) == 3
        assert db.scalar(sa.select(sa.func.count()).select_from(HoursEntry)) == 2
