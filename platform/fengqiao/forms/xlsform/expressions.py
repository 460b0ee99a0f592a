"""XLSForm expressions (``约束``/``相关`` cells) to JSON Schema, and back.

Only the part of XLSForm's XPath dialect that JSON Schema can express is accepted:
``.`` (this field), ``${name}`` (a field in the same group), ``and``/``or``/``not()``,
comparisons ``= != < <= > >=`` against a number, a quoted string or ``true()``/``false()``,
``selected(${x}, 'v')``, ``string-length(.)``, ``count(.)`` and ``regex(., '…')``. Anything else
(arithmetic, comparing two fields, dates) raises :class:`Untranslatable` with a Chinese reason:
a cell that cannot be translated is reported, never silently dropped.

The semantics follow XLSForm's: a constraint only applies once its field has a value (so ``.``
becomes the keywords of the field's own schema, where an absent value passes), and a test of
``${x}`` is false while ``x`` is empty (so it becomes ``properties`` + ``required``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Node = tuple  # ("or", [..]) ("and", [..]) ("not", n) ("cmp", op, l, r) ("self",) ("ref", name)
#               ("lit", value) ("call", name, [args])


class Untranslatable(ValueError):
    """The expression is outside what JSON Schema can express; the message says why."""


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<ref>\$\{\s*(?P<refname>[^}\s]*)\s*\})
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<str>'[^']*'|"[^"]*"|“[^”]*”|‘[^’]*’)
    | (?P<op><=|>=|!=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z][A-Za-z0-9_-]*)
    | (?P<dot>\.)
    )""", re.VERBOSE)

FUNCTIONS = ("not", "selected", "string-length", "count", "count-selected", "regex", "true", "false")
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    at = 0
    text = text.strip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            rest = text[at:].strip()
            raise Untranslatable(f"无法识别“{rest[:20]}”")
        at = match.end()
        kind = match.lastgroup if match.lastgroup != "refname" else "ref"
        if match.group("ref"):
            out.append(("ref", match.group("refname")))
        elif match.group("num"):
            raw = match.group("num")
            out.append(("lit", float(raw) if "." in raw else int(raw)))
        elif match.group("str"):
            out.append(("lit", match.group("str")[1:-1]))
        elif match.group("op"):
            out.append(("op", match.group("op")))
        elif match.group("punct"):
            out.append((match.group("punct"), None))
        elif match.group("word"):
            out.append(("word", match.group("word")))
        elif kind == "dot":
            out.append(("self", None))
    return out


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            shown = "结尾" if token is None else f"“{token[1] if token[1] is not None else token[0]}”"
            raise Untranslatable(f"在{shown}处语法错误")
        self.at += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise Untranslatable("表达式为空")
        node = self.or_()
        if self.peek() is not None:
            self.take("end")  # raises with the offending token
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.peek() == ("word", "or"):
            self.at += 1
            items.append(self.and_())
        return items[0] if len(items) == 1 else ("or", items)

    def and_(self) -> Node:
        items = [self.comparison()]
        while self.peek() == ("word", "and"):
            self.at += 1
            items.append(self.comparison())
        return items[0] if len(items) == 1 else ("and", items)

    def comparison(self) -> Node:
        left = self.primary()
        token = self.peek()
        if token is not None and token[0] == "op":
            self.at += 1
            return ("cmp", token[1], left, self.primary())
        return left

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise Untranslatable("表达式不完整")
        kind, value = token
        if kind == "(":
            self.at += 1
            node = self.or_()
            self.take(")")
            return node
        if kind in ("ref", "lit", "self"):
            self.at += 1
            return (kind,) if kind == "self" else (kind, value)
        if kind == "word":
            if value not in FUNCTIONS:
                raise Untranslatable(f"不支持函数或运算 {value}")
            self.at += 1
            self.take("(")
            args: list[Node] = []
            if self.peek() != (")", None):
                args.append(self.or_())
                while self.peek() == (",", None):
                    self.at += 1
                    args.append(self.or_())
            self.take(")")
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "not":
                if len(args) != 1:
                    raise Untranslatable("not() 需要一个参数")
                return ("not", args[0])
            return ("call", value, args)
        raise Untranslatable(f"在“{value or kind}”处语法错误")


def parse(text: str) -> Node:
    return _Parser(text).parse()


# ---- translation ------------------------------------------------------------------------------


