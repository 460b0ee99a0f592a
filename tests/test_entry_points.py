"""Entry points (issue 22, part 4): `/` is the residents' public home or the staff 工作台, the
grid worker's 上报事件, a receipt that survives a reload, and 我的草稿."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case, FormDraftData, User
from fengqiao.testing.plugin import csrf_token, login

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

MODULES = ("certificates", "points", "vanguard", "volunteer")
REQUEST = {"fq_version": "1", "request_type": "help", "summary": "独居老人家中停水",
           "content": "揽月花园3幢停水一天。", "caller_name": "陈德福", "caller_mobile": "13800138000"}


def _hrefs(html: str, marker: str) -> list[str]:
    return re.findall(rf'<a class="[^"]*" href="([^"]+)" data-entry="{marker}"', html)


def _draft_ids(app, username: str) -> list[int]:
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == username))
        return list(db.scalars(sa.select(FormDraftData.id).where(FormDraftData.user_id == user.id)))


def _save_draft(client, key: str, **fields) -> None:
    token = csrf_token(client, f"/forms/{key}")
    saved = client.post(f"/forms/{key}", data={"csrf_token": token, "fq_version": "1", "_action": "save_draft",
                                               **fields})
    assert saved.status_code == 302, saved.get_data(as_text=True)


@pytest.mark.plugins(*MODULES)
def test_anonymous_visitors_get_the_public_home_with_the_modules_pages(app, client, demo):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # no more redirect to the staff login
    assert _hrefs(html, "forms") == ["/forms"] and "我要上报/办事" in html
    assert _hrefs(html, "track") == ["/track"] and "查询办理进度" in html
    assert _hrefs(html, "board") == ["/board"] and "回音壁" in html
    assert 'href="/login" data-entry="login"' in html
    modules = _hrefs(html, "module")
    assert {"/p/certificates/", "/p/certificates/verify", "/p/points/shelf", "/p/points/board",
            "/p/vanguard/honour", "/p/volunteer/stars"} == set(modules)
    for url in modules + ["/forms", "/track", "/board"]:  # every entry opens for a resident
        assert client.get(url).status_code == 200, url
    assert "<h1>工作台</h1>" not in html and "data-unread" not in html  # nothing of the staff desk
    with app.app_context():
        from fengqiao.plugins.state import set_enabled

        set_enabled("points", False, "admin")
        db.commit()
    assert not any(u.startswith("/p/points/") for u in _hrefs(client.get("/").get_data(as_text=True), "module"))


@pytest.mark.plugins("points")
def test_public_links_lead_only_to_public_pages(app, client, demo):
    from fengqiao.plugins.context import PluginContext, PublicLink

    with pytest.raises(ValueError):  # another plugin's endpoint
        PluginContext(app, "points").add_public_link("p_certificates.posting", "证明")
    app.extensions["fengqiao.public_links"].append(PublicLink("points", "p_points.index", "积分管理", ""))
    html = client.get("/").get_data(as_text=True)
    assert "/p/points/shelf" in html and "积分管理" not in html  # a staff page would ask residents to sign in


def test_staff_get_their_workbench_at_the_root(client, login_as):
    login_as("shenli")
    html = client.get("/").get_data(as_text=True)
    assert "<h1>工作台</h1>" in html and "data-unread" in html  # the staff desk, bell included
    assert 'data-entry="forms"' not in html and "data-quick-report" not in html
    assert 'href="/drafts" data-drafts="0"' in html


def test_the_grid_worker_home_starts_with_the_report_button(app, client, login_as):
    login_as("zhangmin")
    html = client.get("/").get_data(as_text=True)
    button = re.search(r'<a class="quick-report" href="([^"]+)" data-quick-report>', html)
    assert button and button.group(1) == "/forms/grid-incident" and "上报事件" in html
    assert html.index("data-quick-report") < html.index("您好")  # first thing on the page
    assert client.get(button.group(1)).status_code == 200
    with app.app_context():
        from fengqiao.forms import store

        store.set_archived(store.get_form("grid-incident"), True)
        db.commit()
    assert "data-quick-report" not in client.get("/").get_data(as_text=True)  # no button to a closed form


def test_the_receipt_survives_a_reload_without_a_second_case(app, client, demo):
    token = csrf_token(client, "/forms/livelihood-request")
    sent = client.post("/forms/livelihood-request?org=339901001001", data={**REQUEST, "csrf_token": token})
    assert sent.status_code == 303  # See Other: the browser GETs the receipt, never re-POSTs
    location = sent.headers["Location"]
    assert location.endswith("/forms/livelihood-request/done")
    first = client.get(location).get_data(as_text=True)
    number = re.search(r'class="case-number">([^<]+)<', first).group(1)
    code = re.search(r'class="tracking-code">([^<]+)<', first).group(1)
    assert code not in location
    for _ in range(2):  # reload
        again = client.get(location)
        html = again.get_data(as_text=True)
        assert again.status_code == 200 and f'class="case-number">{number}<' in html
        assert f'class="tracking-code">{code}<' in html
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count(Case.id))) == 1
    assert app.test_client().get(location).status_code == 404  # another browser: nothing to show
    assert client.get("/forms/proxy-service/done").status_code == 404  # not that form's receipt


def test_my_drafts_lists_a_draft_and_reopens_it(app, client, login_as):
    login_as("zhangmin")
    assert "暂无草稿" in client.get("/drafts").get_data(as_text=True)
    _save_draft(client, "grid-incident", summary="窨井盖破损 联系13812345678")
    html = client.get("/drafts").get_data(as_text=True)
    [draft_id] = _draft_ids(app, "zhangmin")
    assert f'data-draft="{draft_id}"' in html and "网格事件上报" in html
    assert "窨井盖破损" in html and "13812345678" not in html  # the preview is masked
    assert 'data-drafts="1"' in client.get("/").get_data(as_text=True)  # counted on the 工作台
    opened = client.get(f"/drafts/{draft_id}")
    assert opened.status_code == 302 and "/forms/grid-incident?draft=1" in opened.headers["Location"]
    form = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert 'value="窨井盖破损 联系13812345678"' in form and 'data-draft-state="restored"' in form
    plain = client.get("/forms/grid-incident").get_data(as_text=True)  # the form's own link reopens it too
    assert 'value="窨井盖破损 联系13812345678"' in plain
    prefilled = client.get("/forms/grid-incident?summary=路灯不亮").get_data(as_text=True)
    assert 'value="路灯不亮"' in prefilled and 'data-draft-state="available"' in prefilled  # offered, not mixed
    blank = client.get("/forms/grid-incident?draft=0").get_data(as_text=True)
    assert "窨井盖破损" not in blank and 'data-draft-state="available"' in blank


def test_drafts_page_one_at_a_time_and_delete_needs_the_token(app, client, login_as):
    login_as("zhangmin")
    _save_draft(client, "grid-incident", summary="第一份")
    _save_draft(client, "livelihood-request", summary="第二份")
    first = client.get("/drafts?limit=1").get_data(as_text=True)
    assert "第二份" in first and "第一份" not in first  # newest first
    more = re.search(r'href="(/drafts\?cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(f"{more}&limit=1").get_data(as_text=True)
    assert "第一份" in second and "第二份" not in second
    assert client.get("/drafts?limit=0").status_code == 422
    assert client.get("/drafts?cursor=%%%").status_code == 422
    draft_id = _draft_ids(app, "zhangmin")[0]
    assert client.post(f"/drafts/{draft_id}/delete").status_code == 400  # no CSRF token
    deleted = client.post(f"/drafts/{draft_id}/delete", data={"csrf_token": csrf_token(client, "/drafts")})
    assert deleted.status_code == 302 and len(_draft_ids(app, "zhangmin")) == 1


def test_another_users_draft_is_neither_listed_nor_opened(app, client, login_as):
    login_as("zhangmin")
    _save_draft(client, "grid-incident", summary="张敏的草稿")
    [draft_id] = _draft_ids(app, "zhangmin")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "shenli")
    assert "张敏的草稿" not in client.get("/drafts").get_data(as_text=True)
    assert client.get(f"/drafts/{draft_id}").status_code == 404
    token = csrf_token(client, "/drafts")
    assert client.post(f"/drafts/{draft_id}/delete", data={"csrf_token": token}).status_code == 404
    assert "张敏的草稿" not in client.get("/forms/grid-incident?draft=1").get_data(as_text=True)
    assert _draft_ids(app, "zhangmin") == [draft_id]  # still there
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/drafts").status_code == 302  # residents have no drafts: sign in first
