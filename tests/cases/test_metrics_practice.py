"""Metrics as leaders compute them (issue 18 §5; docs/domain.md, "Metrics"): the first clock
for 按期办结率, paused time out of 平均办理时长, 响应率 and the practice rates, and exports
of one case type carrying its form fields.

Most cases here are hand-built rows (the case row plus the history rows each figure reads),
so every expected number can be counted by hand; incidents reported by a grid worker are
submitted through the API, because 自行处置率 reads who submitted them.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from itertools import count

import openpyxl
import pytest
import sqlalchemy as sa

from fengqiao.db import LOCAL_TZ, db
from fengqiao.models import Case, CaseEvent, CaseParticipant, OrgUnit
from fengqiao.testing.plugin import submit_form

MARCH = "from=2026-03-01&to=2026-04-01"
LANYUE, QIAODONG, STREET, ZHUJIAN = "339901001001", "339901001002", "339901001", "339901903"
INCIDENT = {"summary": "楼道堆物", "description": "楼道堆放纸箱。", "location": {"address": "揽月花园3幢"},
            "category": "安全隐患"}
_serial = count(1)


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


def _unit(code: str) -> int:
    return db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))


def make_case(app, *, type_: str = "livelihood_request", state: str = "received", org: str = LANYUE,
              created: datetime, events: list[tuple] = (), handler: str | None = None,
              escalated_to: str | None = None, category: str | None = None, **values) -> str:
    """A case row (received ``created``) with history rows ``(action, at, changes)``."""
    number = f"ZZ-20260301-{next(_serial):06d}"
    data = {"request_type": category} if category else {}
    with app.app_context():
        case = Case(number=number, tracking_code=f"T{number[-6:]}", type=type_, title="测试事项", state=state,
                    org_id=_unit(org), data=data, created_at=created,
                    escalated_to_id=_unit(escalated_to) if escalated_to else None, **values)
        db.add(case)
        db.flush()
        for action, when, *changes in events:
            db.add(CaseEvent(case_id=case.id, at=when, action=action, changes=changes[0] if changes else {}))
        if handler:
            db.add(CaseParticipant(case_id=case.id, org_id=_unit(handler), role="handler", added_at=created))
        db.commit()
    return number


def update(app, number: str, events: list[tuple] = (), **values) -> None:
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        for name, value in values.items():
            setattr(case, name, value)
        for action, when, *changes in events:
            db.add(CaseEvent(case_id=case.id, at=when, action=action, changes=changes[0] if changes else {}))
        db.commit()


def metrics(client, headers, query: str = MARCH) -> dict:
    response = client.get(f"/api/v1/metrics?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ---- 按期办结率 counts the first clock ----------------------------------------------------


def test_a_reopened_late_case_stays_late(app, client, bearer):
    # first closed on 9 March, four days after its deadline; reopened, the rework got a new
    # deadline of 20 March and it closed again on 18 March: still late
    make_case(app, state="closed", created=at(3, 2), due_at=at(3, 5, 17, 30), deadline=at(3, 20, 17, 30),
              first_closed_at=at(3, 9), closed_at=at(3, 18), reopen_count=1)
    # closed on time the first time, reopened and now open again past the rework's deadline
    make_case(app, state="handling", created=at(3, 2), due_at=at(3, 6, 17, 30), deadline=at(3, 12, 17, 30),
              first_closed_at=at(3, 5), closed_at=None, reopen_count=1)
    # a row from before the first clock existed: its deadline and closure count
    make_case(app, state="closed", created=at(3, 2), deadline=at(3, 6, 17, 30), closed_at=at(3, 4))
    m = metrics(client, bearer("ducha"))
    assert (m["due"], m["closed_on_time"], m["on_time_rate"]) == (3, 2, 0.6667)
    assert "首次办结" in m["basis"]["due"]


def test_a_dispute_is_timed_to_its_agreement(app, client, bearer):
    # the clock stopped at the agreement on 5 March (met); 回访 and 结案 came after the deadline
    make_case(app, type_="dispute_mediation", state="closed", created=at(3, 2), due_at=at(3, 6, 17, 30),
              deadline=at(3, 6, 17, 30), sla_status="met", first_closed_at=at(3, 20), closed_at=at(3, 20),
              events=[("agree", at(3, 5), {"sla_stopped": "met"})])
    # agreed in time and waiting for 司法确认: counted on time, and not overdue now
    make_case(app, type_="dispute_mediation", state="confirming", created=at(3, 2), due_at=at(3, 9, 17, 30),
              deadline=at(3, 9, 17, 30), sla_status="met", events=[("agree", at(3, 4), {"sla_stopped": "met"})])
    # still mediating past its deadline: late, and overdue now
    late = make_case(app, type_="dispute_mediation", state="mediating", created=at(3, 2), due_at=at(3, 9, 17, 30),
                     deadline=at(3, 9, 17, 30), sla_status="overdue")
    m = metrics(client, bearer("ducha"))
    assert (m["due"], m["closed_on_time"]) == (3, 2)
    assert [c["number"] for c in m["overdue"]["items"]] == [late]


def test_the_overdue_ledger_lists_the_reopened_late_case(app, client, bearer):
    from fengqiao.cases import ledgers
    from fengqiao.cases import metrics as service
    from fengqiao.models import User
    from fengqiao.orgs.scope import scope_for

    late = make_case(app, state="closed", created=at(3, 2), due_at=at(3, 5, 17, 30), deadline=at(3, 20, 17, 30),
                     first_closed_at=at(3, 9), closed_at=at(3, 18), reopen_count=1)
    make_case(app, state="closed", created=at(3, 2), due_at=at(3, 6, 17, 30), deadline=at(3, 6, 17, 30),
              first_closed_at=at(3, 5), closed_at=at(3, 5))
    make_case(app, type_="dispute_mediation", state="closed", created=at(3, 2), due_at=at(3, 6, 17, 30),
              deadline=at(3, 6, 17, 30), sla_status="met", first_closed_at=at(3, 20), closed_at=at(3, 20),
              events=[("agree", at(3, 5), {"sla_stopped": "met"})])  # timed to its agreement
    with app.test_request_context():
        user = db.scalar(sa.select(User).where(User.username == "ducha"))
        scope = scope_for(user, "metrics.view")
        filters = service.resolve_filters(scope, start="2026-03-01", end="2026-04-01")
        rows = db.scalars(ledgers.ledger_query("overdue", scope, filters, at(4, 1))).unique().all()
        assert [c.number for c in rows] == [late]


# ---- 平均办理时长 leaves paused time out ---------------------------------------------------


def test_paused_time_is_not_handling_time(app, client, bearer):
    # received Monday 2 March, closed Friday 13 March: 9 working days, 7 natural days of them
    # parked (挂账) → 4 working days of handling
    make_case(app, state="closed", created=at(3, 2), closed_at=at(3, 13, 16), deadline=at(3, 20),
              paused_seconds=7 * 86400 + 3600)
    # received and closed within a day, never paused: 1 working day
    make_case(app, state="closed", created=at(3, 16), closed_at=at(3, 17, 10), deadline=at(3, 20))
    m = metrics(client, bearer("ducha"))
    assert m["handling_days"] == {"closed": 2, "mean": 2.5, "median": 1, "p90": 4}
    assert "暂停" in m["basis"]["cohort"]


# ---- 响应率 and the practice rates ------------------------------------------------------


@pytest.fixture
def practice(app, client, bearer):
    """March 2026 at 云澜县; each line says what the case counts towards."""
    zhangmin = bearer("zhangmin")
    n = {}

    def incident():
        return submit_form(client, "grid-incident", INCIDENT, headers=zhangmin)["case_number"]

    def new(key, **kw):
        n[key] = make_case(app, **kw)

    # dispatched, 签收 in time: responded; later 审核退回重办 and closed by 住建局 (not local)
    new("D1", state="closed", created=at(3, 2), handler=ZHUJIAN, responded_at=at(3, 2, 10),
        closed_at=at(3, 10), first_closed_at=at(3, 10),
        events=[("dispatch", at(3, 2, 9, 30)), ("acknowledge", at(3, 2, 10)), ("redo", at(3, 6)),
                ("follow_up", at(3, 20), {"reached": True, "solved": "solved", "satisfied": "satisfied"})])
    # dispatched, signed in time, still being handled
    new("R1", state="handling", created=at(3, 3), responded_at=at(3, 3, 10),
        events=[("dispatch", at(3, 3, 9, 30)), ("acknowledge", at(3, 3, 10)),
                ("follow_up", at(3, 21), {"reached": False})])
    # dispatched, 签收 after its step limit: not responded
    new("R2", state="handling", created=at(3, 4), responded_at=at(3, 4, 15),
        events=[("dispatch", at(3, 4, 9, 30)), ("acknowledge", at(3, 4, 15), {"step_late": True})])
    # dispatched, sent back (退单), never signed: not responded
    new("R3", state="received", created=at(3, 5),
        events=[("dispatch", at(3, 5, 9, 30)), ("send_back", at(3, 5, 14))])
    # 即时答复: closed on the spot, responded although never dispatched; local
    new("R4", state="closed", created=at(3, 6), closed_at=at(3, 6, 10), first_closed_at=at(3, 6, 10),
        events=[("answer", at(3, 6, 10))])
    # received, waiting: in no rate but 重复投诉率's denominator
    new("R5", state="received", created=at(3, 9))
    # closed by the community, but after 上报 to the street: not local; reopened once
    new("E1", state="closed", created=at(3, 9), closed_at=at(3, 16), first_closed_at=at(3, 12),
        escalated_to=STREET, reopen_count=1,
        events=[("follow_up", at(3, 25), {"reached": True, "solved": "partly"})])
    # withdrawn (void): dispatched and sent back, in no figure
    new("V", state="withdrawn", created=at(3, 10), closed_at=at(3, 10, 12),
        events=[("dispatch", at(3, 10, 9)), ("send_back", at(3, 10, 10))])
    # the same caller (tail 8000) about the same complaint: P2 repeats P1 (closed 8 days
    # before); P3 is about something else; P4 comes 33 days after P1's closure
    new("P1", state="closed", created=at(2, 15), closed_at=at(2, 20), first_closed_at=at(2, 20),
        phone_tail="8000", category="complaint")
    new("P2", created=at(3, 1, 10), phone_tail="8000", category="complaint")
    new("P3", created=at(3, 11), phone_tail="8000", category="help")
    new("P4", created=at(3, 25), phone_tail="8000", category="complaint")
    # the same tail and complaint in another community: not a repeat of P1
    new("Q1", created=at(3, 2), org=QIAODONG, phone_tail="8000", category="complaint")
    # disputes: agreed and failed in March (M2 ends closed, locally); M3 agreed in February
    new("M1", type_="dispute_mediation", state="agreed", created=at(3, 3), events=[("agree", at(3, 5))])
    new("M2", type_="dispute_mediation", state="failed", created=at(3, 3), closed_at=at(3, 6),
        first_closed_at=at(3, 6), events=[("fail", at(3, 6))])
    new("M3", type_="dispute_mediation", state="agreed", created=at(2, 20), events=[("agree", at(2, 25))])
    # grid worker's reports: G1 handled on the spot (自行处置, local), G2 still open
    n["G1"], n["G2"] = incident(), incident()
    update(app, n["G1"], state="closed", created_at=at(3, 12), closed_at=at(3, 12, 11), first_closed_at=at(3, 12, 11),
           phone_tail="", events=[("self_handle", at(3, 12, 11))])
    update(app, n["G2"], created_at=at(3, 12), phone_tail="")
    return n


def test_practice_rates(client, bearer, practice):
    m = metrics(client, bearer("ducha"))
    assert m["received"] == 15  # D1 R1–R5 E1 P2–P4 Q1 M1 M2 G1 G2
    rates = {key: (r["part"], r["whole"], r["rate"]) for key, r in m["rates"].items()}
    assert rates == {
        # (D1 R1 signed in time + R4 G1 on the spot) ÷ (D1 R1 R2 R3 dispatched + R4 G1)
        "response": (4, 6, 0.6667),
        "self_handling": (1, 2, 0.5),  # G1 ÷ G1 G2
        "local_resolution": (3, 5, 0.6),  # R4 M2 G1 ÷ D1 R4 E1 M2 G1
        "send_back": (1, 4, 0.25),  # R3 ÷ D1 R1 R2 R3
        "redo": (2, 5, 0.4),  # D1 E1 ÷ D1 R4 E1 M2 G1
        "repeat": (1, 15, 0.0667),  # P2
        "mediation": (1, 2, 0.5),  # M1 ÷ M1 M2
        "resolution": (1, 2, 0.5),  # D1 ÷ D1 E1 (R1's caller was not reached)
    }
    response = m["rates"]["response"]
    assert (response["dispatched"], response["acknowledged"], response["on_the_spot"]) == (4, 2, 2)
    assert (m["responded"], m["response_rate"]) == (4, 0.6667)
    assert m["rates"]["response"]["label"] == "响应率"
    for key in m["rates"]:
        assert m["basis"][key].startswith(m["rates"][key]["label"])


def test_rates_follow_the_filters(client, bearer, practice):
    disputes = metrics(client, bearer("ducha"), MARCH + "&type=dispute_mediation")
    assert disputes["rates"]["mediation"]["part"] == 1 and disputes["rates"]["response"]["whole"] == 0
    assert disputes["rates"]["response"]["rate"] is None
    qiaodong = metrics(client, bearer("hanzhiming"))  # 桥东社区 sees only Q1
    assert qiaodong["received"] == 1 and qiaodong["rates"]["repeat"]["part"] == 0
    february = metrics(client, bearer("ducha"), "from=2026-02-01&to=2026-03-01")
    assert february["rates"]["mediation"]["part"] == 1  # M3's agreement



def test_the_dashboard_and_the_metrics_export_state_each_basis(client, login_as, practice):
    from fengqiao.cases.metrics import BASIS, RATES

    login_as("ducha")
    html = client.get("/metrics?preset=custom&start=2026-03-01&end=2026-03-31").get_data(as_text=True)
    for key, (label, part_label, _whole) in RATES.items():
        assert f'data-kpi="{key if key != "response" else "response_rate"}"' in html and label in html
        assert part_label in html
        assert BASIS[key].split("：")[1][:12] in html  # the basis, as tooltip and footnote
    assert "66.7%" in html and "按时签收或当场办结 4 ÷ 派单或当场办结 6" in html
    assert "/metrics/export.xlsx?" in html
    response = client.get("/metrics/export.xlsx?preset=custom&start=2026-03-01&end=2026-03-31")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert "统计指标" in rows[0][0] and "2026-03-01 至 2026-03-31" in rows[0][0]
    assert list(rows[1]) == ["指标", "数值", "分子", "分母", "口径"]
    by_name = {r[0]: r[1:] for r in rows[2:]}
    assert by_name["响应率"][:3] == (0.6667, 4, 6) and by_name["响应率"][3].startswith("响应率：")
    assert by_name["调解成功率"][:3] == (0.5, 1, 2) and "达成协议" in by_name["调解成功率"][3]
    assert by_name["按期办结率"][3].startswith("按期办结率：")
    bad = client.get("/metrics/export.xlsx?preset=custom&start=2026-02-30&end=2026-03-31")
    assert bad.status_code == 422 and "开始日期格式应为" in bad.get_data(as_text=True)


# ---- exports of one case type carry its form fields ---------------------------------------

REQUEST = {"request_type": "help", "summary": "楼道灯坏了", "content": "三楼楼道灯不亮。", "caller_name": "陈德福",
           "caller_mobile": "13800138000", "id_card": "339901195203140111"}


def _sheet(data: bytes) -> tuple[list, list[dict]]:
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    headers = list(rows[1])
    return headers, [dict(zip(headers, r, strict=True)) for r in rows[2:]]


def test_an_export_of_one_type_carries_its_form_fields_masked(client, bearer):
    shenli = bearer("shenli")  # 揽月社区: handles, does not accept, 举报/投诉 callers
    helped = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    reported = submit_form(client, "livelihood-request", {**REQUEST, "request_type": "complaint",
                                                          "caller_mobile": "13900139000"}, org=LANYUE)["case_number"]
    incident = submit_form(client, "grid-incident", {**INCIDENT, "reporter_name": "欧阳明",
                                                     "reporter_mobile": "13700137000"}, headers=bearer("zhangmin"))["case_number"]

    response = client.get("/api/v1/cases/export.xlsx?type=livelihood_request", headers=shenli)
    assert response.status_code == 200, response.get_data(as_text=True)
    headers, rows = _sheet(response.data)
    assert headers[:9] == ["事项编号", "标题", "类型", "状态", "所属单位", "办理人", "办理期限", "提交时间", "满意度"]
    assert {"诉求类型", "诉求标题", "诉求内容", "姓名", "联系电话", "身份证号"} <= set(headers[9:])
    by_number = {r["事项编号"]: r for r in rows}
    assert set(by_number) == {helped, reported}
    row = by_number[helped]
    assert (row["诉求类型"], row["诉求内容"]) == ("求助", "三楼楼道灯不亮。")  # choice titles, not codes
    assert (row["姓名"], row["联系电话"], row["身份证号"]) == ("陈**", "138****8000", "339901********0111")
    # a complaint's caller is hidden from the handling community, in the export too
    assert by_number[reported]["姓名"] == by_number[reported]["联系电话"] == "******"
    flat = " ".join(str(v) for r in rows for v in r.values())
    assert "13800138000" not in flat and "13900139000" not in flat and "339901195203140111" not in flat

    # the county (the accepting level) sees the complaint's caller, masked as usual
    county = {r["事项编号"]: r for r in _sheet(client.get(
        "/api/v1/cases/export.xlsx?type=livelihood_request", headers=bearer("ducha")).data)[1]}
    assert county[reported]["联系电话"] == "139****9000"

    # nested fields are flattened into one cell; personal marks apply
    grid = {r["事项编号"]: r for r in _sheet(client.get(
        "/api/v1/cases/export.xlsx?type=grid_incident", headers=shenli).data)[1]}
    assert grid[incident]["发生地点"] == "详细地址：揽月花园3幢"
    assert (grid[incident]["上报人/反映人姓名"], grid[incident]["联系电话"]) == ("欧阳*", "137****7000")

    # several types: today's columns only
    mixed, _rows = _sheet(client.get("/api/v1/cases/export.xlsx", headers=shenli).data)
    assert mixed == ["事项编号", "标题", "类型", "状态", "所属单位", "办理人", "办理期限", "提交时间", "满意度"]


def test_a_ledger_of_one_type_carries_its_form_fields(app, client, bearer):
    from fengqiao.cases import ledgers
    from fengqiao.models import User

    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    reported = submit_form(client, "livelihood-request", {**REQUEST, "request_type": "report"}, org=LANYUE)["case_number"]
    with app.test_request_context():
        shenli = db.scalar(sa.select(User).where(User.username == "shenli"))
        today = datetime.now(LOCAL_TZ).date()
        args = {"kind": "cases", "org": "", "start": today.replace(day=1).isoformat(),
                "end": (today + timedelta(days=1)).isoformat(), "user_id": shenli.id}
        plain = ledgers.build_ledger(**args)
        typed = ledgers.build_ledger(**args, type="livelihood_request")
        rows = list(openpyxl.load_workbook(ledgers.files_dir() / typed["file"]).active.iter_rows(values_only=True))
        plain_rows = list(openpyxl.load_workbook(ledgers.files_dir() / plain["file"]).active.iter_rows(values_only=True))
    assert "含该类型的表单内容" in rows[1][0] and "个人信息已脱敏" in rows[1][0]
    headers = list(rows[2])
    assert headers[:11] == list(plain_rows[2]) and {"诉求类型", "姓名", "联系电话"} <= set(headers[11:])
    by_number = {r[0]: dict(zip(headers, r, strict=True)) for r in rows[3:]}
    assert (by_number[number]["姓名"], by_number[number]["联系电话"]) == ("陈**", "138****8000")
    assert by_number[reported]["联系电话"] == "******"  # 举报: hidden from the community

