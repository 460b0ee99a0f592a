"""``ui.relevant``: when the form page shows a question, as a small expression tree.

A definition's conditions live in its JSON Schema (``if``/``then``/``else`` blocks), which the
server validates; the page's own reader (``schema_tools._conditions``) understands only "one
field equals one of some values", and a cross-field constraint is an ``if`` block too, so a
complex 相关 of a form designed in Excel (``fengqiao.forms.xlsform``) is also written here,
keyed by the field's path (``needs_note``, ``members[].employer``)::

    {"and": [{"field": "needs", "op": "selected", "value": "medical"},
             {"field": "age", "op": ">=", "value": 60}]}

Nodes: ``{"and": [...]}``, ``{"or": [...]}``, ``{"not": node}`` and tests of one field of the
same object: ``op`` ``= != < <= > >=`` with a ``value`` (``"of": "length"|"count"`` compares
a text's length or a list's size), ``selected`` (a choice is, or a multiple choice holds,
``value``), ``filled``/``empty`` and ``regex``. Semantics are the schema's on the submitted
data: an empty value is absent, a test of an absent field is false (``!=`` and ``empty`` are
true). ``static/form-rules.js`` (``FqRules.relevant``) evaluates the same tree in the browser;
:func:`holds` is its Python twin (tests keep them in step).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 8  # nesting of and/or/not
MAX_NODES = 64  # nodes in one field's tree
MAX_ITEMS = 20  # operands of one and/or
MAX_TEXT = 200  # characters of a compared text or a pattern
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
OPS = (*COMPARISONS, "selected", "filled", "empty", "regex")
MEASURES = ("length", "count")


# ---- evaluation --------------------------------------------------------------------------


def _absent(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    """JSON equality of scalars: 1 == 1.0, but true is no number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return _equal(left, right)
    if not (_is_number(left) and _is_number(right)):
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def holds(tree: dict[str, Any], scope: dict[str, Any]) -> bool:
    """Whether ``tree`` holds for ``scope``, the (normalised) object holding the field."""
    if "and" in tree:
        return all(holds(t, scope) for t in tree["and"])
    if "or" in tree:
        return any(holds(t, scope) for t in tree["or"])
    if "not" in tree:
        return not holds(tree["not"], scope)
    value = scope.get(tree["field"]) if isinstance(scope, dict) else None
    op = tree["op"]
    if op == "empty":
        return _absent(value)
    if op == "!=":
        return not holds({**tree, "op": "="}, scope)
    if _absent(value):
        return False
    if op == "filled":
        return True
    if op == "selected":
        return any(_equal(v, tree["value"]) for v in value) if isinstance(value, list) else _equal(value, tree["value"])
    if op == "regex":
        return isinstance(value, str) and re.search(tree["value"], value) is not None
    measure = tree.get("of")
    if measure == "length":
        value = len(value) if isinstance(value, str) else None
    elif measure == "count":
        value = len(value) if isinstance(value, list) else None
    return value is not None and _compare(op, value, tree["value"])


def references(tree: dict[str, Any]) -> list[str]:
    """The field names a tree tests, once each."""
    found: list[str] = []
    for node in _walk(tree):
        if isinstance(node.get("field"), str) and node["field"] not in found:
            found.append(node["field"])
    return found


