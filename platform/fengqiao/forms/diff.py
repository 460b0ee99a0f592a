"""What changed between two versions of a form definition, and whether it breaks old data.

A change is *breaking* when data valid under the old version may be invalid under the new
one, or when a field's meaning is lost (removed, retyped). Publishing a breaking version
needs ``--allow-breaking``; everything else (labels, help, layout, loosened limits, new
optional fields) is compatible. When unsure, a change is classified as breaking: a false
alarm costs a flag, a missed one costs submissions that no longer validate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from fengqiao.forms.definition import SchemaNode, schema_nodes

# Kinds of change (FieldChange.kind).
FORM_TITLE = "form_title"
FORM_DESCRIPTION = "form_description"
FIELD_ADDED = "field_added"
FIELD_REMOVED = "field_removed"
MADE_REQUIRED = "made_required"
MADE_OPTIONAL = "made_optional"
TYPE_CHANGED = "type_changed"
OPTION_ADDED = "option_added"
OPTION_REMOVED = "option_removed"
OPTION_LABEL = "option_label"
OPTIONS_RESTRICTED = "options_restricted"
OPTIONS_UNRESTRICTED = "options_unrestricted"
CONSTRAINT_TIGHTENED = "constraint_tightened"
CONSTRAINT_LOOSENED = "constraint_loosened"
ADDITIONAL_PROPERTIES = "additional_properties"
CONDITION_CHANGED = "condition_changed"
SCHEMA_CHANGED = "schema_changed"
ANNOTATION = "annotation"
LABEL = "label"
DESCRIPTION = "description"
DEFAULT = "default"
ORDER = "order"
SECTION = "section"
WIDGET = "widget"
HELP = "help"
PLACEHOLDER = "placeholder"
TRIM = "trim"
RELEVANCE = "relevance"  # ui.relevant: when the page shows a field (the schema's if/then is compared too)
ROUTING = "routing"  # case type, intake-only or access: where new submissions go, who may file

ACCESS_TITLES = {"public": "公开（无需登录）", "staff": "工作人员（需登录）"}
INTAKE_TITLE = "不建立事项（仅登记）"
GENERAL_TITLE = "通用事项"

# Upper bounds: lowering one (or adding it) tightens; lower bounds the other way round.
UPPER_BOUNDS = {
    "maxLength": "最大长度",
    "maximum": "最大值",
    "exclusiveMaximum": "上限（不含）",
    "maxItems": "最多项数",
    "maxProperties": "最多属性数",
    "maxContains": "最多包含数",
}
LOWER_BOUNDS = {
    "minLength": "最小长度",
    "minimum": "最小值",
    "exclusiveMinimum": "下限（不含）",
    "minItems": "最少项数",
    "minProperties": "最少属性数",
    "minContains": "最少包含数",
}
# Any new or changed value tightens; removing the keyword loosens.
NEW_RULES = {"pattern": "格式规则 (pattern)", "format": "格式 (format)", "const": "固定取值 (const)"}
# Annotations never change validity.
ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "deprecated",
               "readOnly", "writeOnly", "$schema", "$id", "$anchor"}
# Compared elsewhere: structure (walked as nodes), options, type, required, conditions.
HANDLED = (set(UPPER_BOUNDS) | set(LOWER_BOUNDS) | set(NEW_RULES) | ANNOTATIONS | {
    "type", "enum", "oneOf", "anyOf", "properties", "items", "required",
    "additionalProperties", "multipleOf", "uniqueItems", "dependentRequired",
    "if", "then", "else", "allOf",
})
CONDITION_KEYWORDS = ("if", "then", "else", "allOf", "dependentRequired")

UI_MAPS = {"widgets": (WIDGET, "控件"), "help": (HELP, "帮助文字"),
           "placeholders": (PLACEHOLDER, "占位提示")}


@dataclass(frozen=True)
class FieldChange:
    """One change; ``path`` is a field path (``address.city``, ``members[].name``, ``photos[]``
    for an array's items) or "" for the form itself."""

    path: str
    kind: str
    breaking: bool
    message: str
    routing: bool = False  # new submissions take another workflow (or reach other people)


@dataclass
class FormDiff:
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return any(change.breaking for change in self.changes)

    @property
    def routing(self) -> bool:
        return any(change.routing for change in self.changes)

    def to_json(self) -> list[dict[str, Any]]:
        """As stored with a version; ``routing`` only where true (older rows lack it)."""
        out = []
        for change in self.changes:
            item = asdict(change)
            if not item["routing"]:
                del item["routing"]
            out.append(item)
        return out


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _canon(value: Any) -> str:
    """A hashable, order-stable stand-in for a JSON value (enum values may be lists)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _name(path: str) -> str:
    return path or "表单"


def _types(schema: dict[str, Any]) -> frozenset[str]:
    value = schema.get("type")
    if isinstance(value, str):
        return frozenset([value])
    return frozenset(value) if isinstance(value, list) else frozenset()


def _options(schema: dict[str, Any]) -> dict[str, tuple[Any, Any]] | None:
    """Allowed values keyed canonically, each with its label; None when not a choice field."""
    if isinstance(schema.get("enum"), list):
        return {_canon(v): (v, None) for v in schema["enum"]}
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches and all(
            isinstance(b, dict) and "const" in b for b in branches
        ):
            return {_canon(b["const"]): (b["const"], b.get("title")) for b in branches}
    return None


def _compare_options(path: str, old: dict, new: dict) -> Iterator[FieldChange]:
    before, after = _options(old), _options(new)
    if before is None and after is None:
        for key in ("oneOf", "anyOf"):
            if _canon(old.get(key)) != _canon(new.get(key)):
                yield FieldChange(path, SCHEMA_CHANGED, True, f"{_name(path)} 的 {key} 规则已修改")
        return
    if before is None:
        yield FieldChange(path, OPTIONS_RESTRICTED, True, f"{_name(path)} 改为只能从给定选项中选择")
        return
    if after is None:
        yield FieldChange(path, OPTIONS_UNRESTRICTED, False, f"{_name(path)} 不再限定选项")
        return
    for key, (value, _label) in before.items():
        if key not in after:
            yield FieldChange(path, OPTION_REMOVED, True, f"{_name(path)} 删除了选项 {_show(value)}")
    for key, (value, _label) in after.items():
        if key not in before:
            yield FieldChange(path, OPTION_ADDED, False, f"{_name(path)} 新增了选项 {_show(value)}")
        elif before[key][1] != after[key][1]:
            yield FieldChange(
                path, OPTION_LABEL, False,
                f"{_name(path)} 的选项 {_show(value)} 显示名称由 {_show(before[key][1])} "
                f"改为 {_show(after[key][1])}",
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare_bound(path: str, label: str, old: Any, new: Any, upper: bool) -> FieldChange:
    """A change of one numeric bound; a non-numeric value counts as tightened."""
    name = _name(path)
    if new is None:
        return FieldChange(path, CONSTRAINT_LOOSENED, False, f"{name} 取消了{label}限制（原为 {old}）")
    if old is None:
        return FieldChange(path, CONSTRAINT_TIGHTENED, True, f"{name} 新增{label}限制 {new}")
    if not (_is_number(old) and _is_number(new)):
        return FieldChange(path, CONSTRAINT_TIGHTENED, True, f"{name} 的{label}由 {old} 改为 {new}")
    tightened = new < old if upper else new > old
    kind = CONSTRAINT_TIGHTENED if tightened else CONSTRAINT_LOOSENED
    verb = ("降为" if new < old else "提高到")
    return FieldChange(path, kind, tightened, f"{name} 的{label}由 {old} {verb} {new}")


def _compare_constraints(path: str, old: dict, new: dict) -> Iterator[FieldChange]:
    name = _name(path)
    for bounds, upper in ((UPPER_BOUNDS, True), (LOWER_BOUNDS, False)):
        for kw, label in bounds.items():
            if old.get(kw) != new.get(kw):
                yield _compare_bound(path, label, old.get(kw), new.get(kw), upper)
    for kw, label in NEW_RULES.items():
        before, after = old.get(kw), new.get(kw)
        if _canon(before) == _canon(after):
            continue
        if kw not in new:
            yield FieldChange(path, CONSTRAINT_LOOSENED, False, f"{name} 取消了{label} {_show(before)}")
        elif kw not in old:
            yield FieldChange(path, CONSTRAINT_TIGHTENED, True, f"{name} 新增{label} {_show(after)}")
        else:
            yield FieldChange(
                path, CONSTRAINT_TIGHTENED, True,
                f"{name} 的{label}由 {_show(before)} 改为 {_show(after)}",
            )
    yield from _compare_multiple_of(path, old.get("multipleOf"), new.get("multipleOf"))
    if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
        if new.get("uniqueItems"):
            yield FieldChange(path, CONSTRAINT_TIGHTENED, True, f"{name} 改为各项不能重复")
        else:
            yield FieldChange(path, CONSTRAINT_LOOSENED, False, f"{name} 不再要求各项不重复")


def _compare_multiple_of(path: str, old: Any, new: Any) -> Iterator[FieldChange]:
    if old == new:
        return
    name = _name(path)
    if new is None:
        yield FieldChange(path, CONSTRAINT_LOOSENED, False, f"{name} 取消了倍数限制（原为 {old}）")
    elif old is None:
        yield FieldChange(path, CONSTRAINT_TIGHTENED, True, f"{name} 新增倍数限制 {new}")
    else:
        # Every multiple of ``old`` is a multiple of ``new`` exactly when old / new is whole.
        ratio = old / new if _is_number(old) and _is_number(new) and new else 0.5
        loosened = float(ratio).is_integer()
        kind = CONSTRAINT_LOOSENED if loosened else CONSTRAINT_TIGHTENED
        yield FieldChange(path, kind, not loosened, f"{name} 的倍数限制由 {old} 改为 {new}")


def _compare_object(path: str, old: dict, new: dict) -> Iterator[FieldChange]:
    name = _name(path)
    before, after = old.get("additionalProperties"), new.get("additionalProperties")
    if _canon(before) != _canon(after):
        if after is False:
            yield FieldChange(path, ADDITIONAL_PROPERTIES, True, f"{name} 改为不允许未声明的字段")
        elif before is False and after in (None, True):
            yield FieldChange(path, ADDITIONAL_PROPERTIES, False, f"{name} 改为允许未声明的字段")
        else:
            yield FieldChange(path, SCHEMA_CHANGED, True, f"{name} 的 additionalProperties 已修改")


def _compare_node(path: str, old: dict, new: dict) -> Iterator[FieldChange]:
    """Keyword changes of one place in the schema that exists in both versions."""
    name = _name(path)
    if _types(old) != _types(new):
        yield FieldChange(
            path, TYPE_CHANGED, True,
            f"{name} 的类型由 {'/'.join(sorted(_types(old))) or '未指定'} "
            f"改为 {'/'.join(sorted(_types(new))) or '未指定'}",
        )
    yield from _compare_options(path, old, new)
    yield from _compare_constraints(path, old, new)
    yield from _compare_object(path, old, new)
    yield from _compare_conditions(path, old, new)
    for kw, kind, label in (("title", LABEL, "名称"), ("description", DESCRIPTION, "说明"),
                            ("default", DEFAULT, "默认值")):
        if _canon(old.get(kw)) != _canon(new.get(kw)):
            yield FieldChange(
                path, kind, False,
                f"{name} 的{label}由 {_show(old.get(kw))} 改为 {_show(new.get(kw))}",
            )
    for kw in sorted((set(old) | set(new)) - HANDLED - {"required"}):
        if _canon(old.get(kw)) != _canon(new.get(kw)):
            yield FieldChange(path, SCHEMA_CHANGED, True, f"{name} 的 {kw} 规则已修改")
    for kw in sorted((set(old) | set(new)) & (ANNOTATIONS - {"title", "description", "default"})):
        if _canon(old.get(kw)) != _canon(new.get(kw)):
            yield FieldChange(path, ANNOTATION, False, f"{name} 的 {kw} 已修改")


def _compare_conditions(path: str, old: dict, new: dict) -> Iterator[FieldChange]:
    """Conditions of an object; too varied to order, so any change is breaking
    (conservative), except dependentRequired, whose entries compare one by one."""
    if any(_canon(old.get(k)) != _canon(new.get(k)) for k in CONDITION_KEYWORDS[:4]):
        yield FieldChange(
            path, CONDITION_CHANGED, True, f"{_name(path)} 的条件规则 (if/then/else/allOf) 已修改"
        )
    before, after = _dependent(old), _dependent(new)
    for trigger, dep in sorted(after - before):
        dep_path, trigger_path = _join(path, dep), _join(path, trigger)
        yield FieldChange(
            dep_path, CONSTRAINT_TIGHTENED, True, f"{dep_path} 改为在填写 {trigger_path} 后必填"
        )
    for trigger, dep in sorted(before - after):
        dep_path, trigger_path = _join(path, dep), _join(path, trigger)
        yield FieldChange(
            dep_path, CONSTRAINT_LOOSENED, False, f"{dep_path} 不再因填写 {trigger_path} 而必填"
        )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _dependent(schema: dict) -> set[tuple[str, str]]:
    value = schema.get("dependentRequired")
    if not isinstance(value, dict):
        return set()
    return {(t, d) for t, deps in value.items() if isinstance(deps, list) for d in deps}


def _is_under(path: str, parents: set[str]) -> bool:
    return any(path.startswith(p + ".") or path.startswith(p + "[]") for p in parents)


def _compare_schemas(old: dict, new: dict) -> Iterator[FieldChange]:
    before: dict[str, SchemaNode] = {n.path: n for n in schema_nodes(old)}
    after: dict[str, SchemaNode] = {n.path: n for n in schema_nodes(new)}
    yield from _compare_node("", old, new)
    gone: set[str] = set()
    for path, node in before.items():
        if path in after or _is_under(path, gone):
            continue
        gone.add(path)
        if node.kind == "property":
            yield FieldChange(path, FIELD_REMOVED, True, f"删除字段 {path}（已有数据中的该项将无处显示）")
        else:
            yield FieldChange(path, SCHEMA_CHANGED, True, f"{path} 的列表项定义 (items) 被删除")
    for path, node in after.items():
        if path in before or _is_under(path, gone):
            continue
        gone.add(path)  # children of a new field are reported with it
        if node.kind == "items":
            yield FieldChange(path, CONSTRAINT_TIGHTENED, True, f"{path} 新增列表项定义 (items)")
        elif node.required:
            yield FieldChange(path, FIELD_ADDED, True, f"新增必填字段 {path}（已有数据缺少该项）")
        else:
            yield FieldChange(path, FIELD_ADDED, False, f"新增可选字段 {path}")
    for path, node in before.items():
        if path not in after:
            continue
        other = after[path]
        if other.required and not node.required:
            yield FieldChange(path, MADE_REQUIRED, True, f"{path} 改为必填")
        elif node.required and not other.required:
            yield FieldChange(path, MADE_OPTIONAL, False, f"{path} 改为选填")
        yield from _compare_node(path, node.schema, other.schema)


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _compare_ui(old: dict, new: dict, skip: set[str]) -> Iterator[FieldChange]:
    """Presentation only: always compatible. Entries of added/removed fields are skipped
    (the field change already says it)."""
    if _names(old.get("order")) != _names(new.get("order")):
        yield FieldChange("", ORDER, False, "字段显示顺序已调整")
    if _canon(old.get("sections")) != _canon(new.get("sections")):
        yield FieldChange("", SECTION, False, "分组已调整")
    for key, (kind, label) in UI_MAPS.items():
        before = old.get(key) if isinstance(old.get(key), dict) else {}
        after = new.get(key) if isinstance(new.get(key), dict) else {}
        for name in [*before, *(n for n in after if n not in before)]:
            if name in skip or _is_under(name, skip) or before.get(name) == after.get(name):
                continue
            yield FieldChange(
                name, kind, False,
                f"{name} 的{label}由 {_show(before.get(name))} 改为 {_show(after.get(name))}",
            )
    before_rel = old.get("relevant") if isinstance(old.get("relevant"), dict) else {}
    after_rel = new.get("relevant") if isinstance(new.get("relevant"), dict) else {}
    for name in [*before_rel, *(n for n in after_rel if n not in before_rel)]:
        if name in skip or _is_under(name, skip) or _canon(before_rel.get(name)) == _canon(after_rel.get(name)):
            continue
        verb = "新增" if name not in before_rel else "取消了" if name not in after_rel else "修改了"
        yield FieldChange(name, RELEVANCE, False, f"{name} {verb}显示条件（ui.relevant）")
    before_trim, after_trim = set(_names(old.get("trim"))), set(_names(new.get("trim")))
    for name in sorted(after_trim - before_trim):
        if name not in skip and not _is_under(name, skip):
            yield FieldChange(name, TRIM, False, f"{name} 改为去除首尾空格")
    for name in sorted(before_trim - after_trim):
        if name in skip or _is_under(name, skip):
            continue
        yield FieldChange(name, TRIM, False, f"{name} 不再去除首尾空格")


def _route(definition: dict[str, Any], type_title: Callable[[str | None], str] | None) -> str:
    """Where a definition's submissions go, in words: its case type, or intake only."""
    if definition.get("opens_case") is False:
        return INTAKE_TITLE
    key = definition.get("case_type")
    if type_title is not None:
        return type_title(key)
    return key or GENERAL_TITLE


def _routing_changes(old: dict[str, Any], new: dict[str, Any],
                     type_title: Callable[[str | None], str] | None) -> Iterator[FieldChange]:
    """A changed case type (or intake-only) sends new cases to another workflow, a changed
    access lets other people file: compatible with old data, yet flagged for the admin."""
    before_key = (old.get("case_type"), old.get("opens_case") is False)
    after_key = (new.get("case_type"), new.get("opens_case") is False)
    if before_key != after_key:
        yield FieldChange("", ROUTING, False,
                          f"办理流程：{_route(old, type_title)} → {_route(new, type_title)}", routing=True)
    if old.get("access") != new.get("access"):
        before = ACCESS_TITLES.get(old.get("access"), _show(old.get("access")))
        after = ACCESS_TITLES.get(new.get("access"), _show(new.get("access")))
        yield FieldChange("", ROUTING, False, f"填写权限：{before} → {after}", routing=True)


def diff_definitions(old: dict[str, Any], new: dict[str, Any],
                     type_title: Callable[[str | None], str] | None = None) -> FormDiff:
    """Classify every change from ``old`` to ``new`` (definition dicts: title, schema, ui …).
    ``type_title`` names a case type key (None: no ``case_type``) for the routing change;
    without it the keys are shown."""
    changes: list[FieldChange] = list(_routing_changes(old, new, type_title))
    for kw, kind, label in (("title", FORM_TITLE, "表单名称"),
                            ("description", FORM_DESCRIPTION, "表单说明")):
        if old.get(kw) != new.get(kw):
            changes.append(FieldChange(
                "", kind, False, f"{label}由 {_show(old.get(kw))} 改为 {_show(new.get(kw))}"
            ))
    old_schema = old.get("schema") if isinstance(old.get("schema"), dict) else {}
    new_schema = new.get("schema") if isinstance(new.get("schema"), dict) else {}
    changes += _compare_schemas(old_schema, new_schema)
    added_or_removed = {
        c.path for c in changes if c.kind in (FIELD_ADDED, FIELD_REMOVED)
    }
    old_ui = old.get("ui") if isinstance(old.get("ui"), dict) else {}
    new_ui = new.get("ui") if isinstance(new.get("ui"), dict) else {}
    changes += _compare_ui(old_ui, new_ui, added_or_removed)
    return FormDiff(changes)
