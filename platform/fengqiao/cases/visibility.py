"""Fields a form hides from the handling unit (``ui.hidden_from_handler``): who sees them.

The one place that decides it. The case page, the API detail, the reveal, the submissions
export, the attachment download and the phone-tail search all ask here, so a view cannot
forget the rule.

- **The accepting level** of a case is every *territorial* unit at the mark's
  ``accepting_level`` (``county`` by default; ``street`` allowed) or higher whose subtree
  holds the case's own unit (in the demo county 云澜县 itself: ducha, the county
  supervisor), and a dispatch centre (``cases.routing.dispatch_centres``: the 12345 centre a
  form names as its ``accepting_unit``) for the cases that landed at it — the centre took the
  call and dispatches it; any other department sees only what is dispatched to it.
- **The handling unit** is everybody else who can see the case: its own unit and the units
  below it (community staff, grid workers), the street in between (with the default level),
  and any department or unit it was dispatched, transferred or summoned to.

A hidden field shows as ``******`` to the handling unit on every view and export, is never
revealed to it (403, audited) and does not make the case findable by the phone tail. The
accepting level sees the usual masking and may reveal with a reason like any personal field.
"""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao import caches
from fengqiao.accounts.roles import permissions_for
from fengqiao.cases.routing import dispatch_centres
from fengqiao.db import current_session
from fengqiao.forms import store
from fengqiao.forms.display import masking_definition
from fengqiao.masking import ACCEPTING_LEVELS, HiddenRule, hidden_fields, hidden_rules, hide
from fengqiao.models import Case, Form, FormVersion, OrgUnit
from fengqiao.models.orgs import OrgLevel
from fengqiao.orgs.scope import Scope

VIEW, REVEAL = "cases.view", "cases.reveal"


def accepting_scope(user, level: str, permission: str = VIEW) -> Scope:
    """Subtrees where ``user`` holds ``permission`` through a territorial unit at ``level``
    or higher (a case inside one was accepted there)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope(())
    rank = OrgLevel(level).rank
    centres = dispatch_centres()
    return Scope(tuple(sorted({
        m.org.path for m in user.memberships
        if m.org.active and permission in permissions_for(m.role) and (
            (m.org.kind == "territorial" and OrgLevel(m.org.level).rank <= rank)
            or m.org.code in centres)  # a 12345 centre accepted the cases that landed at it
    })))


def _definitions(form_key: str | None, number: int | None) -> tuple[dict | None, dict | None]:
    """The submission's version and the form's latest (both carry marks that count)."""
    if not form_key:
        return None, None
    found = store.published(form_key, number)
    latest = store.published(form_key)
    return (found[1].definition if found and found[1] else None,
            latest[1].definition if latest and latest[1] else None)


def withheld(user, org_path: str, data, *definitions: dict | None, permission: str = VIEW) -> frozenset[str]:
    """The ui paths of ``data`` (a case of the unit at ``org_path``) hidden from ``user``."""
    paths, level = hidden_fields(data, *definitions)
    if not paths or accepting_scope(user, level, permission).contains(org_path):
        return frozenset()
    return paths


def case_withheld(case: Case, user, permission: str = VIEW) -> frozenset[str]:
    return withheld(user, case.org.path, case.data, *_definitions(case.form_key, case.form_version),
                    permission=permission)


def case_definition(case: Case, user, permission: str = VIEW) -> dict | None:
    """The definition ``case`` is shown to ``user`` with: its labels, the personal marks of
    its version and the latest, and the fields hidden from ``user`` marked hidden.
    ``permission`` ``cases.reveal`` answers for a reveal (the accepting level must hold it)."""
    definition = masking_definition(case.form_key, case.form_version)
    if definition is None:
        return None
    return hide(definition, case_withheld(case, user, permission))


def _values_at(data, path: str) -> list:
    """The values at a ui path (``who``, ``who.mobile``, ``parties[].photo``) of ``data``."""
    found = [data]
    for part in path.split("."):
        name, many = (part[:-2], True) if part.endswith("[]") else (part, False)
        found = [d.get(name) for d in found if isinstance(d, dict)]
        if many:
            found = [item for d in found if isinstance(d, list) for item in d]
    return [v for v in found if v is not None]


def _strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    return set().union(*(_strings(v) for v in value)) if isinstance(value, list) else set()


def withheld_attachments(case: Case, user) -> set[str]:
    """Ids of the files held in fields hidden from ``user`` (not listed, not downloadable)."""
    return {s for path in case_withheld(case, user) for v in _values_at(case.data, path) for s in _strings(v)}


# ---- search: a hidden phone number does not find the case ------------------------------------


def _all_rules() -> tuple[tuple[str, HiddenRule], ...]:
    """(form key, mark) of every published version that has one; in the ``forms`` cache
    (:mod:`fengqiao.caches`) until a form or version changes."""
    session = current_session()

    def load() -> tuple[tuple[str, HiddenRule], ...]:
        rows = session.execute(sa.select(Form.key, FormVersion.definition)
                               .join(Form, FormVersion.form_id == Form.id).order_by(FormVersion.id))
        return tuple(dict.fromkeys((key, rule) for key, definition in rows for rule in hidden_rules(definition)))

    return caches.cached(session, caches.FORMS, "hidden_rules", load)


def _applies(key: str, rule: HiddenRule):
    """SQL: a case of form ``key`` whose data meets the rule's condition (NULL counts as no)."""
    conditions = []
    for name, values in rule.when:
        texts = [v for v in values if isinstance(v, str)]
        flags = [v for v in values if isinstance(v, bool)]
        if texts:
            conditions.append(Case.data[name].as_string().in_(texts))
        for flag in flags:
            conditions.append(Case.data[name].as_boolean() == flag)
    matched = sa.or_(*conditions) if conditions else sa.true()
    return sa.func.coalesce(sa.and_(Case.form_key == key, matched), sa.false())


def tail_searchable(user):
    """SQL condition on a case query joined to its unit (``OrgUnit``): the case may be found
    by the reporter's phone tail — no mark hides its data from ``user``."""
    clauses = []
    for key, rule in _all_rules():
        scope = accepting_scope(user, rule.accepting_level)
        clauses.append(sa.or_(sa.not_(_applies(key, rule)), scope.clause(OrgUnit.path)))
    return sa.and_(*clauses) if clauses else sa.true()


__all__ = ["ACCEPTING_LEVELS", "accepting_scope", "case_definition", "case_withheld", "tail_searchable",
           "withheld", "withheld_attachments"]
