"""A definition back to the workbook format, so that ``import(export(d)) == d``.

Rows are written in ``ui.order``, sections as ``begin group``/``end group``, fieldsets as
``begin object``, repeatable groups as ``begin repeat``; choice lists go to ``choices``. The
conditions the importer writes (``if``/``then`` on one field's value, see :mod:`.convert`)
become ``相关``/``条件约束`` cells, own keywords the ``约束`` cell.

Whatever the columns cannot say (a format without a type, a hand-written ``allOf``, a
``dependentRequired``, ``ui.contact`` …) is not lost: the exporter converts its own rows
back, compares the result with the definition, and writes each difference as JSON in the
``扩展`` column of the field it belongs to (or of the settings row). The round trip is then
exact by construction, and the 扩展 cells show precisely what the format lacks.
"""

from __future__ import annotations

import json
from typing import Any

from fengqiao.forms.xlsform import expressions
from fengqiao.forms.xlsform.convert import (
    CHOICES_COLUMNS,
    SCHEMA_DIALECT,
    SETTINGS_COLUMNS,
    SIMPLE_TYPES,
    SURVEY_COLUMNS,
    XlsformInvalid,
    convert,
)
from fengqiao.forms.xlsform.workbook import write_workbook

SURVEY_KEYS = list(SURVEY_COLUMNS)
SETTINGS_KEYS = list(SETTINGS_COLUMNS)
WIDTHS = {
    "survey": [16, 18, 22, 6, 30, 18, 28, 10, 30, 10, 30, 20, 10, 8, 20, 30],
    "choices": [18, 18, 24],
    "settings": [22, 20, 6, 8, 40, 20, 14, 14, 6, 30],
}


class ExportFailed(ValueError):
    """The definition cannot be written so that it reads back the same (message in Chinese)."""


def _type_of(schema: dict[str, Any], widget: str | None) -> str:
    typ = schema.get("type")
    if typ == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if items.get("type") == "object":
            return "begin repeat"
        if items.get("format") == "attachment":
            return "image" if widget == "image" else "file"
        if "enum" in items or "oneOf" in items:
            return "select_multiple"
        return "text"
    if typ == "object":
        return "begin object"
    if "enum" in schema or ("oneOf" in schema and all(isinstance(o, dict) and "const" in o for o in schema["oneOf"])):
        return "select_one"
    if typ == "integer":
        return "integer"
    if typ == "number":
        return "decimal"
    if typ == "boolean":
        return "boolean"
    for name, shape in SIMPLE_TYPES.items():
        if shape.get("type") == "string" and shape.get("format") and shape["format"] == schema.get("format"):
            return name
    return "text"


def _default_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


