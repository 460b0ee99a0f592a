"""The services sdk 1.2 gives plugins: system transitions, submissions, working days, org
lookups, certificate PDFs with an embedded CJK font, QR codes, plugin signals, periodic jobs."""

from __future__ import annotations

import io
import threading
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from fengqiao import sdk
from fengqiao.db import db
from fengqiao.models import CaseEvent

INCIDENT = {"summary": "揽月花园路灯不亮", "category": "市容环境", "description": "3幢前路灯坏了两晚。",
            "location": {"address": "揽月花园3幢"}}


def test_a_system_transition_is_recorded_without_an_actor_and_announced(app, demo):
    seen = []
    with app.app_context():
        number = sdk.submit_form("grid-incident", INCIDENT, org="339901001001001", actor="zhangmin")["case_number"]
        sdk.case_transitioned.connect(lambda sender, **kw: seen.append(kw), sender=app, weak=False)
        info = sdk.perform_action(number, "reject", comment="重复上报，系统自动不予受理")
        assert info["state"] == "rejected" and info["closed_at"] is not None
        assert seen == []  # announced once committed: the caller (request, job, command) commits
        db.commit()
        last = db.scalars(sa.select(CaseEvent).where(CaseEvent.action == "reject")).one()
        assert last.actor_id is None and last.comment == "重复上报，系统自动不予受理"
        assert seen[-1]["actor"] is None and seen[-1]["to_state"] == "rejected"
        with pytest.raises(sdk.APIError) as err:  # a closed case takes no further transition
            sdk.perform_action(number, "accept")
        assert err.value.status == 409


def test_an_action_as_a_person_uses_their_scope(app, demo):
    with app.app_context():
        number = sdk.submit_form("grid-incident", INCIDENT, org="339901001001001", actor="zhangmin")["case_number"]
        with pytest.raises(sdk.APIError) as err:  # 桥东 staff cannot see a 揽月 case
            sdk.perform_action(number, "claim", actor="hanzhiming")
        assert err.value.status == 404
        assert sdk.perform_action(number, "claim", actor="shenli")["assignee"] == "shenli"


def test_a_system_transition_can_restart_the_clock_in_working_days(app, demo):
    with app.app_context():
        number = sdk.submit_form("grid-incident", INCIDENT, org="339901001001001", actor="zhangmin")["case_number"]
        info = sdk.perform_action(number, "accept", deadline_days=5)
        created = info["created_at"]
        assert info["deadline"] == sdk.add_working_days(created, 5, org="339901001001")
        assert sdk.working_days_between(created, info["deadline"]) == 5


def test_working_days_follow_the_official_calendar(app, demo):
    with app.app_context():
        assert not sdk.is_working_day(date(2026, 10, 1))  # 国庆
        assert sdk.is_working_day(date(2026, 10, 10))  # a Saturday made a working day (调休)
        end = sdk.add_working_days(datetime(2026, 9, 30, 9, 0), 1)
        assert end.astimezone(sdk.LOCAL_TZ).date() == date(2026, 10, 8)  # 10-01…07 off


def test_org_lookups(app, demo):
    with app.app_context():
        grid = sdk.org_unit("339901001001001")
        assert grid.level == "grid" and grid.parent == "339901001001"
        assert [u.code for u in sdk.org_ancestors(grid.code)] == [
            "339901", "339901001", "339901001001", "339901001001001"]
        # A level is not a kind: 揽月社区's property company is a department at community level.
        at_community_level = sdk.org_units(level="community", under="339901001")
        assert [u.name for u in at_community_level] == ["揽月社区", "揽月花园物业服务中心", "桥东社区"]
        communities = sdk.org_units(level="community", under="339901001", kind="territorial")
        assert [u.name for u in communities] == ["揽月社区", "桥东社区"]
        assert sdk.org_unit("nope") is None and sdk.org_ancestors("nope") == []


