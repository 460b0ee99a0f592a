"""Pages: branch overview, member page, scoring queue, notices with objections, honour board,
Excel ledger, indicator-set editor; plus the plugin's house rules (sdk-only imports,
migrations identical to the models)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fengqiao.sdk.testing import csrf_token, imports_outside_the_sdk, migration_drift
from openpyxl import load_workbook
from vanguard_helpers import ID_CARD, LANYUE, PERIOD, YEAR, approve, new_member, propose, score

pytestmark = pytest.mark.plugins("vanguard")
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _post(client, url: str, data: dict, page: str | None = None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page or url)})


@sqlite_only
def test_pages_need_login_and_the_menu_links_them(client, login_as):
    assert client.get("/p/vanguard/").status_code == 302
    login_as("shenli")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/p/vanguard/"' in html
    assert "党员先锋指数" in client.get("/p/vanguard/").get_data(as_text=True)


@sqlite_only
def test_someone_who_is_not_a_member_is_told_so(client, login_as):
    login_as("zhangmin")  # grid worker: no review permission, not a member
    response = client.get("/p/vanguard/", follow_redirects=True)
    assert "还没有关联党员信息" in response.get_data(as_text=True)
    assert client.get("/p/vanguard/queue").status_code == 403


@sqlite_only
def test_register_a_member_through_the_form(client, login_as):
    login_as("shenli")
    response = _post(client, "/p/vanguard/members/new", {"name": "", "org": LANYUE, "member_type": "employed",
                                                         "id_card": "12345"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "此项为必填项" in html and "身份证号码" in html
    response = _post(client, "/p/vanguard/members/new", {"name": "陈立新", "org": LANYUE, "member_type": "retired",
                                                         "id_card": ID_CARD, "posts": "patrol"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "陈立新 的先锋指数" in html and "治安联防岗" in html and ID_CARD not in html


@sqlite_only
def test_member_page_proposal_and_queue_review(client, bearer, login_as):
    member_id = new_member(client, bearer("shenli"), username="zhangmin")
    login_as("zhangmin")  # the member's own page
    page = f"/p/vanguard/members/{member_id}"
    bad = _post(client, f"{page}/events", {"indicator": "", "points": "abc", "reason": "", "period": "2026/01"}, page)
    assert bad.status_code == 422
    assert "期间应为“年-月”格式" in bad.get_data(as_text=True) or "应填写数字" in bad.get_data(as_text=True)
    html = client.get(page).get_data(as_text=True)
    service = re.search(r'<option value="(\d+)"[^>]*>基本指标 · 服务群众', html).group(1)
    ok = _post(client, f"{page}/events", {"indicator": service, "points": "6", "reason": "帮助独居老人",
                                          "period": PERIOD}, page)
    assert ok.status_code == 302
    assert "待审核" in client.get(page + f"?year={YEAR}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login_as("shenli")
    queue = client.get("/p/vanguard/queue").get_data(as_text=True)
    event_id = re.search(r'data-event="(\d+)"', queue).group(1)
    token = csrf_token(client, "/p/vanguard/queue")
    response = client.post(f"/p/vanguard/events/{event_id}/review",
                           data={"decision": "reject", "comment": "", "csrf_token": token}, follow_redirects=True)
    assert "请填写不通过的理由" in response.get_data(as_text=True)
    response = client.post(f"/p/vanguard/events/{event_id}/review",
                           data={"decision": "approve", "comment": "属实", "csrf_token": token}, follow_redirects=True)
    assert "没有待审核的积分事项" in response.get_data(as_text=True)
    html = client.get(page).get_data(as_text=True)
    assert re.search(r"<strong data-score>6</strong>", html)
    assert "shenli 审核通过：属实" in html


@sqlite_only
def test_review_form_needs_csrf(client, bearer, login_as):
    shenli = bearer("shenli")
    member_id = new_member(client, shenli)
    event_id = propose(client, bearer("luojia"), member_id, "study", 5)
    login_as("shenli")
    response = client.post(f"/p/vanguard/events/{event_id}/review", data={"decision": "approve"})
    assert response.status_code == 400
    assert score(client, shenli, member_id)["score"] == 0


def test_notice_objections_rating_honour_board_and_ledger(app, client, bearer, login_as):
    shenli, luojia = bearer("shenli"), bearer("luojia")
    member_id = new_member(client, shenli, name="张建华", mobile="13800138000")
    for code, points in [("study", 20), ("org_life", 20), ("dues", 10), ("posts", 20), ("service", 20)]:
        approve(client, luojia, propose(client, shenli, member_id, code, points))
    new_member(client, shenli, name="李卫东")
    notice = client.post("/api/v1/p/vanguard/notices", headers=shenli, json={"org": LANYUE, "year": YEAR, "quarter": 1})
    assert notice.status_code == 201, notice.get_data(as_text=True)
    body = notice.get_json()
    assert body["open"] is True
    assert [(r["name"], r["score"], r["stars"]) for r in body["rows"]] == [("张**", 90, 4), ("李**", 0, 0)]
    again = client.post("/api/v1/p/vanguard/notices", headers=shenli, json={"org": LANYUE, "year": YEAR, "quarter": 1})
    assert again.status_code == 409

    public = app.test_client()  # a resident, not signed in
    page = f"/p/vanguard/notices/{body['id']}"
    html = public.get(page).get_data(as_text=True)
    assert "张**" in html and "张建华" not in html and "★★★★" in html
    empty = public.post(f"{page}/objections", data={"text": " ", "csrf_token": csrf_token(public, page)})
    assert empty.status_code == 422 and "请填写异议内容" in empty.get_data(as_text=True)
    sent = public.post(f"{page}/objections", data={"text": "张某本季度未参加巡逻", "contact": "13912345678",
                                                     "csrf_token": csrf_token(public, page)})
    assert sent.status_code == 302
    login_as("shenli")
    staff_view = client.get(page).get_data(as_text=True)
    assert "张某本季度未参加巡逻" in staff_view and "139****5678" in staff_view
    objection_id = re.search(r'data-objection="(\d+)"', staff_view).group(1)
    resolve = f"/p/vanguard/objections/{objection_id}/resolve"
    empty = client.post(resolve, data={"resolution": "", "csrf_token": csrf_token(client, page)}, follow_redirects=True)
    assert "请填写处理结果" in empty.get_data(as_text=True)
    done = client.post(resolve, data={"resolution": "经核实已参加，维持原分", "csrf_token": csrf_token(client, page)},
                       follow_redirects=True)
    assert "处理结果（shenli）：经核实已参加，维持原分" in done.get_data(as_text=True)

    assert client.post("/api/v1/p/vanguard/ratings", headers=shenli, json={"org": LANYUE, "year": YEAR}).get_json() == \
        {"rated": 2}
    board = public.get(f"/p/vanguard/honour?org={LANYUE}&year={YEAR}").get_data(as_text=True)
    assert "张**" in board and "★★★★" in board and "李**" not in board and "张建华" not in board
    api_board = public.get(f"/api/v1/p/vanguard/honour?org={LANYUE}&year={YEAR}").get_json()
    assert api_board == {"items": [{"name": "张**", "branch": "揽月社区", "stars": 4, "score": 90}]}

    ledger = client.get(f"/p/vanguard/ledger.xlsx?org={LANYUE}&year={YEAR}")
    assert ledger.status_code == 200
    rows = list(load_workbook(io.BytesIO(ledger.data)).active.iter_rows(values_only=True))
    assert rows[1][:8] == ("姓名", "支部", "类型", "基本分", "加分", "扣分", "总分", "星级")
    assert rows[2][:8] == ("张**", "揽月社区", "在职党员", 90, 0, 0, 90, 4)
    assert "张建华" not in str(rows) and "13800138000" not in str(rows)
    other = client.get("/p/vanguard/ledger.xlsx?org=339901001002&year=2026")  # 桥东: not shenli's
    assert other.status_code == 302


@sqlite_only
def test_indicator_set_editor(client, login_as):
    login_as("shenli")
    assert client.get("/p/vanguard/sets").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as("admin")
    response = _post(client, "/p/vanguard/sets", {"org": LANYUE}, "/p/vanguard/sets")
    assert response.status_code == 302
    edit = response.headers["Location"]
    html = client.get(edit).get_data(as_text=True)
    codes = re.findall(r'name="code" value="([a-z_]+)"', html)
    names = re.findall(r'name="name" value="([^"]+)"', html)
    kinds = re.findall(r'<option value="(\w+)" selected>', html)
    maxima = re.findall(r'name="max_points" inputmode="decimal" value="([\d.]+)"', html)
    assert len(codes) == len(names) == len(maxima) == 14
    form = {"set_name": "揽月社区党员先锋指数", "band": ["55", "65", "75", "85", "95"], "bonus_cap": "8",
            "code": [*codes, "lanyue_x"], "name": [*names, "楼道长履职"], "kind": [*kinds[:14], "bonus"],
            "max_points": [*maxima, "3"]}
    bad = client.post(edit, data={**form, "band": ["55", "50", "75", "85", "95"], "csrf_token": csrf_token(client, edit)})
    assert bad.status_code == 422 and "星级分数线应从低到高依次递增" in bad.get_data(as_text=True)
    assert 'value="楼道长履职"' in bad.get_data(as_text=True)  # what was typed is kept
    bad = client.post(edit, data={**form, "bonus_cap": "很多", "csrf_token": csrf_token(client, edit)})
    assert bad.status_code == 422 and 'value="很多"' in bad.get_data(as_text=True)
    saved = client.post(edit, data={**form, "csrf_token": csrf_token(client, edit)})
    assert saved.status_code == 302
    published = _post(client, f"{edit}/publish", {"effective_from": f"{YEAR}-01-01"}, edit)
    assert published.status_code == 302
    html = client.get("/p/vanguard/sets").get_data(as_text=True)
    assert "揽月社区党员先锋指数" in html and "已发布" in html
    indicators = client.get(f"/api/v1/p/vanguard/indicators?org={LANYUE}").get_json()
    assert {"code": "lanyue_x", "kind": "bonus", "max_points": 3} == {
        k: v for i in indicators if i["code"] == "lanyue_x" for k, v in i.items() if k in ("code", "kind", "max_points")}


@sqlite_only
def test_demo_rows_load_once(app, demo):
    from fengqiao_vanguard.demo import load_demo
    from fengqiao_vanguard.models import Member

    with app.app_context():
        load_demo()
        load_demo()
        from fengqiao.sdk.models import db

        assert db.query(Member).count() == 3


def test_imports_only_the_sdk_from_the_core():
    """Nothing from the core but the sdk, and nothing of the volunteer plugin."""
    assert imports_outside_the_sdk(Path(__file__).resolve().parents[1] / "fengqiao_vanguard") == []


def test_migration_matches_the_models(app):
    """The plugin's Alembic branch creates exactly the tables its models describe."""
    assert migration_drift(app, "vanguard_") == []