class _Writer:
    def __init__(self, definition: dict[str, Any]):
        self.definition = definition
        self.ui = definition.get("ui") or {}
        self.survey: list[dict[str, str]] = []
        self.choices: list[list[str]] = []
        self.list_names: set[str] = set()
        self.row_of: dict[str, dict[str, str]] = {}  # field path → its survey row

    def list_name(self, path: str) -> str:
        base = path.replace("[]", "").replace(".", "_")
        name, n = base, 2
        while name in self.list_names:
            name, n = f"{base}_{n}", n + 1
        self.list_names.add(name)
        return name

    def conditions(self, schema: dict[str, Any], prefix: str = "") -> dict[str, dict[str, str]]:
        """Per field: the ``relevant``/``relevant_constraint``/required-there cells of the
        container's condition blocks, or {} when one block is not of the importer's shape
        (then all stay in 扩展 as written)."""
        blocks = ([{k: schema[k] for k in ("if", "then", "else") if k in schema}] if "if" in schema else [])
        allof = schema.get("allOf", [])
        if not isinstance(allof, list):
            return {}
        blocks += allof
        props = schema.get("properties", {})
        found: dict[str, dict[str, str]] = {}
        try:
            for block in blocks:
                self._block(block, props, schema.get("required", []), found, prefix)
        except (expressions.NotExpressible, KeyError, TypeError, AttributeError, ValueError):
            found = {}
        dependent = schema.get("dependentRequired")
        if isinstance(dependent, dict):  # 必填 "${trigger} != ''": required once trigger is filled
            for trigger, names in dependent.items():
                for name in names if isinstance(names, list) else ():
                    if isinstance(name, str) and name in props and trigger in props:
                        found.setdefault(name, {}).setdefault("triggers", []).append(trigger)
        return found

    def _block(self, block: Any, props: dict, required: list, found: dict[str, dict[str, str]],
               prefix: str = "") -> None:
        if not isinstance(block, dict) or "if" not in block:
            raise ValueError(block)
        test = block["if"]
        if set(test) == {"required"} and len(test["required"]) == 1 and set(block) == {"if", "then"}:
            name = test["required"][0]  # a constraint that also tests other fields
            if name not in props:
                raise ValueError(name)
            found.setdefault(name, {}).setdefault("cross", []).append(_root_text(block["then"], name))
            return
        then = block.get("then")
        if set(block) == {"if", "then"} and isinstance(then, dict) and set(then) == {"allOf"} \
                and len(then["allOf"]) == 1 and set(then["allOf"][0]) == {"properties"} \
                and len(then["allOf"][0]["properties"]) == 1:
            (name, keywords), = then["allOf"][0]["properties"].items()  # "<other test> or <own test>"
            if name not in props or not keywords or set(keywords) - set(expressions.OWN_KEYWORDS):
                raise ValueError(name)
            text = f"not({expressions.test_text(test)}) or {expressions.own_text(keywords)}"
            found.setdefault(name, {}).setdefault("cross", []).append(text)
            return
        branches = [b for b in ("then", "else") if b in block]
        if len(branches) != 1 or set(block) != {"if", branches[0]}:
            raise ValueError(block)
        branch = block[branches[0]]
        if not set(branch) <= {"required", "properties"}:
            raise ValueError(branch)
        trees = self.ui.get("relevant") if isinstance(self.ui.get("relevant"), dict) else {}
        targets = list(branch.get("required", [])) + [n for n in branch.get("properties", {})
                                                      if n not in branch.get("required", [])]
        for name in targets:
            if name not in props or name in required or "relevant" in found.get(name, {}):
                raise ValueError(name)
            keywords = branch.get("properties", {}).get(name, {})
            if set(keywords) - set(expressions.OWN_KEYWORDS):
                raise ValueError(keywords)
            if keywords == {} and name in branch.get("required", []) and name in branch.get("properties", {}):
                raise ValueError(name)  # {} for a required target is not what the importer writes
            cells = found.setdefault(name, {})
            cells["relevant"] = self._relevant_text(test, branches[0], trees.get(f"{prefix}{name}"))
            cells["relevant_constraint"] = expressions.own_text(keywords)
            cells["required"] = "是" if name in branch.get("required", []) else ""

    @staticmethod
    def _relevant_text(test: dict[str, Any], branch: str, tree: Any) -> str:
        """The 相关 cell: the field's ``ui.relevant`` tree as written when it has one (what the
        author wrote, and the importer derives the same block from it), else the block's test."""
        if isinstance(tree, dict):
            try:
                return expressions.tree_text(tree)
            except (expressions.NotExpressible, KeyError, TypeError):
                pass
        text = expressions.test_text(test)
        return f"not({text})" if branch == "else" else text

    def fields(self, schema: dict[str, Any], prefix: str, order: list[str] | None = None) -> list[dict[str, str]]:
        props = schema.get("properties", {})
        required = schema.get("required", [])
        conditions = self.conditions(schema, prefix)
        names = [n for n in (order or []) if n in props] + [n for n in props if n not in (order or [])]
        rows: list[dict[str, str]] = []
        for name in names:
            rows += self.field(name, props[name], f"{prefix}{name}", name in required, conditions.get(name, {}))
        return rows

    def field(self, name: str, schema: dict[str, Any], path: str, required: bool,
              condition: dict[str, str]) -> list[dict[str, str]]:
        widget = (self.ui.get("widgets") or {}).get(path)
        kind = _type_of(schema, widget)
        row = {"type": kind, "name": name, "label": schema.get("title", "")}
        row["required"] = "是" if required else condition.get("required", "")
        if not row["required"] and condition.get("triggers") and not condition.get("relevant"):
            row["required"] = " or ".join(f"${{{t}}} != ''" for t in condition["triggers"])
        row["constraint"] = expressions.own_text({k: v for k, v in schema.items() if k in expressions.OWN_KEYWORDS})
        if condition.get("cross"):
            own = [row["constraint"]] if row["constraint"] else []
            row["constraint"] = " and ".join(own + [f"({t})" for t in condition["cross"]])
        if isinstance(schema.get("errorMessage"), str):
            row["constraint_message"] = schema["errorMessage"]
        row["relevant"] = condition.get("relevant", "")
        row["relevant_constraint"] = condition.get("relevant_constraint", "")
        if "default" in schema and kind not in ("begin repeat", "begin object"):
            row["default"] = _default_text(schema["default"])
        row["hint"] = (self.ui.get("help") or {}).get(path, "")
        if widget and kind != "image":
            row["appearance"] = widget
        row["description"] = schema.get("description", "") if isinstance(schema.get("description"), str) else ""
        row["placeholder"] = (self.ui.get("placeholders") or {}).get(path, "")
        row["personal"] = (self.ui.get("personal") or {}).get(path, "")
        row["trim"] = "是" if path in (self.ui.get("trim") or []) else ""
        self.row_of[path] = row
        if kind in ("select_one", "select_multiple"):
            choice = schema if kind == "select_one" else schema["items"]
            list_name = self.list_name(path)
            row["type"] = f"{kind} {list_name}"
            if "enum" in choice:
                self.choices += [[list_name, str(v), str(v)] for v in choice["enum"]]
            else:
                self.choices += [[list_name, str(o["const"]), str(o.get("title", o["const"]))] for o in choice["oneOf"]]
        if kind == "begin repeat":
            inner = self.fields(schema["items"], f"{path}[].")
            return [row, *inner, {"type": "end repeat"}]
        if kind == "begin object":
            inner = self.fields(schema, f"{path}.")
            return [row, *inner, {"type": "end object"}]
        return [row]

    def rows(self) -> list[dict[str, str]]:
        schema = self.definition["schema"]
        order = list(self.ui.get("order") or [])
        names = [n for n in order if n in schema.get("properties", {})]
        names += [n for n in schema.get("properties", {}) if n not in names]
        field_rows = {}
        conditions = self.conditions(schema)
        for name in names:
            field_rows[name] = self.field(name, schema["properties"][name], name,
                                          name in schema.get("required", []), conditions.get(name, {}))
        section_of: dict[str, dict[str, Any]] = {}
        for section in self.ui.get("sections") or []:
            for name in section.get("fields", []):
                section_of.setdefault(name, section)
        out: list[dict[str, str]] = []
        current = None
        for name in names:
            section = section_of.get(name)
            if section is not current:
                if current is not None:
                    out.append({"type": "end group"})
                if section is not None:
                    out.append({"type": "begin group", "name": f"section_{len([r for r in out if r.get('type') == 'begin group']) + 1}",
                                "label": section.get("title", ""), "hint": section.get("description", "")})
                current = section
            out += field_rows[name]
        if current is not None:
            out.append({"type": "end group"})
        return out

    def settings(self) -> dict[str, str]:
        d = self.definition
        return {
            "form_id": d.get("key", ""), "title": d.get("title", ""), "version": "",
            "access": d.get("access", ""), "description": d.get("description", ""),
            "case_type": d.get("case_type", "") or "", "title_field": d.get("title_field", "") or "",
            "accepting_unit": d.get("accepting_unit", "") or "",
            "opens_case": "否" if d.get("opens_case") is False else "",
        }


