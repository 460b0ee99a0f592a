"""What changed between two versions of a case type, in Chinese, for a side-by-side page.

Pure (definitions in, rows out: no database, no Flask), so the compare page and its tests
share it. Three parts: the type's basics and time limits, states and transitions (each added,
removed or changed, property by property: 标题, 从, 到, 角色, 条件, 效果, 字段, 时限), and a line
diff of the JSON itself for whatever the words do not cover.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from fengqiao.cases.workflow import SLA_NOTIFY_DEFAULTS
from fengqiao.cases.workflow_labels import (
    EFFECT_LABELS,
    GUARD_LABELS,
    LEVEL_LABELS,
    NOTIFY_LABELS,
    ROLE_CHOICES,
    SLA_EVENT_LABELS,
    SLA_NOTIFY_LABELS,
)
from fengqiao.labels import TIER_LABELS

ADDED, REMOVED, CHANGED, SAME, SKIPPED = "added", "removed", "changed", "same", "skipped"
CONTEXT_LINES = 3  # unchanged JSON lines kept around each change
SPAN_UNITS = {"working_days": "个工作日", "working_hours": "工作小时", "hours": "小时", "days": "天",
              "minutes": "分钟"}
BASICS = (("title", "名称"), ("prefix", "编号前缀"), ("org", "适用范围（单位代码）"), ("description", "说明"),
          ("reopen_to", "重办回到"), ("board", "可发布至回音壁"))
KNOWN_TOP = {"key", "workflow", "sla", "checkin", "checkin_minutes", *(k for k, _ in BASICS)}


@dataclass(frozen=True)
class Row:
    """One property in both versions ("" where it is absent)."""

    label: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class ItemChange:
    """A state or transition added, removed or changed; ``rows`` its properties (all of them
    when added or removed, the changed ones otherwise)."""

    kind: str
    key: str
    title: str
    rows: list[Row]


@dataclass(frozen=True)
class LinePair:
    """One line of the side-by-side JSON diff (``kind`` SKIPPED: ``count`` unchanged lines)."""

    kind: str
    old_no: int | None = None
    old: str = ""
    new_no: int | None = None
    new: str = ""
    count: int = 0


@dataclass
class CaseTypeDiff:
    basics: list[Row] = field(default_factory=list)
    states: list[ItemChange] = field(default_factory=list)
    transitions: list[ItemChange] = field(default_factory=list)
    lines: list[LinePair] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.basics or self.states or self.transitions)


# ---- words -------------------------------------------------------------------------------


def span_text(span: Any) -> str:
    """A limit in words: ``{"working_days": 3}`` → 「3 个工作日」."""
    if not isinstance(span, dict) or not span:
        return ""
    unit, amount = next(iter(span.items()))
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)
    return f"{amount} {SPAN_UNITS.get(unit, unit)}"


def _tier(value: str) -> str:
    """A tier value with its usual name: 「紧急（urgent）」; an unknown one as it is."""
    return f"{TIER_LABELS[value]}（{value}）" if value in TIER_LABELS else value


def _tiers_text(tiers: Any) -> str:
    if not isinstance(tiers, dict):
        return ""
    return "；".join(f"{_tier(value)}：{span_text(limit)}" for value, limit in tiers.items())


def _list(codes: Any, labels: dict[str, str]) -> str:
    return "、".join(labels.get(c, c) for c in codes or [])


def _roles(t: dict) -> str:
    text = _list(t.get("roles"), ROLE_CHOICES)
    levels = _list(t.get("levels"), LEVEL_LABELS)
    return f"{text}（限{levels}）" if levels and text else text


def _fields(schema: Any) -> str:
    """A transition's fields: titles, 必填 marked, in order."""
    if not isinstance(schema, dict):
        return ""
    required = set(schema.get("required") or [])
    parts = []
    for name, prop in (schema.get("properties") or {}).items():
        title = prop.get("title", name) if isinstance(prop, dict) else name
        parts.append(f"{title}（必填）" if name in required else str(title))
    return "、".join(parts)


def _step_limit(limit: Any) -> str:
    if not isinstance(limit, dict):
        return ""
    text = f"{limit.get('title', '')} {span_text(limit.get('default'))}".strip()
    tiers = _tiers_text(limit.get("tiers"))
    return f"{text}（按 {limit.get('field')}：{tiers}）" if tiers else text