def _walk(tree: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(tree, dict):
        return
    yield tree
    for key in ("and", "or"):
        if isinstance(tree.get(key), list):
            for child in tree[key]:
                yield from _walk(child)
    if "not" in tree:
        yield from _walk(tree["not"])


# ---- checking a definition's ui.relevant --------------------------------------------------


def _kind(prop: Any) -> str:
    """What a referenced field holds: choice, multiple, number, boolean, string, array, other."""
    if not isinstance(prop, dict):
        return "other"
    if _choices(prop) is not None:
        return "choice"
    typ = prop.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    if typ == "array":
        items = prop.get("items")
        return "multiple" if isinstance(items, dict) and _choices(items) is not None else "array"
    if typ in ("integer", "number"):
        return "number"
    return typ if typ in ("boolean", "string") else "other"


def _choices(prop: dict[str, Any]) -> list[Any] | None:
    if isinstance(prop.get("enum"), list):
        return prop["enum"]
    options = prop.get("oneOf")
    if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
        return [o["const"] for o in options]
    return None


def _siblings(path: str, known: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The properties of the object holding the field at ``path`` (None: no such field)."""
    if path not in known:
        return None
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    if not parent:
        holder = schema
    elif parent.endswith("[]"):
        holder = known.get(parent[:-2], {}).get("items", {})
    else:
        holder = known.get(parent, {})
    props = holder.get("properties") if isinstance(holder, dict) else None
    return props if isinstance(props, dict) else {}


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Checker:
    def __init__(self, path: str, siblings: dict[str, Any], where: list[Any]):
        self.name = path.rsplit(".", 1)[-1]
        self.siblings = siblings
        self.where = where
        self.nodes = 0
        self.found: list[tuple[list[Any], str]] = []

    def problem(self, at: list[Any], message: str) -> None:
        self.found.append(([*self.where, *at], message))

    def node(self, tree: Any, at: list[Any], depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.problem([], f"显示条件过于复杂：最多 {MAX_NODES} 个条件项")
            return
        if depth > MAX_DEPTH:
            self.problem(at, f"显示条件嵌套过深：最多 {MAX_DEPTH} 层")
            return
        if not isinstance(tree, dict):
            self.problem(at, "显示条件应为对象，如 {\"field\": \"age\", \"op\": \">=\", \"value\": 60}")
            return
        for key in ("and", "or"):
            if key in tree:
                self.group(tree, key, at, depth)
                return
        if "not" in tree:
            if set(tree) != {"not"}:
                self.problem(at, "not 条件只能有 not 一个键")
            else:
                self.node(tree["not"], [*at, "not"], depth + 1)
            return
        self.test(tree, at)

    def group(self, tree: dict[str, Any], key: str, at: list[Any], depth: int) -> None:
        items = tree[key]
        if set(tree) != {key}:
            self.problem(at, f"{key} 条件只能有 {key} 一个键")
        elif not isinstance(items, list) or not items:
            self.problem([*at, key], f"{key} 应为非空列表")
        elif len(items) > MAX_ITEMS:
            self.problem([*at, key], f"{key} 最多 {MAX_ITEMS} 项")
        else:
            for i, child in enumerate(items):
                self.node(child, [*at, key, i], depth + 1)

    def test(self, tree: dict[str, Any], at: list[Any]) -> None:
        unknown = sorted(set(tree) - {"field", "op", "value", "of"})
        if unknown:
            self.problem([*at, unknown[0]], f"不认识的键 {unknown[0]}（可用：field、op、value、of，或 and、or、not）")
            return
        field, op = tree.get("field"), tree.get("op")
        if not isinstance(field, str) or not field:
            self.problem(at, "缺少要判断的字段 field")
            return
        if op not in OPS:
            self.problem([*at, "op"], f"不支持的比较 {_show(op)}（可用：{'、'.join(OPS)}）")
            return
        if field == self.name:
            self.problem([*at, "field"], f"字段 {field} 的显示条件不能判断它自己")
            return
        if field not in self.siblings:
            self.problem([*at, "field"], f"显示条件引用了不存在的字段 {field}（只能引用同一层级的字段）")
            return
        kind = _kind(self.siblings[field])
        if op in ("filled", "empty"):
            if set(tree) - {"field", "op"}:
                self.problem(at, f"{op} 不需要 value 或 of")
            return
        if "value" not in tree:
            self.problem(at, f"{op} 需要比较的取值 value")
            return
        message = self.value_problem(tree, op, kind, field)
        if message:
            self.problem([*at, "value"], message)

    def value_problem(self, tree: dict[str, Any], op: str, kind: str, field: str) -> str | None:
        value, measure = tree["value"], tree.get("of")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return f"取值过长：最多 {MAX_TEXT} 个字符"
        if measure is not None:
            if measure not in MEASURES or op not in COMPARISONS or op == "!=":
                return "of 只能是 length（文字长度）或 count（选择或上传的个数），且不能用 != 比较"
            wanted = "string" if measure == "length" else "array"
            if (kind if kind != "multiple" else "array") != wanted and not (measure == "length" and kind == "choice"):
                return f"字段 {field} 不能比较{'长度' if measure == 'length' else '个数'}"
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return "长度或个数只能与非负整数比较"
            return None
        if op == "regex":
            if kind != "string" or not isinstance(value, str):
                return f"regex 只能用于文字题（{field}）"
            try:
                re.compile(value)
            except re.error:
                return f"正则表达式无效：{value}"
            return None
        if op == "selected":
            if kind not in ("choice", "multiple"):
                return f"selected 只能用于选择题（{field}）"
            return self.choice_problem(field, value)
        if op in ("<", "<=", ">", ">="):
            if kind != "number":
                return f"只能对整数或小数题比较大小（{field} 不是数字题）"
            return None if _is_number(value) else "比较大小的取值应为数字"
        if value == "":
            return "判断是否填写请用 filled 或 empty"
        if kind in ("choice", "multiple"):
            return self.choice_problem(field, value)
        expected = {"number": _is_number, "boolean": lambda v: isinstance(v, bool),
                    "string": lambda v: isinstance(v, str)}.get(kind)
        if expected is None:
            return f"字段 {field} 不能用 {op} 比较"
        if not expected(value):
            return f"取值 {_show(value)} 与字段 {field} 的类型不符"
        return None

    def choice_problem(self, field: str, value: Any) -> str | None:
        prop = self.siblings[field]
        choices = _choices(prop) if _kind(prop) == "choice" else _choices(prop.get("items", {}))
        if any(type(c) is type(value) and c == value for c in choices or []):
            return None
        return f"取值 {_show(value)} 不是字段 {field} 的选项（可选：{'、'.join(_show(c) for c in choices or [])}）"


def problems(relevant: Any, known: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """Every (path under ``/ui/relevant``, message) of a definition's ``ui.relevant``;
    ``known`` is ``definition.field_paths(schema, containers=True)``."""
    if not isinstance(relevant, dict):
        return
    for path, tree in relevant.items():
        if not isinstance(tree, dict):
            continue  # the definition's meta-schema reports it
        siblings = _siblings(path, known, schema)
        if siblings is None:
            yield [path], f"显示条件写给了不存在的字段 {path}"
            continue
        checker = _Checker(path, siblings, [path])
        checker.node(tree, [], 1)
        yield from checker.found
    yield from _cycles(relevant)


def _cycles(relevant: dict[str, Any]) -> Iterator[tuple[list[Any], str]]:
    edges: dict[str, list[str]] = {}
    for path, tree in relevant.items():
        if isinstance(tree, dict):
            prefix = path[: len(path) - len(path.rsplit(".", 1)[-1])]
            edges[path] = [f"{prefix}{name}" for name in references(tree) if f"{prefix}{name}" != path]
    for trail in cycles(edges):
        yield [trail[0]], f"显示条件互相引用：{' → '.join(trail)}（会使这些题目都无法显示）"


def cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Fields whose conditions test each other (``[a, b, a]``), each cycle once: once one is
    hidden (and so empty) the other hides too, and neither can be shown again."""
    found, reported = [], set()
    for start in edges:
        if start in reported:
            continue
        trail = _path_back(start, start, edges, set())
        if trail is not None:
            reported.update(trail)
            found.append([start, *trail])
    return found


def _path_back(node: str, goal: str, edges: dict[str, list[str]], seen: set[str]) -> list[str] | None:
    """The fields from ``node``'s references back to ``goal`` (depth first), if any."""
    for following in edges.get(node, []):
        if following == goal:
            return [goal]
        if following in edges and following not in seen:
            seen.add(following)
            rest = _path_back(following, goal, edges, seen)
            if rest is not None:
                return [following, *rest]
    return None
