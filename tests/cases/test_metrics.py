"""Metrics (docs/domain.md, "Metrics") for a crafted March 2026: the numbers, the scope, the
API, the page.

Cases are submitted and walked through the API; the timestamps each figure depends on are
then set on the rows, so every expected number below can be counted by hand.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from fengqiao.cases.metrics import preset_period
from fengqiao.charts import Series, bar_chart, hbar_chart, nice_scale
from fengqiao.db import LOCAL_TZ, db
from fengqiao.models import Case
from fengqiao.testing.plugin import login, self_handle_photos, submit_form, walk_case
from fengqiao.workcalendar import working_days_between

MARCH = "from=2026-03-01&to=2026-04-01"
INCIDENT = {"summary": "楼道堆物", "description": "楼道堆放纸箱。", "location": {"address": "揽月花园3幢"}}
REQUEST = {"summary": "夜间噪音", "content": "广场舞音响太响。", "caller_name": "陈德福",
           "caller_mobile": "13800138000"}


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def _set(app, number: str, **values) -> None:
    columns = {"responded_at": None, "closed_at": None, "rating": None, "rated_at": None, "paused_at": None}
    # the first clock metrics count (due_at, first_closed_at) follows the crafted clock
    values.setdefault("due_at", values.get("deadline"))
    values.setdefault("first_closed_at", values.get("closed_at"))
    with app.app_context():
        db.execute(sa.update(Case).where(Case.number == number).values(**{**columns, **values}))
        db.commit()


@pytest.fixture
def march(app, client, bearer):
    """Three communities' cases; see each line for what it counts towards."""
    def incident(worker, category):
        return submit_form(client, "grid-incident", {**INCIDENT, "category": category},
                           headers=bearer(worker))["case_number"]

    def request(org, kind):
        return submit_form(client, "livelihood-request", {**REQUEST, "request_type": kind}, org=org)["case_number"]

    lanyue, qiaodong = "339901001001", "339901001002"
    n = {
        "A1": incident("zhangmin", "安全隐患"), "A2": request(lanyue, "complaint"),
        "A3": request(lanyue, "help"), "A4": request(lanyue, "consult"), "P": request(lanyue, "suggestion"),
        "X": request(lanyue, "consult"), "B1": incident("chenjing", "市容环境"),
        "B2": request(qiaodong, "complaint"), "C1": incident("hujianhua", "安全隐患"),
    }
    for key, who in (("A1", "zhangmin"), ("B1", "chenjing"), ("C1", "hujianhua")):
        walk_case(client, n[key], [("self_handle", {"comment": "已清理" if key != "C1" else "已处理",
                                                    "fields": self_handle_photos(client, n[key], bearer(who))})],
                  bearer(who))
    walk_case(client, n["A2"], [("answer", {"comment": "已答复"})], bearer("shenli"))
    walk_case(client, n["A4"], [("withdraw", {"comment": "来电人撤回"})], bearer("shenli"))
    # closed on time, 2 working days, satisfied
    _set(app, n["A1"], created_at=at(3, 2), responded_at=at(3, 2, 10), closed_at=at(3, 4, 15),
         deadline=at(3, 5, 17, 30), rating="satisfied", rated_at=at(3, 5, 10))
    # closed late, 5 working days, dissatisfied
    _set(app, n["A2"], created_at=at(3, 3, 10), responded_at=at(3, 3, 11), closed_at=at(3, 10, 11),
         deadline=at(3, 6, 17, 30), rating="dissatisfied", rated_at=at(3, 11, 10))
    # open, never signed for, overdue since 10 March
    _set(app, n["A3"], created_at=at(3, 5, 10), deadline=at(3, 10, 17, 30))
    # withdrawn: void, in no figure
    _set(app, n["A4"], created_at=at(3, 6, 10), closed_at=at(3, 6, 11), deadline=at(3, 9, 17, 30))
    # open but parked (挂账): not overdue, not due
    _set(app, n["P"], created_at=at(3, 11), responded_at=at(3, 11, 10), deadline=at(3, 13, 17, 30),
         paused_at=at(3, 12))
    # received in April, overdue now: only in the overdue snapshot
    _set(app, n["X"], created_at=at(4, 2), deadline=at(4, 3, 17, 30))
    # 桥东社区: closed the same day, basically satisfied
    _set(app, n["B1"], created_at=at(3, 9), responded_at=at(3, 9, 9, 30), closed_at=at(3, 9, 16),
         deadline=at(3, 12, 17, 30), rating="basically_satisfied", rated_at=at(3, 10))
    # received in February, due (and overdue) in March
    _set(app, n["B2"], created_at=at(2, 27, 10), responded_at=at(2, 27, 11), deadline=at(3, 4, 17, 30))
    # 石溪村: one working day, not rated
    _set(app, n["C1"], created_at=at(3, 16), responded_at=at(3, 16), closed_at=at(3, 17, 10),
         deadline=at(3, 19, 17, 30))
    return n