def _timing(t: dict) -> str:
    """Everything a transition does to the clocks, in one line."""
    parts = []
    if t.get("step_limit"):
        parts.append(f"环节时限 {_step_limit(t['step_limit'])}")
    if t.get("deadline"):
        parts.append(f"重新计时 {span_text(t['deadline'])}")
    if t.get("sla") == "stop":
        parts.append("结束办理计时")
    if t.get("ends_step"):
        parts.append("完成当前环节")
    return "；".join(parts)


def _state_title(states: dict[str, dict], key: str) -> str:
    state = states.get(key)
    return f"{state.get('title', key)}（{key}）" if state else key


def _yes(value: Any) -> str:
    return "是" if value else ""


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


# ---- comparing ---------------------------------------------------------------------------


def _rows(pairs: list[tuple[str, str, str]], changed_only: bool) -> list[Row]:
    rows = [Row(label, old, new) for label, old, new in pairs]
    return [r for r in rows if r.changed] if changed_only else [r for r in rows if r.old or r.new]


def _basics(a: dict, b: dict) -> list[Row]:
    pairs = [(label, _show(a.get(key)), _show(b.get(key))) for key, label in BASICS]
    wa, wb = a.get("workflow", {}), b.get("workflow", {})
    sa_states = {s["key"]: s for s in wa.get("states", [])}
    sb_states = {s["key"]: s for s in wb.get("states", [])}
    pairs.append(("初始状态", _state_title(sa_states, wa.get("initial", "")) if wa.get("initial") else "",
                  _state_title(sb_states, wb.get("initial", "")) if wb.get("initial") else ""))
    la, lb = a.get("sla") or {}, b.get("sla") or {}
    pairs += [
        ("时限：默认", span_text(la.get("default")), span_text(lb.get("default"))),
        ("时限：分级字段", _show(la.get("field")), _show(lb.get("field"))),
    ]
    for tier in sorted({*(la.get("tiers") or {}), *(lb.get("tiers") or {})}):
        pairs.append((f"时限：{_tier(tier)}", span_text((la.get("tiers") or {}).get(tier)),
                      span_text((lb.get("tiers") or {}).get(tier))))
    oa, ob = la.get("override") or {}, lb.get("override") or {}
    pairs += [
        ("时限：优先字段", f"{oa.get('field', '')} {_tiers_text(oa.get('tiers'))}".strip(),
         f"{ob.get('field', '')} {_tiers_text(ob.get('tiers'))}".strip()),
        ("时限：临期提醒", span_text(la.get("due_soon")), span_text(lb.get("due_soon"))),
        ("时限：起算字段", _show(la.get("start_field")), _show(lb.get("start_field"))),
        ("时限：超期升级", _escalation(la.get("escalation")), _escalation(lb.get("escalation"))),
        *((f"时限：{title}时通知", _sla_notify(la, event), _sla_notify(lb, event))
          for event, title in SLA_EVENT_LABELS.items()),
        ("报到时限", _checkin(a), _checkin(b)),
    ]
    for key in sorted((set(a) | set(b)) - KNOWN_TOP):  # vocabulary added later still shows
        pairs.append((f"其他：{key}", _show(a.get(key)), _show(b.get(key))))
    return _rows(pairs, changed_only=True)


def _sla_notify(sla: dict, event: str) -> str:
    """Who hears of the clock's ``event``, as in force: the declared codes, else the defaults."""
    declared = (sla.get("notify") if isinstance(sla.get("notify"), dict) else {}).get(event)
    codes = declared if isinstance(declared, list) else SLA_NOTIFY_DEFAULTS.get(event, ())
    return _list(codes, SLA_NOTIFY_LABELS) or "不通知"


def _escalation(ladder: Any) -> str:
    return "；".join(f"超期 {span_text(step.get('after'))} 后升至{LEVEL_LABELS.get(step.get('level'), step.get('level'))}"
                    for step in ladder or [] if isinstance(step, dict))


