"""Issue 18 §4: 吹哨报到 check-in limits by category, 网格事件 待受理 and 自行处置 photos, and
the 即时答复 shown to the resident on /track before they rate."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from case_helpers import act, case_json, last_event

from fengqiao.cases import engine
from fengqiao.db import LOCAL_TZ, db
from fengqiao.models import Attachment, Case, CaseParticipant, Submission
from fengqiao.testing.plugin import png_bytes, submit_form, upload_photo, walk_case

ENFORCEMENT, HOUSING = "339901902", "339901903"
RAISE = {"summary": "湖滨路沿街商铺违规外摆", "address": "湖滨路88号", "category": "enforcement",
         "description": "沿街商铺长期占道经营，社区劝导无效，需要执法、市场监管联合处置。"}
FRIDAY_5PM = datetime(2026, 11, 20, 17, 0, tzinfo=LOCAL_TZ)  # a normal week: Mon 23 Nov works
INCIDENT = {"summary": "揽月花园3幢楼道堆物", "category": "安全隐患", "description": "楼道堆放纸箱。",
            "location": {"address": "揽月花园3幢2单元"}}


def _summon(app, client, bearer, category, monkeypatch, at=FRIDAY_5PM):
    """Raise a whistle of ``category`` (community), approve it at ``at`` (the street's leader)."""
    number = submit_form(client, "whistle-request", {**RAISE, "category": category},
                         headers=bearer("shenli"))["case_number"]
    monkeypatch.setattr(engine, "utcnow", lambda: at)
    approved = act(client, bearer("zhoujian"), number, "approve", fields={"units": [ENFORCEMENT, HOUSING]})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    with app.app_context():
        case_id = db.scalar(sa.select(Case.id).where(Case.number == number))
        dues = set(db.scalars(sa.select(CaseParticipant.checkin_due).where(CaseParticipant.case_id == case_id)))
    assert len(dues) == 1
    return number, dues.pop()


def test_emergency_check_in_is_thirty_natural_minutes(app, client, bearer, monkeypatch):
    number, due = _summon(app, client, bearer, "emergency", monkeypatch)
    assert due == FRIDAY_5PM + timedelta(minutes=30)  # after office hours: minutes are minutes
    summon = last_event(app, number)
    assert summon.action == "approve" and summon.changes["checkin_limit"] == {"minutes": 30}


def test_enforcement_check_in_is_two_working_hours(app, client, bearer, monkeypatch):
    number, due = _summon(app, client, bearer, "enforcement", monkeypatch)
    # Friday 17:00–17:30 is half an hour; the other 1.5 h run from Monday 08:30
    assert due.astimezone(LOCAL_TZ) == datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TZ)
    assert last_event(app, number).changes["checkin_limit"] == {"working_hours": 2}


def test_livelihood_check_in_counts_office_hours_only(app, client, bearer, monkeypatch):
    wednesday_11 = datetime(2026, 11, 18, 11, 0, tzinfo=LOCAL_TZ)
    _number, due = _summon(app, client, bearer, "livelihood", monkeypatch, at=wednesday_11)
    assert due.astimezone(LOCAL_TZ) == datetime(2026, 11, 18, 15, 0, tzinfo=LOCAL_TZ)  # lunch excluded


def test_whistle_needs_a_category(client, bearer):
    body = {k: v for k, v in RAISE.items() if k != "category"}
    response = client.post("/api/v1/forms/whistle-request/submissions", json=body, headers=bearer("shenli"))
    assert response.status_code == 422
    assert any(e["pointer"] == "/category" for e in response.get_json()["errors"])


def test_old_checkin_minutes_key_still_works(app):
    from fengqiao.cases import checkin
    from fengqiao.cases.workflow import check_case_type, parse_case_type

    old = {"key": "old_whistle", "title": "旧吹哨", "prefix": "OW", "checkin_minutes": 45,
           "workflow": {"initial": "a", "states": [{"key": "a", "title": "甲", "final": True}], "transitions": []}}
    assert check_case_type(old) == []
    assert checkin.limit_for(parse_case_type(old), {"category": "emergency"}) == {"minutes": 45}
    bad = {**old, "checkin": {"default": {"weeks": 1}}}
    assert check_case_type(bad)


# ---- 网格事件 ---------------------------------------------------------------------------


@pytest.fixture
def incident(client, bearer):
    return submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))


def test_a_report_waits_for_the_centre_to_accept_it(client, bearer, incident):
    number, code = incident["case_number"], incident["tracking_code"]
    grid = bearer("zhangmin")
    case = case_json(client, grid, number)
    assert case["state"] == "reported"
    assert "accept" not in case["allowed_actions"]
    assert act(client, grid, number, "accept").status_code == 403  # 受理 is the centre's act
    view = client.get(f"/api/v1/track/{number}?code={code}").get_json()
    assert view["state_title"] == "待受理" and view["timeline"][0]["label"] == "待受理"
    assert act(client, bearer("shenli"), number, "accept").status_code == 200