def _metrics(client, headers, query=MARCH):
    response = client.get(f"/api/v1/metrics?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_county_figures(client, bearer, march):
    m = _metrics(client, bearer("ducha"))
    assert (m["received"], m["closed"], m["completion_rate"]) == (6, 4, 0.6667)
    # 响应率 (issue 18): nothing was dispatched; A1 B1 C1 (自行处置) and A2 (即时答复) were
    # closed on the spot and count as responded; A3 and P, never dispatched, are not counted
    assert (m["responded"], m["response_rate"]) == (4, 1.0)
    assert (m["due"], m["closed_on_time"], m["on_time_rate"]) == (6, 3, 0.5)
    assert m["satisfaction"] == {"satisfied": 1, "basically_satisfied": 1, "dissatisfied": 1, "rated": 3,
                                 "unrated": 1, "rate": 0.6667, "participation_rate": 0.75}
    assert m["handling_days"] == {"closed": 4, "mean": 2.0, "median": 1, "p90": 5}
    assert m["overdue"]["count"] == 3
    assert [c["number"] for c in m["overdue"]["items"]] == [march["B2"], march["A3"], march["X"]]
    assert m["overdue"]["items"][0]["org_name"] == "桥东社区"
    assert m["categories"][0] == {"label": "安全隐患", "count": 2}
    assert {c["label"] for c in m["categories"][1:]} == {"市容环境", "投诉", "求助", "建议"}
    series = m["series"]
    assert series["unit"] == "day" and len(series["points"]) == 31
    by_day = {p["date"]: p for p in series["points"]}
    assert by_day["2026-03-02"]["received"] == 1 and by_day["2026-03-04"]["closed"] == 1
    assert by_day["2026-03-06"]["closed"] == 0  # the withdrawn case is not "closed"
    assert sum(p["received"] for p in series["points"]) == 6
    assert sum(p["closed"] for p in series["points"]) == 4
    units = {u["name"]: u for u in m["units"]}
    assert set(units) == {"澄湖街道", "石溪镇"}  # departments without cases are left out
    assert (units["澄湖街道"]["received"], units["澄湖街道"]["closed"], units["澄湖街道"]["overdue"]) == (5, 3, 3)
    assert units["澄湖街道"]["satisfaction_rate"] == 0.6667
    assert (units["石溪镇"]["received"], units["石溪镇"]["closed"], units["石溪镇"]["rated"]) == (1, 1, 0)
    assert m["period"] == {"from": "2026-03-01", "to": "2026-04-01", "last_day": "2026-03-31",
                           "label": "2026-03-01 至 2026-03-31", "preset": "custom", "preset_label": "自定义"}


def test_community_counts_only_its_own_cases(client, bearer, march):
    m = _metrics(client, bearer("shenli"))  # 揽月社区
    assert (m["received"], m["closed"]) == (4, 1 + 1)
    assert {c["number"] for c in m["overdue"]["items"]} == {march["A3"], march["X"]}
    assert m["satisfaction"]["rated"] == 2  # 桥东社区's 基本满意 is not here
    units = {u["name"]: u["received"] for u in m["units"]}
    assert units == {"揽月花园1–8幢网格": 1, "湖滨路商业网格": 0, "揽月社区（本级）": 3}
    other = _metrics(client, bearer("hanzhiming"))  # 桥东社区
    assert (other["received"], other["overdue"]["count"]) == (1, 1)


def test_unit_and_type_filters(client, bearer, march):
    ducha = bearer("ducha")
    town = _metrics(client, ducha, MARCH + "&org=339901100")
    assert (town["received"], town["closed"], town["org"]) == (1, 1, {"code": "339901100", "name": "石溪镇"})
    grid = _metrics(client, ducha, MARCH + "&type=grid_incident")
    assert (grid["received"], grid["closed"], grid["overdue"]["count"]) == (3, 3, 0)
    long = _metrics(client, ducha, "from=2026-01-01&to=2027-01-01")
    assert long["series"]["unit"] == "month" and len(long["series"]["points"]) == 12
    assert long["series"]["points"][2] == {"date": "2026-03", "received": 6, "closed": 4}
    assert long["received"] == 8  # February's B2 joins, and April's X


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("query", "pointer", "words"), [
    ("from=2026-13-01&to=2026-04-01", "/from", "格式"),
    ("from=2026-03-01", "/to", "请填写结束日期"),
    ("from=2026-04-01&to=2026-03-01", "/to", "晚于"),
    ("from=2020-01-01&to=2026-01-01", "/to", "最长"),
    ("type=nope", "/type", "未知的事项类型"),
    ("org=339901001002", "/org", "无权查看"),
])
def test_bad_filters_are_422_in_chinese(client, bearer, query, pointer, words):
    response = client.get(f"/api/v1/metrics?{query}", headers=bearer("shenli"))
    assert response.status_code == 422
    error = response.get_json()["errors"][0]
    assert error["pointer"] == pointer and words in error["message"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_who_may_see_metrics(client, bearer, demo):
    assert client.get("/api/v1/metrics").status_code == 401
    assert client.get("/api/v1/metrics", headers=bearer("zhangmin")).status_code == 403  # grid worker
    for username in ("lingdao", "shenli", "admin"):
        assert client.get("/api/v1/metrics", headers=bearer(username)).status_code == 200
    default = _metrics(client, bearer("lingdao"), "")
    assert default["period"]["preset"] == "this_month" and default["received"] == 0


def test_the_page(app, client, march):
    login(client, "ducha")
    page = client.get("/metrics?preset=custom&start=2026-03-01&end=2026-03-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "统计分析" in html and 'data-kpi="received"' in html
    assert "66.7%" in html and "50.0%" in html  # 办结率, 按期办结率
    assert html.count("<svg") == 2 and "每日受理与办结" in html
    assert f'href="/cases/{march["B2"]}"' in html
    assert "/metrics?" in html and "org=339901100" in html  # drill-down into 石溪镇
    assert 'href="/metrics"' in client.get("/").get_data(as_text=True)  # the nav link
    bad = client.get("/metrics?preset=custom&start=2026-02-30&end=2026-03-31")
    assert bad.status_code == 422 and "开始日期格式应为" in bad.get_data(as_text=True)
    grid_worker = app.test_client()
    login(grid_worker, "zhangmin")
    assert grid_worker.get("/metrics").status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_nav_hides_metrics_from_grid_workers(client, demo):
    login(client, "zhangmin")
    assert 'href="/metrics"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_working_days_between_counts_like_limits(app, demo):
    with app.app_context():
        assert working_days_between(at(3, 3, 10), at(3, 10, 11)) == 5  # A2 above
        assert working_days_between(at(3, 9), at(3, 9, 16)) == 0  # the same day
        assert working_days_between(at(3, 10), at(3, 3)) == 0  # backwards
        assert working_days_between(at(4, 3), at(4, 7)) == 1  # over 清明 (4–6 April 2026, seeded)


def test_presets():
    today = date(2026, 11, 27)
    spans = {p: (pp.start.isoformat(), pp.end.isoformat())
             for p in ("this_month", "last_month", "this_quarter", "this_year")
             for pp in [preset_period(p, today)]}
    assert spans == {"this_month": ("2026-11-01", "2026-12-01"), "last_month": ("2026-10-01", "2026-11-01"),
                     "this_quarter": ("2026-10-01", "2027-01-01"), "this_year": ("2026-01-01", "2027-01-01")}
    january = preset_period("last_month", date(2027, 1, 15))
    assert (january.start, january.end) == (date(2026, 12, 1), date(2027, 1, 1))


def test_charts_escape_text():
    svg = str(hbar_chart([("<script>alert(1)</script>", 3)], title="类别 & 数量"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "类别 &amp; 数量" in svg
    bars = str(bar_chart(["03-01", "03-02"], [Series("受理", [2, 5]), Series("办结", [0, 1])], title="每日"))
    assert bars.count("<rect") >= 4 + 2  # four bars and two legend keys
    assert "受理合计 7" in bars and "办结合计 1" in bars
    assert nice_scale(2) == (2, 1) and nice_scale(0) == (1, 1) and nice_scale(130) == (150, 50)  # whole cases


def test_the_dashboard_reuses_its_figures_for_a_minute(app, demo):
    """Supervisors reopen the dashboard often: within a minute the figures are reused."""
    from fengqiao.cases import metrics as service
    from fengqiao.models import User
    from fengqiao.orgs.scope import scope_for

    with app.test_request_context():
        user = db.scalar(sa.select(User).where(User.username == "ducha"))
        scope = scope_for(user, "metrics.view")
        filters = service.resolve_filters(scope)
        first = service.cached(scope, filters)
        assert service.cached(scope, filters) is first
        assert service.compute(scope, filters) is not first  # the uncached path recomputes


def _ducha_dashboard(app):
    from fengqiao.cases import metrics as service
    from fengqiao.models import User
    from fengqiao.orgs.scope import scope_for

    with app.test_request_context():
        user = db.scalar(sa.select(User).where(User.username == "ducha"))
        scope = scope_for(user, "metrics.view")
        return service.cached(scope, service.resolve_filters(scope))


def test_with_redis_every_web_process_shares_one_dashboard(demo, client, database_url, tmp_path, redis_server):
    """Two apps on one database and one Redis stand for two gunicorn workers: the second
    reuses the first one's figures (a case submitted in between is not counted yet); the
    figures survive the trip through Redis unchanged."""
    from fengqiao.app import create_app
    from fengqiao.testing.plugin import app_settings_for_tests

    settings = app_settings_for_tests(database_url, tmp_path, redis_url=redis_server.url)
    first, second = create_app(settings), create_app(settings)
    try:
        computed = _ducha_dashboard(first)
        submit_form(client, "livelihood-request", {"request_type": "help", "summary": "楼道灯坏了",
                                                   "content": "三楼楼道灯不亮。", "caller_name": "王芳",
                                                   "caller_mobile": "13900139000"}, org="339901001001")
        shared = _ducha_dashboard(second)
        assert shared == computed and shared["received"] == computed["received"]
        with demo.test_request_context():
            from fengqiao.cases import metrics as service

            assert service._shared_cache() is None  # the fixture app has no Redis: its own figures
        assert _ducha_dashboard(demo)["received"] == computed["received"] + 1
    finally:
        for app in (first, second):
            app.extensions["fengqiao.db"].dispose()


def test_a_dashboard_still_opens_when_redis_is_down(demo, database_url, tmp_path):
    import socket

    from fengqiao.app import create_app
    from fengqiao.testing.plugin import app_settings_for_tests

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(app_settings_for_tests(database_url, tmp_path, redis_url=f"redis://127.0.0.1:{port}/0"))
    try:
        figures = _ducha_dashboard(app)
        assert figures["received"] >= 0 and figures["generated_at"]
    finally:
        app.extensions["fengqiao.db"].dispose()
