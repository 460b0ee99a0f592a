"""A case's category (类别) and the case types the filters offer.

A case's category is the first of :data:`CATEGORY_FIELDS` present in its form data (网格事件的
事件类别, 12345 的诉求类型, 纠纷类型, 代办事项). The queue, the API list, the export, the
metrics and the 台账 filter by it through :func:`category_of`, and the metrics' category
breakdown and 重复投诉 group by the same expression: one definition, so a category means the
same thing on every page.

The choices (value → title) come from the published forms of each case type: the ``enum``
(titles = values) or ``oneOf`` ``const``/``title`` pairs of the form's category field.
:func:`parse_queue_filters` is :func:`fengqiao.cases.queries.parse_filters` plus the 类别
check (which reads the forms, so it lives here, above ``queries`` and ``case_types``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from fengqiao.cases import queries
from fengqiao.cases.case_types import case_type, known_keys
from fengqiao.cases.queries import CATEGORY_FIELDS, category_of
from fengqiao.cases.workflow import GENERAL
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.forms import store
from fengqiao.models import Form, User

MAX_CATEGORY = 100
__all__ = ["CATEGORY_FIELDS", "category_of", "check_category", "choices", "field_options",
           "filter_types", "options_by_type", "parse_queue_filters"]


def field_options(definition: dict | None) -> list[tuple[str, str]]:
    """(value, title) of a form definition's category field (the first one its schema has)."""
    props = ((definition or {}).get("schema") or {}).get("properties") or {}
    for name in CATEGORY_FIELDS:
        prop = props.get(name)
        if not isinstance(prop, dict):
            continue
        if isinstance(prop.get("oneOf"), list):
            return [(str(o["const"]), str(o.get("title", o["const"])))
                    for o in prop["oneOf"] if isinstance(o, dict) and "const" in o]
        if isinstance(prop.get("enum"), list):
            return [(str(v), str(v)) for v in prop["enum"] if v is not None]
        return []
    return []


def filter_types() -> list[Any]:
    """Every case type cases can have (latest versions, ``CaseType``): shipped, admin-made
    (published) and the generic 通用事项, by key. A key with only an unpublished draft is left
    out (no case has it yet)."""
    found = {}
    for key in [*known_keys(), GENERAL.key]:
        ctype = case_type(key)
        if ctype.key == key:
            found[key] = ctype
    return [found[k] for k in sorted(found)]


def options_by_type() -> dict[str, list[tuple[str, str]]]:
    """Category choices per case type key, from the latest published version of each active
    form that opens cases of that type (a type with two forms gets both lists, merged)."""
    keys = db.scalars(sa.select(Form.key).where(Form.latest_version.is_not(None)).order_by(Form.key))
    found: dict[str, dict[str, str]] = {}
    for form_key in keys:
        published = store.published(form_key)
        if published is None or published[1] is None:
            continue
        definition = published[1].definition
        if definition.get("opens_case") is False:
            continue
        options = field_options(definition)
        if options:
            choices = found.setdefault(definition.get("case_type") or GENERAL.key, {})
            for value, title in options:
                choices.setdefault(value, title)
    return {key: list(choices.items()) for key, choices in sorted(found.items())}


@dataclass(frozen=True)
class CategoryChoices:
    """What the 类别 select offers: per type (for the optgroups and the script that follows
    the type select) and all of them."""

    by_type: dict[str, list[tuple[str, str]]]

    def title(self, value: str | None) -> str | None:
        return next((t for options in self.by_type.values() for v, t in options if v == value), value)

    def values(self, type_: str | None = None) -> set[str]:
        lists = [self.by_type.get(type_, [])] if type_ else self.by_type.values()
        return {v for options in lists for v, _t in options}


def choices() -> CategoryChoices:
    return CategoryChoices(options_by_type())


def check_category(category: str | None, type_: str | None, pointer: str = "/category") -> str | None:
    """The category asked for, or :class:`Invalid` naming the choices (of the type, if given)."""
    category = (category or "").strip()
    if not category:
        return None
    offered = choices()
    if len(category) <= MAX_CATEGORY and category in offered.values(type_):
        return category
    if type_ and category in offered.values():
        titles = "、".join(t for _v, t in offered.by_type.get(type_, [])) or "无"
        raise Invalid([(pointer, f"类别「{offered.title(category)}」不属于所选事项类型（可选：{titles}）",
                        "category_type")])
    shown = category if len(category) <= 20 else category[:20] + "…"
    pool = offered.by_type.get(type_, []) if type_ else [o for opts in offered.by_type.values() for o in opts]
    titles = "、".join(dict.fromkeys(t for _v, t in pool)) or "无"
    raise Invalid([(pointer, f"未知的类别：{shown}（可选：{titles}）", "enum")])


def parse_queue_filters(args: Any, user: User) -> queries.Filters:
    """The queue's filters (:func:`queries.parse_filters`) with ``category`` checked against
    the chosen type's choices; every problem of both at once (422)."""
    problems: list = []
    try:
        filters = queries.parse_filters(args, user)
    except Invalid as failed:
        problems, filters = list(failed.problems), None
    type_ = filters.type_ if filters else ((args.get("type") or "").strip() or None)
    try:
        category = check_category(args.get("category"), type_)
    except Invalid as failed:
        problems += failed.problems
    if problems:
        raise Invalid(problems)
    return replace(filters, category=category)
