"""Plugin panels on the staff case page (``ctx.add_case_panel``): each a tab of its own.

The case page calls ``case_panels`` only after its own scope check passed. A panel is shown
while its plugin is on, to a viewer holding the panel's permission over the case's unit (as
the page's other rights: ``cases.reveal``, the actions); the plugin's ``render`` may narrow
further and answer None (no tab). ``render`` gets a ``CaseSummary``, never the ``Case``.
A panel that raises is logged and shows 「该部分暂时无法显示」: it runs in a savepoint, so a
failed query neither breaks the page nor leaves the request's transaction aborted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup

from fengqiao.cases.summary import CaseSummary
from fengqiao.db import db
from fengqiao.orgs.scope import scope_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShownPanel:
    key: str  # the section's id (the tab's anchor)
    title: str
    html: Markup | None  # None: the panel failed (the page says 「该部分暂时无法显示」)


def case_panels(case, user) -> list[ShownPanel]:
    """The panels of active plugins that ``user`` may see on ``case`` and that have something
    to show, in registration order."""
    panels = current_app.extensions.get("fengqiao.case_panels", [])
    if not panels:
        return []
    from fengqiao.plugins.state import disabled_names

    off = disabled_names()
    summary = CaseSummary.of(case)
    shown = []
    for panel in panels:
        if panel.plugin in off or panel.plugin not in current_app.extensions.get("fengqiao.plugins", {}):
            continue
        if panel.permission and not scope_for(user, panel.permission).contains(case.org.path):
            continue
        try:
            with db.begin_nested():
                html = panel.render(summary)
        except Exception:  # one plugin's broken panel must not break the case page
            log.exception("case panel %s.%s failed on %s", panel.plugin, panel.name, case.number)
            shown.append(ShownPanel(panel.key, panel.title, None))
            continue
        if html is not None and str(html).strip():
            shown.append(ShownPanel(panel.key, panel.title, Markup(html)))
    return shown
