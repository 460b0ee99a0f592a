"""Plugin panels on the staff case page (``ctx.add_case_panel``): a tab per panel, after the
page's scope check, for viewers holding the panel's permission over the case's unit; a panel
with nothing to show has no tab; one that raises (even a failed SQL query, on PostgreSQL too)
shows 「该部分暂时无法显示」 and the page answers 200; a switched-off plugin shows none."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from markupsafe import escape

from fengqiao.cases.summary import CaseSummary
from fengqiao.db import db
from fengqiao.testing.plugin import csrf_token, login, submit_form

pytestmark = pytest.mark.plugins("hello")
LANYUE = "339901001001"
REQUEST = {"request_type": "help", "summary": "湖滨路烧烤店夜间油烟噪音扰民", "content": "每晚十点后油烟和噪音很大。",
           "caller_name": "陈德福", "caller_mobile": "13800138000", "id_card": "339901195203140111"}
KEY = "case-p-hello-greeting"


def _add(app, render, permission="hello.view", name="greeting", title="问候记录"):
    app.extensions["fengqiao.plugin_contexts"]["hello"].add_case_panel(name, title, render, permission=permission)


def _page(app, username: str, number: str) -> tuple[int, str]:
    browser = app.test_client()
    login(browser, username)
    response = browser.get(f"/cases/{number}")
    return response.status_code, response.get_data(as_text=True)


def test_a_panel_is_a_tab_for_viewers_holding_its_permission(app, client, demo):
    seen: list = []

    def render(case):
        seen.append(case)
        return f"<p class='hello-panel'>{escape(case.title)} · {case.state_title}</p>"

    _add(app, render)
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    status, html = _page(app, "shenli", number)  # community staff: hello.view over the case's unit
    assert status == 200
    assert f'<a href="#{KEY}" data-tab>问候记录</a>' in html
    assert f'<section id="{KEY}" class="case-panel card plugin-panel"' in html
    assert "<p class='hello-panel'>湖滨路烧烤店夜间油烟噪音扰民 · 待受理</p>" in html
    case = seen[-1]
    assert isinstance(case, CaseSummary) and case.number == number and case.org == LANYUE  # a plain value
    # lingdao (county viewer) opens the case but holds no hello.view: no tab, render not even called
    calls = len(seen)
    status, html = _page(app, "lingdao", number)
    assert status == 200 and KEY not in html and len(seen) == calls
    # hanzhiming (another community) does not pass the page's own scope check: 404, no render
    assert _page(app, "hanzhiming", number)[0] == 404 and len(seen) == calls


def test_a_panel_with_nothing_to_show_has_no_tab(app, client, demo):
    _add(app, lambda case: None)
    _add(app, lambda case: "  ", name="blank", title="空白")
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    status, html = _page(app, "shenli", number)
    assert status == 200 and "case-p-hello-" not in html and "plugin-panel" not in html


@pytest.mark.parametrize("failure", ["python", "sql"])
def test_a_failing_panel_says_so_and_the_page_still_works(app, client, demo, failure):
    def broken(case):
        if failure == "sql":  # a failed query: on PostgreSQL it would abort the request's transaction
            db.execute(sa.text("SELECT no_such_column FROM no_such_table"))
        raise RuntimeError("boom")

    _add(app, broken)
    _add(app, lambda case: "<p class='after'>之后的面板</p>", name="after", title="之后")
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    status, html = _page(app, "shenli", number)
    assert status == 200
    section = html[html.index(f'<section id="{KEY}"'):]
    assert "该部分暂时无法显示" in section[:section.index("</section>")]
    assert "boom" not in html and "no_such_table" not in html
    assert "<p class='after'>之后的面板</p>" in html  # the next panel and the rest of the page render
    assert "流转记录" in html and 'id="case-history"' in html


def test_a_switched_off_plugin_shows_no_panel(app, client, demo):
    _add(app, lambda case: "<p class='hello-panel'>问候</p>")
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    assert "hello-panel" in _page(app, "shenli", number)[1]
    admin = app.test_client()
    login(admin, "admin")
    token = csrf_token(admin, "/admin/plugins")
    assert admin.post("/admin/plugins/hello/switch", data={"enabled": "0", "csrf_token": token}).status_code == 302
    status, html = _page(app, "shenli", number)
    assert status == 200 and "hello-panel" not in html and KEY not in html


def test_panel_names_and_titles_are_checked(app):
    with pytest.raises(ValueError, match="case panel"):
        _add(app, lambda case: None, name="Bad Name")
    with pytest.raises(ValueError, match="case panel"):
        _add(app, lambda case: None, title="一个非常非常非常长的面板标题文字")
    _add(app, lambda case: None)
    with pytest.raises(ValueError, match="already registered"):
        _add(app, lambda case: None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_plugin_whose_setup_fails_leaves_no_panel(app):
    from fengqiao.plugins.loader import _forget

    _add(app, lambda case: "x")
    _forget(app, "hello")
    assert app.extensions["fengqiao.case_panels"] == []


def test_case_summaries_narrow_to_case_numbers(app, client, demo):
    from fengqiao.models import Case
    from fengqiao.orgs.scope import scope_for
    from fengqiao.sdk.cases import case_summaries

    first = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    second = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    with app.test_request_context():
        from fengqiao.models import User

        shenli = db.scalar(sa.select(User).where(User.username == "shenli"))
        scope = scope_for(shenli, "cases.view")
        listed = case_summaries(scope, numbers=[first], cursor="").items
        assert [c.number for c in listed] == [first] and listed[0].state_title == "待受理"
        chosen = sa.select(Case.number).where(Case.number == second)  # a select works as well
        assert [c.number for c in case_summaries(scope, numbers=chosen, cursor="").items] == [second]
        assert case_summaries(scope, numbers=[], cursor="").items == []
        with pytest.raises(ValueError):
            case_summaries(scope, numbers=[f"X{i}" for i in range(1001)], cursor="")
