"""axe-core in real Chromium on the main pages of every role and module, in the default and
the 适老 (elder) theme: no serious or critical violation (issue 22). Each page also keeps a
visible focus ring (reached through the 跳到正文 link, as a keyboard user does) and does not
scroll sideways at 200 % zoom. A page that test_workspace_pages already runs axe on at the
same size and theme (with a fuller county) is not axe-checked a second time here.
``make browser`` puts axe-core (npm) in .cache/axe; without it the test skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_workspace_pages import PAGES as WORKSPACE_PAGES
from test_workspace_pages import QUEUE_AND_CASE

from fengqiao.testing.plugin import browser_login, submit_form

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.plugins("points", "volunteer", "vanguard", "certificates", "agenda"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

AXE = Path(os.environ.get("FENGQIAO_AXE_JS")
           or Path(__file__).resolve().parents[2] / ".cache/axe/node_modules/axe-core/axe.min.js")
BLOCKING = {"serious", "critical"}

# Who looks at which pages (None: a resident, not signed in); "{case}" is a case in 揽月社区.
PAGES: dict[str | None, list[str]] = {
    None: ["/", "/login", "/forms", "/forms/livelihood-request", "/track", "/board", "/p/points/shelf",
           "/p/certificates/verify"],
    "zhangmin": ["/", "/forms/grid-incident", "/drafts"],  # grid worker
    "shenli": ["/", "/queues", "/cases/{case}", "/inbox", "/p/points/", "/p/volunteer/", "/p/vanguard/",
               "/p/certificates/admin", "/p/agenda/"],
    "ducha": ["/metrics"],
    "admin": ["/admin/forms", "/admin/forms/grid-incident/edit", "/admin/workflows",
              "/admin/workflows/grid_incident/design", "/admin/users", "/admin/notifications"],
}

# (person, path, theme) that test_workspace_pages already runs axe on at this window size, on a
# fuller county (the living demo's cases): axe runs once per page, theme and size, here only on
# the rest; the keyboard and zoom checks still run on every page.
AXED_IN_WORKSPACE = {(person, path, theme) for _name, person, path, theme in WORKSPACE_PAGES + QUEUE_AND_CASE}

# axe.run on the whole document; only violations, each node's selector and what to fix.
RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\\s+/g, ' '))}));
}"""
# The focused element: inside <main>? and how its focus shows (outline or shadow).
FOCUSED = """() => {
  const el = document.activeElement, s = getComputedStyle(el);
  return {inMain: !!el.closest('main'), what: el.outerHTML.slice(0, 90),
          shown: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'};
}"""
ZOOM_200 = {"width": 640, "height": 400}  # a 1280 × 800 window at 200 %


def _keyboard_and_zoom(page, where: str) -> list[str]:
    """Problems a keyboard user or a reader at 200 % meets on the current page."""
    problems = []
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # 跳到正文: the next Tab starts inside <main>
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    if not focused["inMain"]:
        problems.append(f"{where}: 跳到正文 then Tab does not reach the page's content ({focused['what']})")
    elif not focused["shown"]:
        problems.append(f"{where}: no visible focus ring on {focused['what']}")
    page.set_viewport_size(ZOOM_200)
    if page.evaluate("document.documentElement.scrollWidth > innerWidth"):
        problems.append(f"{where}: scrolls sideways at 200 % zoom")
    page.set_viewport_size({"width": 1280, "height": 800})
    return problems


@pytest.mark.parametrize("app_config", [{"theme": "default"}, {"theme": "elder"}], ids=["default", "elder"])
def test_main_pages_pass_axe_keyboard_and_zoom(app_config, demo, bearer, client, live_server, _chromium):
    if not AXE.is_file():
        pytest.skip(f"axe-core not found at {AXE} (`make browser` installs it with npm)")
    incident = {"summary": "湖滨路路灯不亮", "category": "市容环境", "description": "路灯连续三晚不亮。",
                "location": {"address": "湖滨路 18 号"}}
    case = submit_form(client, "grid-incident", incident, headers=bearer("zhangmin"))["case_number"]

    found: dict[tuple[str, str, str], list[str]] = {}  # (impact, rule, node) -> pages
    problems: list[str] = []
    for person, paths in PAGES.items():
        context = _chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        context.add_init_script(path=str(AXE))  # in every document, past the CSP (no inline script)
        page = context.new_page()
        if person:
            browser_login(page, live_server, person)
        for path in paths:
            url = path.format(case=case)
            where = f"{person or '居民'} {url}"
            response = page.goto(f"{live_server}{url}")
            assert response.ok, f"{where}: HTTP {response.status}"
            axed = (person, path, app_config["theme"]) in AXED_IN_WORKSPACE
            for v in [] if axed else page.evaluate(RUN_AXE):
                for node in v["nodes"][:5]:
                    found.setdefault((v["impact"], f"{v['id']} ({v['help']})", node), []).append(where)
            problems += _keyboard_and_zoom(page, where)
        context.close()

    def report(impacts: set[str]) -> str:
        return "\n".join(f"{impact} {rule}\n    {node}\n    on {len(pages)} page(s): {', '.join(pages[:4])}"
                         for (impact, rule, node), pages in sorted(found.items()) if impact in impacts)

    theme = app_config["theme"]
    if minor := report({"moderate", "minor"}):
        print(f"\naxe ({theme}), moderate and minor:\n{minor}")
    blocking = report(BLOCKING)
    assert not (blocking or problems), (f"axe ({theme}), serious and critical:\n{blocking}\n"
                                        f"keyboard and zoom ({theme}):\n" + "\n".join(problems))