@dataclass
class Atom:
    """One test of one field: ``field`` is None for ``.``; ``keywords`` apply to its value."""

    field: str | None
    keywords: dict[str, Any]


def _subject(node: Node) -> tuple[str, str | None] | None:
    """(measure, field) for ``.``/``${x}``/``string-length(…)``/``count(…)``; None otherwise."""
    if node[0] == "self":
        return "value", None
    if node[0] == "ref":
        return "value", node[1]
    if node[0] == "call" and node[1] in ("string-length", "count", "count-selected") and len(node[2]) == 1:
        inner = node[2][0]
        if inner[0] in ("self", "ref"):
            return ("length" if node[1] == "string-length" else "count"), (inner[1] if inner[0] == "ref" else None)
    return None


_BOUNDS = {
    "value": {">=": "minimum", "<=": "maximum", ">": "exclusiveMinimum", "<": "exclusiveMaximum"},
}
_SIZE = {"length": ("minLength", "maxLength"), "count": ("minItems", "maxItems")}


def _compare(op: str, measure: str, value: Any) -> dict[str, Any]:
    if measure == "value":
        if op == "=":
            return {"const": value}
        if op == "!=":
            return {"not": {"const": value}}
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise Untranslatable("只能与数字比较大小（日期、文字不能比较大小）")
        return {_BOUNDS["value"][op]: value}
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Untranslatable("长度或个数只能与非负整数比较")
    low, high = _SIZE[measure]
    if op == ">=":
        return {low: value}
    if op == ">":
        return {low: value + 1}
    if op == "<=":
        return {high: value}
    if op == "<":
        if value == 0:
            raise Untranslatable("长度或个数不能小于 0")
        return {high: value - 1}
    if op == "=":
        return {low: value, high: value}
    raise Untranslatable("长度或个数不能用 != 比较")


def _atom(node: Node, multiple: set[str]) -> Atom:
    """A single test: a comparison, ``selected()`` or ``regex()``."""
    if node[0] == "cmp":
        op, left, right = node[1], node[2], node[3]
        if _subject(left) is None and _subject(right) is not None:
            op, left, right = _FLIP[op], right, left
        subject = _subject(left)
        if subject is None:
            raise Untranslatable("比较的一侧应为 . 或 ${字段名}")
        if right[0] != "lit":
            raise Untranslatable("不能比较两个字段（另一侧应为数字或带引号的文字）")
        measure, field = subject
        return Atom(field, _compare(op, measure, right[1]))
    if node[0] == "call" and node[1] == "selected":
        args = node[2]
        if len(args) != 2 or args[0][0] not in ("self", "ref") or args[1][0] != "lit":
            raise Untranslatable("selected() 的写法应为 selected(${字段名}, '选项值')")
        field = args[0][1] if args[0][0] == "ref" else None
        value = str(args[1][1])
        if field is not None and field in multiple:
            return Atom(field, {"contains": {"const": value}})
        return Atom(field, {"const": value})
    if node[0] == "call" and node[1] == "regex":
        args = node[2]
        if len(args) != 2 or args[0][0] not in ("self", "ref") or args[1][0] != "lit" or not isinstance(args[1][1], str):
            raise Untranslatable("regex() 的写法应为 regex(., '正则表达式')")
        try:
            re.compile(args[1][1])
        except re.error:
            raise Untranslatable(f"正则表达式无效：{args[1][1]}") from None
        return Atom(args[0][1] if args[0][0] == "ref" else None, {"pattern": args[1][1]})
    if node[0] == "call":
        raise Untranslatable(f"{node[1]}() 不能单独作为条件，应与数字比较")
    raise Untranslatable("条件应为比较、selected() 或 regex()")


def _field_schema(field: str, keywords: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {field: keywords}, "required": [field]}


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Keywords of several tests on one value in one dict, or None when they collide."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in out and out[key] != value:
                return None
            out[key] = value
    return out


