"""The staff sidebar's markup (issue 22): groups in purpose order, 系统管理 folded unless the
page is in it, one current entry, entries filtered by permission and plugin switch, and plugins
choosing their group through ``ctx.add_menu_item(…, group=…)``."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from fengqiao.plugins.context import PluginContext

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Sidebar(HTMLParser):
    """The ``<nav id="sidenav">`` of a page: ``groups`` is ``[(title, open or None, [(label,
    href, aria-current)])]``; ``open`` is None for a group that cannot be folded."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.depth = 0  # inside the nav while > 0
        self.groups: list[tuple[str, bool | None, list]] = []
        self.title: list[str] | None = None
        self.link: list | None = None
        self.icon = False  # inside an icon: its letter is not part of a name
        self.found = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("id") == "sidenav":
            self.depth, self.found = 1, True
            return
        if not self.depth:
            return
        if tag == "nav":
            self.depth += 1
        classes = (attrs.get("class") or "").split()
        self.icon = self.icon or "nav-icon" in classes
        if tag == "details":
            self.groups.append(("", "open" in attrs, []))
        elif tag == "div" and "nav-group" in classes:
            self.groups.append(("", None, []))
        elif "nav-group-title" in classes:
            self.title = []
        elif tag == "a" and "nav-link" in classes:
            self.link = [attrs["href"], attrs.get("aria-current"), []]

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "nav":
            self.depth -= 1
        elif tag == "span" and self.icon:
            self.icon = False
        elif self.title is not None and tag in ("div", "summary"):
            title, opened, links = self.groups[-1]
            self.groups[-1] = ("".join(self.title).strip(), opened, links)
            self.title = None
        elif tag == "a" and self.link is not None:
            href, current, text = self.link
            self.groups[-1][2].append(("".join(text).strip(), href, current))
            self.link = None

    def handle_data(self, data):
        if self.icon:
            return
        if self.title is not None:
            self.title.append(data)
        if self.link is not None:
            self.link[2].append(data)

    @staticmethod
    def _title(title: str, links: list) -> str:
        """A group's heading, or for a module shown as its one entry, that entry's label."""
        return title or (links[0][0] if len(links) == 1 else "")

    def titles(self) -> list[str]:
        return [self._title(title, links) for title, _, links in self.groups]

    def group(self, title: str) -> tuple[bool | None, list]:
        return next((opened, links) for t, opened, links in self.groups if self._title(t, links) == title)

    def current(self) -> list[tuple[str, str]]:
        return [(label, cur) for _, _, links in self.groups for label, _, cur in links if cur]


def sidebar(client, path: str) -> Sidebar:
    response = client.get(path)
    assert response.status_code == 200, path
    return Sidebar(response.get_data(as_text=True))


@pytest.mark.plugins("points", "volunteer")
def test_admin_sees_groups_in_purpose_order_and_the_current_page(client, login_as):
    login_as("admin")
    home = sidebar(client, "/")
    assert home.titles() == ["工作台", "事项", "统计", "积分超市", "志愿服务", "系统管理"]
    # a module whose one entry is named like it is shown once, with no heading over it
    assert [(title, [label for label, _, _ in links]) for title, _, links in home.groups][3:5] == [
        ("", ["积分超市"]), ("", ["志愿服务"])]
    # 待上传 (the phone's offline queue, issue 24) for those who report cases
    assert [label for label, _, _ in home.group("工作台")[1]] == ["工作台", "消息中心", "我的草稿", "待上传"]
    assert [label for label, _, _ in home.group("事项")[1]] == ["事项队列", "办事表单", "回音壁"]
    opened, admin = home.group("系统管理")
    assert opened is False  # folded away until needed
    assert {"组织机构", "用户管理", "表单设计", "流程设计", "插件管理", "工作日历", "审计日志",
            "通知设置", "账户安全"} <= {label for label, _, _ in admin}
    assert home.current() == [("工作台", "page")]

    assert sidebar(client, "/queues").current() == [("事项队列", "page")]
    users = sidebar(client, "/admin/users")
    assert users.group("系统管理")[0] is True and users.current() == [("用户管理", "page")]
    under = sidebar(client, "/admin/users/new")  # a page below an entry marks that entry
    assert under.group("系统管理")[0] is True and under.current() == [("用户管理", "true")]
    assert sidebar(client, "/p/points/").current() == [("积分超市", "page")]


def test_a_grid_worker_sees_only_what_they_may_open(client, login_as):
    login_as("zhangmin")
    nav = sidebar(client, "/")
    links = {label for _, _, group in nav.groups for label, _, _ in group}
    assert {"工作台", "消息中心", "办事表单", "账户安全"} <= links
    assert not links & {"用户管理", "插件管理", "审计日志", "表单设计", "流程设计", "统计分析"}, links
    assert nav.titles()[-1] == "系统管理"  # 账户安全 and 我的通知 live there


def test_a_case_page_marks_the_queue(client, login_as):
    from fengqiao.testing.plugin import submit_form

    number = submit_form(client, "livelihood-request", {  # a resident reports, then staff open it
        "request_type": "help", "summary": "路灯不亮", "content": "5幢门口路灯坏了。",
        "caller_name": "陈德福", "caller_mobile": "13800138000"}, org="339901001001")["case_number"]
    login_as("shenli")
    assert sidebar(client, f"/cases/{number}").current() == [("事项队列", "true")]


def test_signed_out_pages_have_no_sidebar_and_no_script(client, demo):
    for path in ("/login", "/board", "/track"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="sidenav"' not in html and "nav.js" not in html and "has-nav" not in html, path
        assert 'class="topbar"' in html


@pytest.mark.plugins("points")
def test_a_switched_off_plugin_leaves_the_sidebar(app, client, login_as):
    login_as("admin")
    assert "积分超市" in sidebar(client, "/").titles()
    with app.app_context():
        from fengqiao.db import db
        from fengqiao.plugins.state import set_enabled

        set_enabled("points", False)
        db.commit()
    assert "积分超市" not in sidebar(client, "/").titles()


@pytest.mark.plugins("points")
def test_a_plugin_chooses_its_group(app, client, login_as):
    ctx = PluginContext(app, "points")
    ctx.add_menu_item("web.track", "进度查询", group="事项")  # a core group: joins it
    ctx.add_menu_item("web.board", "积分公示", group="公示")  # a new group, before 系统管理
    ctx.add_menu_item("web.form_index", "积分表单")  # default: the plugin's own title
    ctx.add_menu_item("p_points.no_such_page", "无此页")  # a route that never came: left out
    for bad in ("", "  ", "十七个字十七个字十七个字十七个字十"):
        with pytest.raises(ValueError):
            ctx.add_menu_item("web.board", "坏", group=bad)
    login_as("admin")
    nav = sidebar(client, "/")
    assert nav.titles() == ["工作台", "事项", "统计", "积分超市", "公示", "系统管理"]
    assert [label for label, _, _ in nav.group("事项")[1]][-1] == "进度查询"
    assert [label for label, _, _ in nav.group("积分超市")[1]] == ["积分超市", "积分表单"]