def _root_text(schema: dict[str, Any], this: str) -> str:
    """A root-level schema written by ``expressions._root`` back to its expression."""
    if set(schema) == {"allOf"}:
        return " and ".join(f"({_root_text(s, this)})" for s in schema["allOf"])
    if set(schema) == {"anyOf"}:
        return " or ".join(f"({_root_text(s, this)})" for s in schema["anyOf"])
    if set(schema) == {"not"}:
        inner = schema["not"]
        props = inner.get("properties") if isinstance(inner, dict) else None
        if (isinstance(props, dict) and len(props) == 1 and set(inner) == {"properties", "required"}
                and set(next(iter(props.values()))) == {"const"} and inner["required"] == list(props)):
            (name, keywords), = props.items()
            return f"${{{name}}} != {expressions.literal(keywords['const'])}"
        return f"not({_root_text(inner, this)})"
    if not set(schema) <= {"properties", "required"}:
        raise expressions.NotExpressible(schema)
    required = schema.get("required", [])
    parts = []
    for name, keywords in schema["properties"].items():
        subject = "." if name == this and name not in required else f"${{{name}}}"
        if subject != "." and name not in required:
            raise expressions.NotExpressible(schema)
        if set(keywords) == {"const"}:
            parts.append(f"{subject} = {expressions.literal(keywords['const'])}")
        elif set(keywords) == {"not"} and set(keywords["not"]) == {"const"}:
            parts.append(f"{subject} != {expressions.literal(keywords['not']['const'])}")
        elif set(keywords) == {"enum"}:
            parts.append("(" + " or ".join(f"{subject} = {expressions.literal(v)}" for v in keywords["enum"]) + ")")
        elif set(keywords) == {"contains"} and set(keywords["contains"]) == {"const"}:
            parts.append(f"selected({subject}, {expressions.literal(keywords['contains']['const'])})")
        elif keywords and not set(keywords) - set(expressions.OWN_KEYWORDS):
            parts.append(expressions.own_text(keywords, subject))
        else:
            raise expressions.NotExpressible(schema)
    if sorted(required) != sorted(n for n in schema["properties"] if n in required) or not parts:
        raise expressions.NotExpressible(schema)
    return " and ".join(parts)