def _root(node: Node, this: str | None, multiple: set[str]) -> dict[str, Any]:
    """The expression as a schema of the object holding the fields (``.`` is ``this``)."""
    if node[0] in ("and", "or"):
        parts = [_root(n, this, multiple) for n in node[1]]
        if node[0] == "and":
            merged = _merge_objects(parts)
            return merged if merged is not None else {"allOf": parts}
        same = _same_field_choices(parts)
        return same if same is not None else {"anyOf": parts}
    if node[0] == "not":
        return {"not": _root(node[1], this, multiple)}
    atom = _atom(node, multiple)
    field = atom.field if atom.field is not None else this
    if field is None:
        raise Untranslatable("“相关”条件中不能使用 .（请用 ${字段名}）")
    if atom.field is None:  # ``.``: the constraint's own field, absent passes
        return {"properties": {field: atom.keywords}}
    if atom.keywords == {"const": ""}:  # ``${x} = ''``: x is empty (normalising drops "")
        return {"not": {"required": [field]}}
    if atom.keywords == {"not": {"const": ""}}:  # ``${x} != ''``: x is filled
        return {"required": [field]}
    if set(atom.keywords) == {"not"}:  # ``${x} != 'v'`` also holds while x is empty
        return {"not": _field_schema(field, atom.keywords["not"])}
    return _field_schema(field, atom.keywords)