def _checkin(data: dict) -> str:
    checkin = data.get("checkin")
    if isinstance(checkin, dict):
        text = span_text(checkin.get("default"))
        tiers = _tiers_text(checkin.get("tiers"))
        return f"{text}（按 {checkin.get('field')}：{tiers}）" if tiers else text
    minutes = data.get("checkin_minutes")
    return f"{minutes} 分钟" if minutes else ""


def _state_pairs(s: dict) -> list[tuple[str, str]]:
    return [("标题", s.get("title", "")), ("终止状态", _yes(s.get("final")))]


def _transition_pairs(t: dict, states: dict[str, dict]) -> list[tuple[str, str]]:
    return [
        ("标题", t.get("title", "")),
        ("从", "、".join(_state_title(states, s) for s in t.get("from", []))),
        ("到", _state_title(states, t.get("to", "")) if t.get("to") else ""),
        ("角色", _roles(t)),
        ("条件", _list(t.get("guards"), GUARD_LABELS)),
        ("效果", _list(t.get("effects"), EFFECT_LABELS)),
        ("通知", _list(t.get("notify"), NOTIFY_LABELS)),
        ("字段", _fields(t.get("fields"))),
        ("时限", _timing(t)),
        ("公开说明", t.get("public_note") or ""),
    ]


def _items(old: dict[str, dict], new: dict[str, dict], describe) -> list[ItemChange]:
    """Added, removed and changed items by key, in the new version's order (removed ones
    after, in the old order)."""
    found = []
    for key, item in new.items():
        after = describe(item, "new")
        if key not in old:
            found.append(ItemChange(ADDED, key, item.get("title", key),
                                    _rows([(label, "", text) for label, text in after], False)))
            continue
        before = describe(old[key], "old")
        rows = _rows([(label, o, n) for (label, o), (_l, n) in zip(before, after, strict=True)], True)
        if rows:
            found.append(ItemChange(CHANGED, key, item.get("title", key), rows))
    for key, item in old.items():
        if key not in new:
            found.append(ItemChange(REMOVED, key, item.get("title", key),
                                    _rows([(label, text, "") for label, text in describe(item, "old")], False)))
    return found


def json_lines(a: dict, b: dict, context: int = CONTEXT_LINES) -> list[LinePair]:
    """The two definitions as indented JSON, line by line side by side; long unchanged runs
    shrink to ``context`` lines either side of a change."""
    old = json.dumps(a, ensure_ascii=False, indent=2).splitlines()
    new = json.dumps(b, ensure_ascii=False, indent=2).splitlines()
    pairs: list[LinePair] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            run = [LinePair(SAME, i1 + k + 1, old[i1 + k], j1 + k + 1, new[j1 + k]) for k in range(i2 - i1)]
            head = 0 if not pairs else context  # lines kept after the change before, before the next
            tail = 0 if i2 == len(old) else context
            if len(run) <= head + tail:
                pairs += run
            else:
                pairs += [*run[:head], LinePair(SKIPPED, count=len(run) - head - tail), *run[len(run) - tail:]]
            continue
        left, right = old[i1:i2], new[j1:j2]
        for k in range(max(len(left), len(right))):
            has_old, has_new = k < len(left), k < len(right)
            kind = CHANGED if has_old and has_new else REMOVED if has_old else ADDED
            pairs.append(LinePair(kind, i1 + k + 1 if has_old else None, left[k] if has_old else "",
                                  j1 + k + 1 if has_new else None, right[k] if has_new else ""))
    return pairs


def diff_definitions(a: dict, b: dict) -> CaseTypeDiff:
    """Version ``a`` (older, left) against ``b`` (right)."""
    wa, wb = a.get("workflow", {}), b.get("workflow", {})
    sa_states = {s["key"]: s for s in wa.get("states", [])}
    sb_states = {s["key"]: s for s in wb.get("states", [])}
    ta = {t["name"]: t for t in wa.get("transitions", [])}
    tb = {t["name"]: t for t in wb.get("transitions", [])}
    return CaseTypeDiff(
        basics=_basics(a, b),
        states=_items(sa_states, sb_states, lambda s, _side: _state_pairs(s)),
        transitions=_items(ta, tb, lambda t, side: _transition_pairs(t, sa_states if side == "old" else sb_states)),
        lines=json_lines(a, b),
    )