def _sheets(survey: list[dict[str, str]], choices: list[list[str]], settings: dict[str, str]) -> dict[str, list[list[Any]]]:
    return {
        "survey": [[SURVEY_COLUMNS[k][0] for k in SURVEY_KEYS]] + [[r.get(k, "") for k in SURVEY_KEYS] for r in survey],
        "choices": [[CHOICES_COLUMNS[k][0] for k in CHOICES_COLUMNS]] + choices,
        "settings": [[SETTINGS_COLUMNS[k][0] for k in SETTINGS_KEYS], [settings.get(k, "") for k in SETTINGS_KEYS]],
    }


def _numbered(sheets: dict[str, list[list[Any]]]) -> dict[str, list[tuple[int, list[Any]]]]:
    return {name: [(i + 1, row) for i, row in enumerate(rows)] for name, rows in sheets.items()}


def _difference(original: Any, generated: Any) -> Any:
    """What must be merged into ``generated`` to make it ``original`` (dicts recursively)."""
    if not isinstance(original, dict) or not isinstance(generated, dict):
        return original
    out: dict[str, Any] = {}
    for key, value in original.items():
        if key not in generated:
            out[key] = value
        elif generated[key] != value:
            out[key] = _difference(value, generated[key]) if isinstance(value, dict) else value
    return out


def _extra_keys(original: Any, generated: Any, path: str = "") -> list[str]:
    """Keys the conversion writes that the definition lacks (a merge cannot remove them)."""
    if not isinstance(original, dict) or not isinstance(generated, dict):
        return []
    found = [f"{path}/{k}" for k in generated if k not in original]
    for key in generated:
        if key in original:
            found += _extra_keys(original[key], generated[key], f"{path}/{key}")
    return found


def _distribute(rest: dict[str, Any], writer: _Writer) -> dict[str, Any]:
    """Move each field's part of the schema difference to its row's 扩展; return the rest."""
    schema_rest = rest.get("schema")
    if isinstance(schema_rest, dict):
        _distribute_object(schema_rest, "", writer)
        if not schema_rest:
            rest.pop("schema")
    return rest


def _distribute_object(schema_rest: dict[str, Any], prefix: str, writer: _Writer) -> None:
    props = schema_rest.get("properties")
    if not isinstance(props, dict):
        return
    for name in list(props):
        path = f"{prefix}{name}"
        row = writer.row_of.get(path)
        if row is None:
            continue
        part = props.pop(name)
        if isinstance(part, dict):
            _distribute_object(part, f"{path}.", writer)
            items = part.get("items")
            if isinstance(items, dict):
                _distribute_object(items, f"{path}[].", writer)
                if not items:
                    part.pop("items")
            if part:
                row["extra"] = json.dumps(part, ensure_ascii=False, sort_keys=True)
        else:
            raise ExportFailed(f"字段 {path} 无法导出")
    if not props:
        schema_rest.pop("properties")


def export_sheets(definition: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """The sheets (header row first) that read back as ``definition``."""
    writer = _Writer(definition)
    survey = writer.rows()
    settings = writer.settings()
    plain = _sheets(survey, writer.choices, settings)
    try:
        generated = convert(_numbered(plain))
    except XlsformInvalid as failed:
        raise ExportFailed("；".join(str(p) for p in failed.problems)) from None
    extra = _extra_keys(definition, generated)
    if extra:
        raise ExportFailed(f"该定义无法用工作簿表示：{'、'.join(extra)}")
    rest = _distribute(_difference(definition, generated), writer)
    if rest:
        settings["extra"] = json.dumps(rest, ensure_ascii=False, sort_keys=True)
    return _sheets(survey, writer.choices, settings)


def export_workbook(definition: dict[str, Any], version: int | None = None) -> bytes:
    """The .xlsx for ``definition`` (``version`` is written to settings for the reader's information)."""
    sheets = export_sheets(definition)
    if version is not None:
        sheets["settings"][1][SETTINGS_KEYS.index("version")] = version
    return write_workbook(sheets, WIDTHS)


__all__ = ["ExportFailed", "SCHEMA_DIALECT", "export_sheets", "export_workbook"]
