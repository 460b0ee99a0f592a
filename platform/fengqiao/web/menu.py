"""The staff navigation: menu entries grouped by purpose for the sidebar (issue 22).

Entries live in ``app.extensions["fengqiao.menu"]`` as :class:`MenuItem` rows (the core's
``CORE_MENU`` first, then what plugins add with ``ctx.add_menu_item``). A group is named by
its Chinese title; the core groups keep a fixed order, a plugin's own group comes after them
and 系统管理 (collapsed unless the current page is in it) always comes last.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import current_app, has_request_context, request, url_for
from flask_login import current_user

WORKBENCH = "工作台"
CASES = "事项"
STATS = "统计"
ADMIN = "系统管理"
CORE_GROUPS = (WORKBENCH, CASES, STATS)  # before the modules' groups; ADMIN after them

# Paths of pages no entry links to, highlighted as the entry they belong to.
SECTION_OF = {"/cases/": "web.queue"}


class MenuItem(NamedTuple):
    endpoint: str
    label: str
    permission: str | None = None  # None: every signed-in user
    group: str = CASES
    icon: str = ""  # one character shown when the sidebar is folded; default: the label's first


def _entries() -> list[MenuItem]:
    """Entries the signed-in user may open; entries of switched-off plugins are hidden."""
    if not current_user.is_authenticated:
        return []
    from fengqiao.plugins.state import disabled_names

    owners = current_app.extensions.get("fengqiao.menu_owner", {})
    off = disabled_names() if owners else set()
    routes = current_app.view_functions  # an entry without its route would break every page
    return [
        MenuItem(*entry)
        for entry in current_app.extensions.get("fengqiao.menu", [])
        if entry[0] in routes and (entry[2] is None or current_user.can(entry[2]))
        and owners.get(entry[0]) not in off
    ]


def visible_menu() -> list[tuple[str, str]]:
    """``(endpoint, label)`` of every entry the user may open, in registration order."""
    return [(item.endpoint, item.label) for item in _entries()]


def _current(links: list[dict]) -> None:
    """Mark the link of this page ``page`` and, failing that, the link of the section the
    page is under (the longest URL prefix, or ``SECTION_OF``) ``true``: one mark at most."""
    endpoint, path = request.endpoint, request.path
    for link in links:
        if link["endpoint"] == endpoint:
            link["current"] = "page"
            return
    best, length = None, 0
    for link in links:
        base = link["url"].rstrip("/")
        if base and path.startswith(base + "/") and len(base) > length:
            best, length = link, len(base)
    if best is None:
        section = next((e for prefix, e in SECTION_OF.items() if path.startswith(prefix)), None)
        best = next((link for link in links if link["endpoint"] == section), None)
    if best is not None:
        best["current"] = "true"


def menu_groups() -> list[dict]:
    """The sidebar: ``[{title, admin, solo, current, items: [{endpoint, label, url, icon, current}]}]``
    in display order; ``current`` is ``"page"``, ``"true"`` (a page under it) or ``None``;
    ``solo``: a module's one entry named like its group, shown without the heading (居民议事 once,
    not twice)."""
    groups: dict[str, list[dict]] = {}
    links = []
    for item in _entries():
        link = {"endpoint": item.endpoint, "label": item.label, "url": url_for(item.endpoint),
                "icon": item.icon or item.label[:1], "current": None}
        groups.setdefault(item.group or CASES, []).append(link)
        links.append(link)
    if has_request_context():
        _current(links)
    order = [g for g in CORE_GROUPS if g in groups]
    order += [g for g in groups if g not in CORE_GROUPS and g != ADMIN]
    order += [ADMIN] if ADMIN in groups else []
    return [
        {"title": title, "admin": title == ADMIN, "items": groups[title],
         "solo": title not in CORE_GROUPS and len(groups[title]) == 1 and groups[title][0]["label"] == title,
         "current": any(link["current"] for link in groups[title])}
        for title in order
    ]