def _merge_objects(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``a = 1 and b = 2`` as one ``properties`` + ``required`` (when no field repeats)."""
    if not all(set(p) <= {"properties", "required"} for p in parts):
        return None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in parts:
        for name, keywords in part.get("properties", {}).items():
            if name in properties:
                merged = _merge([properties[name], keywords])
                if merged is None:
                    return None
                properties[name] = merged
            else:
                properties[name] = keywords
        required += [n for n in part.get("required", []) if n not in required]
    merged: dict[str, Any] = {"properties": properties} if properties else {}
    if required:
        merged["required"] = required
    return merged


def _same_field_choices(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``${x} = 'a' or ${x} = 'b'`` as ``enum`` (the form the conditions of the renderer read)."""
    names = set()
    values: list[Any] = []
    for part in parts:
        props = part.get("properties", {})
        if set(part) != {"properties", "required"} or len(props) != 1:
            return None
        (name, keywords), = props.items()
        if set(keywords) == {"const"}:
            values.append(keywords["const"])
        elif set(keywords) == {"enum"}:
            values += keywords["enum"]
        else:
            return None
        names.add(name)
    if len(names) != 1:
        return None
    name = names.pop()
    return _field_schema(name, {"enum": values})


def constraint(text: str, field: str, multiple: set[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A ``约束`` cell of ``field``: (keywords for the field's own schema, condition blocks
    for the enclosing object, one per ``and``-part that also tests other fields).

    A part ``<test of other fields> or <test of .>`` (``${a} != 'x' or . <= 9``) becomes
    ``if: <the other test fails>, then: {allOf: [<test of .>]}``, so a failure points at the
    field itself (the ``allOf`` keeps the renderer from taking it for a visibility
    condition); any other part becomes ``if: {required: [field]}, then: <the part>``
    (XLSForm checks a constraint once its field has a value). ``multiple`` names the
    select_multiple fields (``selected()`` tests them with ``contains``).
    """
    node = parse(text)
    parts = list(node[1]) if node[0] == "and" else [node]
    own_parts = [p for p in parts if not _mentions_other(p)]
    own = _own(("and", own_parts), multiple) if len(own_parts) > 1 else (
        _own(own_parts[0], multiple) if own_parts else {})
    blocks = []
    for part in parts:
        if not _mentions_other(part):
            continue
        split = _implication(part)
        if split is not None:
            test, consequence = split
            blocks.append({"if": _root(_negate(test), None, multiple),
                           "then": {"allOf": [_root(consequence, field, multiple)]}})
        else:
            blocks.append({"if": {"required": [field]}, "then": _root(part, field, multiple)})
    return own, blocks


def _mentions_self(node: Node) -> bool:
    return node[0] == "self" or any(_mentions_self(child) for child in _children(node))


def _implication(node: Node) -> tuple[Node, Node] | None:
    """``A or B`` with A testing only other fields and B only this one: (A, B)."""
    if node[0] != "or" or len(node[1]) != 2:
        return None
    first, second = node[1]
    for other, own in ((first, second), (second, first)):
        if not _mentions_self(other) and not _mentions_other(own):
            return other, own
    return None


def _negate(node: Node) -> Node:
    if node[0] == "not":
        return node[1]
    if node[0] == "cmp" and node[1] in ("=", "!="):
        return ("cmp", "!=" if node[1] == "=" else "=", node[2], node[3])
    return ("not", node)


def _own(node: Node, multiple: set[str]) -> dict[str, Any]:
    """Keywords of the field's own schema for an expression that only tests ``.``."""
    if node[0] == "and":
        parts = [_own(n, multiple) for n in node[1]]
        merged = _merge(parts)
        return merged if merged is not None else {"allOf": parts}
    if node[0] == "or":
        return {"anyOf": [_own(n, multiple) for n in node[1]]}
    if node[0] == "not":
        return {"not": _own(node[1], multiple)}
    return _atom(node, multiple).keywords


def _mentions_other(node: Node) -> bool:
    if node[0] == "ref":
        return True
    return any(_mentions_other(child) for child in _children(node))


def _children(node: Node) -> list[Node]:
    if node[0] in ("and", "or"):
        return list(node[1])
    if node[0] == "not":
        return [node[1]]
    if node[0] == "cmp":
        return [node[2], node[3]]
    if node[0] == "call":
        return list(node[2])
    return []


def filled_triggers(text: str) -> list[str] | None:
    """A ``必填`` cell ``${a} != ''`` (or several joined by ``or``): the fields whose filling
    makes this one required (``dependentRequired``); None for any other expression."""
    try:
        node = parse(text)
    except Untranslatable:
        return None
    parts = list(node[1]) if node[0] == "or" else [node]
    names = []
    for part in parts:
        if part[0] == "cmp" and part[1] == "!=" and part[3] == ("lit", "") and part[2][0] == "ref":
            names.append(part[2][1])
        elif part[0] == "cmp" and part[1] == "!=" and part[2] == ("lit", "") and part[3][0] == "ref":
            names.append(part[3][1])
        else:
            return None
    return names


def references(text: str) -> list[str]:
    """The ``${name}`` references of an expression (empty when it does not parse)."""
    try:
        node = parse(text)
    except Untranslatable:
        return []
    found: list[str] = []

    def walk(n: Node) -> None:
        if n[0] == "ref" and n[1] not in found:
            found.append(n[1])
        for child in _children(n):
            walk(child)

    walk(node)
    return found


def relevant(text: str, multiple: set[str]) -> tuple[dict[str, Any], bool]:
    """A ``相关`` cell: (the ``if`` schema, negated). ``${x} != 'v'`` and ``not(…)`` become the
    positive test with ``negated`` True, so the field goes in the ``else`` branch, which is how
    the form renderer shows a field while a condition does not hold."""
    node = parse(text)
    negated = False
    while node[0] == "not":
        node, negated = node[1], not negated
    if node[0] == "cmp" and node[1] == "!=":
        node, negated = ("cmp", "=", node[2], node[3]), not negated
    return _root(node, None, multiple), negated


# ---- back to text (export) -------------------------------------------------------------------


class NotExpressible(ValueError):
    """A schema the exporter cannot write as an expression (kept in the 扩展 column instead)."""


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true()" if value else "false()"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str) and "'" not in value:
        return f"'{value}'"
    if isinstance(value, str) and '"' not in value:
        return f'"{value}"'
    raise NotExpressible(value)


_WRITE_BOUND = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
_WRITE_SIZE = {"minLength": ("string-length", ">="), "maxLength": ("string-length", "<="),
               "minItems": ("count", ">="), "maxItems": ("count", "<=")}
OWN_KEYWORDS = ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum",
                "exclusiveMinimum", "exclusiveMaximum", "pattern")


def own_text(keywords: dict[str, Any], subject: str = ".") -> str:
    """Constraint keywords of one value as an expression (``OWN_KEYWORDS`` only)."""
    parts = []
    for key in OWN_KEYWORDS:
        if key not in keywords:
            continue
        value = keywords[key]
        if key in _WRITE_BOUND:
            parts.append(f"{subject} {_WRITE_BOUND[key]} {literal(value)}")
        elif key in _WRITE_SIZE:
            function, op = _WRITE_SIZE[key]
            parts.append(f"{function}({subject}) {op} {literal(value)}")
        else:
            parts.append(f"regex({subject}, {literal(value)})")
    return " and ".join(parts)


def test_text(test: dict[str, Any]) -> str:
    """An ``if`` schema written by :func:`relevant` back to its expression."""
    if set(test) == {"required"} and test["required"]:  # ``${x} != ''``
        return " and ".join(f"${{{name}}} != ''" for name in test["required"])
    if set(test) == {"not"} and isinstance(test["not"], dict) and set(test["not"]) == {"required"} \
            and len(test["not"]["required"]) == 1:  # ``${x} = ''``
        return f"${{{test['not']['required'][0]}}} = ''"
    if set(test) != {"properties", "required"}:
        raise NotExpressible(test)
    properties, required = test["properties"], test["required"]
    if not isinstance(properties, dict) or list(properties) != required:
        raise NotExpressible(test)
    parts = []
    for name, keywords in properties.items():
        if set(keywords) == {"const"}:
            parts.append(f"${{{name}}} = {literal(keywords['const'])}")
        elif set(keywords) == {"enum"} and keywords["enum"]:
            alternatives = [f"${{{name}}} = {literal(v)}" for v in keywords["enum"]]
            parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " or ".join(alternatives) + ")")
        elif set(keywords) == {"contains"} and set(keywords["contains"]) == {"const"}:
            parts.append(f"selected(${{{name}}}, {literal(keywords['contains']['const'])})")
        else:
            text = own_text(keywords, f"${{{name}}}")
            if not text or set(keywords) - set(OWN_KEYWORDS):
                raise NotExpressible(test)
            parts.append(text)
    text = " and ".join(parts)
    if len(parts) == 1 and text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text


# ---- the browser's copy of a condition (``ui.relevant``, fengqiao.forms.relevance) --------------

_TREE_OPS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def relevant_tree(text: str) -> dict[str, Any]:
    """A ``相关`` cell as the expression tree of ``ui.relevant`` (``fengqiao.forms.relevance``):
    what the form page evaluates to show or hide the field. Call after :func:`relevant`
    accepted the text (the same parse; errors are raised the same way)."""
    return _tree(parse(text))


def _tree(node: Node) -> dict[str, Any]:
    if node[0] in ("and", "or"):
        return {node[0]: [_tree(n) for n in node[1]]}
    if node[0] == "not":
        return {"not": _tree(node[1])}
    if node[0] == "call" and node[1] in ("selected", "regex"):
        args = node[2]
        if len(args) != 2 or args[0][0] != "ref" or args[1][0] != "lit":
            raise Untranslatable(f"{node[1]}() 的第一个参数应为 ${{字段名}}，第二个为带引号的文字")
        return {"field": args[0][1], "op": node[1], "value": str(args[1][1])}
    if node[0] != "cmp":
        raise Untranslatable("条件应为比较、selected() 或 regex()")
    op, left, right = node[1], node[2], node[3]
    if _subject(left) is None and _subject(right) is not None:
        op, left, right = _FLIP[op], right, left
    subject = _subject(left)
    if subject is None or subject[1] is None or right[0] != "lit":
        raise Untranslatable("比较的一侧应为 ${字段名}，另一侧为数字或带引号的文字")
    measure, field = subject
    value = right[1]
    if measure == "value" and value == "" and op in ("=", "!="):
        return {"field": field, "op": "empty" if op == "=" else "filled"}
    out: dict[str, Any] = {"field": field, "op": _TREE_OPS[op], "value": value}
    if measure != "value":
        out["of"] = measure
    return out


def tree_text(tree: dict[str, Any]) -> str:
    """A ``ui.relevant`` tree back to the ``相关`` expression it came from (export)."""
    for key in ("and", "or"):
        if key in tree:
            return f" {key} ".join(_operand(child) for child in tree[key])
    if "not" in tree:
        return f"not({tree_text(tree['not'])})"
    field, op = f"${{{tree['field']}}}", tree["op"]
    if op == "filled":
        return f"{field} != ''"
    if op == "empty":
        return f"{field} = ''"
    if op in ("selected", "regex"):
        return f"{op}({field}, {literal(tree['value'])})"
    subject = {"length": f"string-length({field})", "count": f"count({field})"}.get(tree.get("of", ""), field)
    return f"{subject} {op} {literal(tree['value'])}"


def _operand(tree: dict[str, Any]) -> str:
    text = tree_text(tree)
    return f"({text})" if "and" in tree or "or" in tree else text


def renderer_reads(test: dict[str, Any], multiple: set[str]) -> bool:
    """Whether the form page's own condition reader (``schema_tools._conditions``: one field
    equal to one of some values) shows the field exactly when the server applies the
    condition; otherwise the converter writes ``ui.relevant``."""
    if set(test) != {"properties", "required"} or len(test["properties"]) != 1:
        return False
    (name, keywords), = test["properties"].items()
    if test["required"] != [name] or name in multiple:
        return False
    values = [keywords["const"]] if set(keywords) == {"const"} else keywords.get("enum") if set(keywords) == {"enum"} else None
    return bool(values) and all(isinstance(v, str | int | float) and v != "" for v in values)