def _attach_report_photo(app, number):
    """The report's own photo, as the fill page stores it (linked to the submission)."""
    with app.app_context():
        submission = db.scalar(sa.select(Submission.id).join(Case, Submission.case_id == Case.id)
                               .where(Case.number == number))
        db.add(Attachment(id="att_reportphoto0000000000", filename="现场.png", content_type="image/png", size=10,
                          sha256="0" * 64, storage_key="re/att_reportphoto0000000000", submission_id=submission))
        db.commit()


def test_self_handling_needs_an_after_photo_taken_at_that_step(app, client, bearer, incident):
    number = incident["case_number"]
    grid = bearer("zhangmin")
    no_photos = act(client, grid, number, "self_handle", comment="已清理")
    assert no_photos.status_code == 422
    assert no_photos.get_json()["errors"][0]["message"] == "上报时未附现场照片，请补充处置前照片"
    _attach_report_photo(app, number)  # the report's photo is the "before"
    no_after = act(client, grid, number, "self_handle", comment="已清理")
    assert no_after.status_code == 422 and no_after.get_json()["errors"][0]["pointer"] == "/fields/after_photos"
    # an id that is not a fresh upload of this user (here: the report's photo) does not count
    reused = act(client, grid, number, "self_handle", comment="已清理",
                 fields={"after_photos": ["att_reportphoto0000000000"]})
    assert reused.status_code == 422 and "照片无效" in reused.get_json()["errors"][0]["message"]
    photo = upload_photo(client, number, grid, "after.png")
    someone_else = act(client, bearer("shenli"), number, "self_handle", comment="已清理",
                       fields={"after_photos": [photo]})
    assert someone_else.status_code == 422  # uploaded by 张敏, not by 沈丽
    # one photo cannot be both the before and the after (black-box finding)
    twice = act(client, grid, number, "self_handle", comment="已清理",
                fields={"before_photos": [photo], "after_photos": [photo]})
    assert twice.status_code == 422 and "不能重复使用" in twice.get_json()["errors"][0]["message"]
    done = act(client, grid, number, "self_handle", comment="已清理", fields={"after_photos": [photo]})
    assert done.status_code == 200 and done.get_json()["state"] == "closed"
    event = last_event(app, number)
    assert event.action == "self_handle" and event.changes["after_photos"] == [photo]
    with app.app_context():
        linked = db.scalar(sa.select(Submission.case_id).join(Attachment, Attachment.submission_id == Submission.id)
                           .where(Attachment.id == photo))
        assert linked == db.scalar(sa.select(Case.id).where(Case.number == number))


def test_photo_upload_refuses_non_images_and_idle_cases(client, bearer, incident):
    number = incident["case_number"]
    grid = bearer("zhangmin")
    fake = client.post(f"/api/v1/cases/{number}/photos", headers=grid, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"%PDF-1.4 not a photo"), "x.pdf")})
    assert fake.status_code == 422 and "类型不支持" in fake.get_json()["errors"][0]["message"]
    missing = client.post(f"/api/v1/cases/{number}/photos", headers=grid, content_type="multipart/form-data", data={})
    assert missing.status_code == 422
    dept = client.post(f"/api/v1/cases/{number}/photos", headers=bearer("zhifa"), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(png_bytes()), "a.png")})
    assert dept.status_code == 404  # not their case


def test_self_handling_on_the_case_page_with_files(app, client, login_as, incident):
    number = incident["case_number"]
    _attach_report_photo(app, number)
    page = login_as("zhangmin")
    html = page.get(f"/cases/{number}").get_data(as_text=True)
    assert 'name="field_after_photos" type="file"' in html and 'enctype="multipart/form-data"' in html
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    response = page.post(f"/cases/{number}", content_type="multipart/form-data", data={
        "csrf_token": token, "version": version, "action": "self_handle", "comment": "已清理",
        "field_after_photos": (io.BytesIO(png_bytes((10, 200, 10))), "处置后.png")})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        assert case.state == "closed"
        names = set(db.scalars(sa.select(Attachment.filename).join(Submission, Attachment.submission_id == Submission.id)
                               .where(Submission.case_id == case.id)))
    assert names == {"现场.png", "处置后.png"}


# ---- /track: the 即时答复 -----------------------------------------------------------------


def test_the_instant_answer_is_shown_on_track_before_rating(client, bearer):
    request = {"request_type": "consult", "summary": "灵活就业人员如何参加居民医保",
               "content": "想咨询灵活就业人员参加居民医保的办理流程。", "caller_name": "王芳",
               "caller_mobile": "13900139000"}
    receipt = submit_form(client, "livelihood-request", request, org="339901001001")
    number, code = receipt["case_number"], receipt["tracking_code"]
    answer = "请携带身份证到街道便民服务中心社保窗口办理，咨询电话13900139000"
    walk_case(client, number, [("answer", {"comment": answer})], bearer("shenli"))
    view = client.get(f"/api/v1/track/{number}?code={code}").get_json()
    assert view["closed"] and view["can_rate"]
    assert [r["text"] for r in view["replies"]] == ["请携带身份证到街道便民服务中心社保窗口办理，咨询电话139****9000"]
    html = client.get(f"/track?number={number}&code={code}").get_data(as_text=True)
    shown = html.index("请携带身份证到街道便民服务中心社保窗口办理")
    assert shown < html.index("提交评价") and "13900139000" not in html