def test_a_certificate_pdf_embeds_a_chinese_font_and_a_qr_code(app):
    from fengqiao.documents import cjk_font

    try:
        font = cjk_font()
    except sdk.FontMissing as err:
        pytest.skip(str(err))
    cert = sdk.Certificate(title="居住证明", serial="ZM-2026-000001", issuer="揽月社区居民委员会",
                           issued_on=date(2026, 11, 27), verify_url="http://127.0.0.1/p/certificates/verify/ZM-2026-000001",
                           rows=[("姓名", "王*"), ("事项", "居住情况")], table=[["时段", "时长"], ["2026年", "12 小时"]])
    pdf = sdk.certificate_pdf(cert)
    assert pdf.startswith(b"%PDF") and font
    assert b"/FontFile" in pdf  # the font program is inside the file, not merely named
    from PIL import Image

    image = Image.open(io.BytesIO(sdk.qr_png(cert.verify_url)))
    assert image.size[0] == image.size[1] > 100
    assert sdk.qr_data_uri("x").startswith("data:image/png;base64,")


def test_plugin_signals_are_shared_by_name(app):
    received = []
    signal = sdk.plugin_signal("volunteer.test_event")
    assert sdk.plugin_signal("volunteer.test_event") is signal
    signal.connect(lambda sender, **kw: received.append(kw), sender=app, weak=False)
    with app.app_context():
        sdk.send_signal(signal, hours=2.5)
    assert received == [{"hours": 2.5}]


def test_external_url_outside_a_request_uses_the_public_url(app, monkeypatch):
    monkeypatch.setenv("FENGQIAO_PUBLIC_URL", "https://fq.example.cn")
    with app.app_context():
        assert sdk.external_url("web.track") == "https://fq.example.cn/track"
    with app.test_request_context(base_url="http://127.0.0.1:8000"):
        assert sdk.external_url("web.track") == "http://127.0.0.1:8000/track"


def test_write_lock_serialises_read_then_write_on_sqlite(app):
    """Two threads read a counter and write it back +1, 20 times each: with the lock no
    increment is lost (without it SQLite would answer 'database is locked' or lose one)."""
    from fengqiao.models import PluginState

    with app.app_context():
        db.add(PluginState(name="counter", settings={"n": 0}))
        db.commit()

    def bump():
        with app.app_context():
            for _ in range(20):
                sdk.write_lock()
                row = db.scalar(sa.select(PluginState.settings).where(PluginState.name == "counter")
                                .with_for_update())
                db.execute(sa.update(PluginState).where(PluginState.name == "counter")
                           .values(settings={"n": row["n"] + 1}))
                db.commit()

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        assert db.scalar(sa.select(PluginState.settings).where(PluginState.name == "counter"))["n"] == 40


def test_tracking_codes_are_checked(app, demo):
    with app.app_context():
        made = sdk.submit_form("grid-incident", INCIDENT, org="339901001001001", actor="zhangmin")
        assert sdk.tracking_matches(made["case_number"], made["tracking_code"])
        assert sdk.tracking_matches(made["case_number"], made["tracking_code"].lower())
        assert not sdk.tracking_matches(made["case_number"], "WRONG")
        assert not sdk.tracking_matches("NOPE", made["tracking_code"])


def test_rate_limited_counts_anonymous_writes_only(app, bearer, demo):
    @sdk.public
    @sdk.rate_limited("public_submit")
    def objection():
        return "ok"

    app.add_url_rule("/p/test/object", "test_object", objection, methods=["GET", "POST"])
    app.config["WTF_CSRF_ENABLED"] = False  # this test is about counting, not CSRF
    client = app.test_client()
    statuses = [client.post("/p/test/object").status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429  # 10/minute per address
    assert client.get("/p/test/object").status_code == 200  # reading is not counted
    assert app.test_client().post("/p/test/object", headers=bearer("shenli")).status_code == 200  # staff pass
    with pytest.raises(ValueError):
        sdk.rate_limited("no_such_bucket")


def test_safe_image_reencodes_and_refuses_fakes():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (3, 3), (1, 2, 3)).save(out, format="PNG")
    clean, kind = sdk.safe_image(out.getvalue() + b"<script>alert(1)</script>")
    assert kind == "image/png" and b"<script>" not in clean
    assert sdk.safe_image(b"\x89PNG\r\n\x1a\n<html>") is None and sdk.safe_image(b"GIF89a") is None
