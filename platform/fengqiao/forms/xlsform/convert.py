"""Workbook sheets (``survey``/``choices``/``settings``) to a form definition (schema + ui).

The input is already read (:mod:`fengqiao.forms.xlsform.workbook`): ``{sheet name: [(row
number, cells)]}``, so the exporter can run the same conversion on what it is about to write.
Every problem is collected with its sheet, row and column, and a definition is only returned
when there is none: nothing is ever half-imported. The result is then checked like any
definition file (``forms check``), and what that check finds is mapped back to a row.

What the sheets become (``docs/xlsform.md``): fields are properties of the schema,
``begin group`` rows make ``ui.sections``, ``begin repeat`` an array of objects,
``begin object`` a fieldset (an object property); ``相关`` becomes the ``if``/``then``
(``else`` when negated) blocks the form designer writes and the renderer reads, ``约束`` the
field's own keywords, or an ``if: {required: [field]}, then: …`` block when it tests other
fields too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from fengqiao.forms import relevance
from fengqiao.forms.definition import RESERVED_FIELD_NAMES, WIDGETS, check_definition
from fengqiao.forms.xlsform import expressions
from fengqiao.masking import PERSONAL_KINDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# canonical key → accepted headers (first: the Chinese header the exporter writes)
SURVEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("类型", "type"),
    "name": ("字段名", "name"),
    "label": ("标题", "label"),
    "required": ("必填", "required"),
    "constraint": ("约束", "constraint"),
    "constraint_message": ("约束提示", "constraint_message"),
    "relevant": ("相关", "relevant"),
    "default": ("默认值", "default"),
    "hint": ("提示", "hint"),
    "appearance": ("外观", "appearance"),
    # Columns beyond XLSForm, for what the product's definitions hold and XLSForm does not.
    "description": ("说明", "description"),
    "placeholder": ("占位提示", "placeholder"),
    "personal": ("个人信息", "personal"),
    "trim": ("去空格", "trim"),
    "relevant_constraint": ("条件约束", "relevant_constraint"),
    "extra": ("扩展", "extra"),
}
CHOICES_COLUMNS: dict[str, tuple[str, ...]] = {
    "list_name": ("列表名", "list_name", "list name"),
    "name": ("值", "name", "value"),
    "label": ("标题", "label"),
}
SETTINGS_COLUMNS: dict[str, tuple[str, ...]] = {
    "form_id": ("表单标识", "form_id", "key"),
    "title": ("标题", "form_title", "title"),
    "version": ("版本", "version"),
    "access": ("访问", "access"),
    "description": ("说明", "description"),
    "case_type": ("事项类型", "case_type"),
    "title_field": ("标题字段", "title_field"),
    "accepting_unit": ("受理单位", "accepting_unit"),
    "opens_case": ("立案", "opens_case"),
    "extra": ("扩展", "extra"),
}
SHEET_NAMES = {"survey": ("survey", "问卷"), "choices": ("choices", "选项"), "settings": ("settings", "设置")}

SIMPLE_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "身份证号": {"type": "string", "format": "cn-id-card"},
    "手机号": {"type": "string", "format": "cn-mobile"},
    "boolean": {"type": "boolean"},
    "image": {"type": "array", "items": {"type": "string", "format": "attachment"}},
    "file": {"type": "array", "items": {"type": "string", "format": "attachment"}},
}
TYPE_ALIASES = {"string": "text", "int": "integer", "number": "decimal", "date-time": "datetime",
                "dateTime": "datetime", "是否": "boolean", "photo": "image", "idcard": "身份证号",
                "mobile": "手机号"}
BEGIN = {"begin group": "group", "begin_group": "group", "begin repeat": "repeat",
         "begin_repeat": "repeat", "begin object": "object", "begin_object": "object"}
END = {"end group": "group", "end_group": "group", "end repeat": "repeat", "end_repeat": "repeat",
       "end object": "object", "end_object": "object"}
KIND_NAMES = {"group": "分组", "repeat": "重复组", "object": "对象"}
APPEARANCE_ALIASES = {"multiline": "textarea", "minimal": "select", "多行": "textarea",
                      "下拉": "select", "单选按钮": "radio", "复选框": "checkboxes"}
YES = ("yes", "true", "是", "1", "y", "必填", "true()")
NO = ("no", "false", "否", "0", "n", "", "false()")
ACCESS = {"public": "public", "公开": "public", "staff": "staff", "工作人员": "staff", "内部": "staff"}
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SheetProblem:
    """One problem, where the author finds it: sheet, row (None: the whole sheet), column."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if not self.sheet:
            return self.message
        where = f"{self.sheet} 表"
        if self.row is not None:
            where += f"第 {self.row} 行"
        if self.column:
            where += f"「{self.column}」列"
        return f"{where}：{self.message}"


class XlsformInvalid(Exception):
    """The workbook has problems; ``problems`` lists every one."""

    def __init__(self, problems: list[SheetProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def cell_text(value: Any) -> str:
    """A cell as the text its author sees (numbers without a trailing ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class Table:
    """One sheet: its name as written, the header row, and each column's header text."""

    sheet: str
    header_row: int
    headers: dict[str, tuple[int, str]]  # canonical key → (index, header as written)
    rows: list[tuple[int, dict[str, str]]]

    def column(self, key: str) -> str:
        return self.headers[key][1] if key in self.headers else key


def _table(sheet: str, raw: list[tuple[int, list[Any]]], columns: dict[str, tuple[str, ...]]) -> Table:
    if not raw:
        return Table(sheet, 1, {}, [])
    header_row, header_cells = raw[0]
    lookup = {alias.lower(): key for key, aliases in columns.items() for alias in aliases}
    headers: dict[str, tuple[int, str]] = {}
    for index, value in enumerate(header_cells):
        text = cell_text(value)
        key = lookup.get(text.lower()) or lookup.get(text.split("::")[0].lower())
        if key is not None and key not in headers:
            headers[key] = (index, text)
    rows = []
    for number, cells in raw[1:]:
        values = {key: cell_text(cells[index]) if index < len(cells) else "" for key, (index, _h) in headers.items()}
        if any(values.values()):
            rows.append((number, values))
    return Table(sheet, header_row, headers, rows)


def _find_sheet(sheets: dict[str, Any], role: str) -> str | None:
    for name in sheets:
        if name.strip().lower() in SHEET_NAMES[role]:
            return name
    return None


# ---- the survey tree -------------------------------------------------------------------------


@dataclass
class Item:
    """A survey row: a field, or a group/repeat/object with the rows inside it."""

    row: int
    cells: dict[str, str]
    kind: str  # "field", "group", "repeat", "object"
    type: str = ""
    list_name: str | None = None
    children: list[Item] = field(default_factory=list)
    end_row: int | None = None


class _Converter:
    def __init__(self, sheets: dict[str, list[tuple[int, list[Any]]]]):
        self.sheets = sheets
        self.problems: list[SheetProblem] = []
        self.rows_by_path: dict[str, int] = {}
        self.ui: dict[str, Any] = {}

    def problem(self, table: Table | str, row: int | None, column: str | None, message: str) -> None:
        sheet = table.sheet if isinstance(table, Table) else table
        header = table.column(column) if isinstance(table, Table) and column else column
        self.problems.append(SheetProblem(sheet, row, header, message))

    # -- sheets

    def run(self) -> dict[str, Any] | None:
        names = {role: _find_sheet(self.sheets, role) for role in SHEET_NAMES}
        if names["survey"] is None:
            self.problem("survey", None, None, "缺少 survey 表（题目表，表头：类型、字段名、标题…）")
        if names["settings"] is None:
            self.problem("settings", None, None, "缺少 settings 表（表头：表单标识、标题、版本、访问）")
        choices = self._choices(_table(names["choices"], self.sheets[names["choices"]], CHOICES_COLUMNS)
                                if names["choices"] else None)
        settings = (_table(names["settings"], self.sheets[names["settings"]], SETTINGS_COLUMNS)
                    if names["settings"] else None)
        definition = self._settings(settings) if settings is not None else None
        survey = _table(names["survey"], self.sheets[names["survey"]], SURVEY_COLUMNS) if names["survey"] else None
        schema = None
        if survey is not None:
            self.survey = survey
            for key in ("type", "name"):
                if key not in survey.headers:
                    self.problem(survey, survey.header_row, None,
                                 f"缺少「{SURVEY_COLUMNS[key][0]}」列（表头应在第一行）")
            if "type" in survey.headers and "name" in survey.headers:
                tree = self._tree(survey)
                schema = self._root(tree, choices, survey)
        if self.problems or definition is None or schema is None:
            return None
        definition["schema"] = schema
        ui = {k: v for k, v in self.ui.items() if v}
        if ui:
            definition["ui"] = ui
        _merge_into(definition, self.settings_extra)
        self._check(definition, survey, settings)
        return None if self.problems else definition

    def _choices(self, table: Table | None) -> dict[str, list[tuple[str, str, int]]]:
        lists: dict[str, list[tuple[str, str, int]]] = {}
        self.choice_rows: dict[str, int] = {}
        if table is None:
            return lists
        for key in ("list_name", "name"):
            if key not in table.headers:
                self.problem(table, table.header_row, None, f"缺少「{CHOICES_COLUMNS[key][0]}」列")
        if any(p.sheet == table.sheet for p in self.problems):
            return lists
        for number, cells in table.rows:
            name, value, label = cells.get("list_name", ""), cells.get("name", ""), cells.get("label", "")
            if not name:
                self.problem(table, number, "list_name", "列表名不能为空")
                continue
            if not value:
                self.problem(table, number, "name", "选项值不能为空")
                continue
            entries = lists.setdefault(name, [])
            self.choice_rows.setdefault(name, number)
            earlier = next((row for v, _l, row in entries if v == value), None)
            if earlier is not None:
                self.problem(table, number, "name", f"选项值 “{value}” 在列表 “{name}” 中重复（已在第 {earlier} 行）")
                continue
            entries.append((value, label, number))
        return lists

    def _settings(self, table: Table) -> dict[str, Any] | None:
        self.settings_extra: dict[str, Any] = {}
        if not table.rows:
            self.problem(table, table.header_row + 1, None, "settings 表没有内容：第一行为表头，第二行填写表单标识、标题、访问")
            return None
        number, cells = table.rows[0]
        out: dict[str, Any] = {}
        for key, target, label in (("form_id", "key", "表单标识"), ("title", "title", "标题")):
            if key not in table.headers or not cells.get(key):
                self.problem(table, number, key if key in table.headers else SETTINGS_COLUMNS[key][0],
                             f"{label}不能为空")
            else:
                out[target] = cells[key]
        access = cells.get("access", "")
        if not access:
            self.problem(table, number, "access" if "access" in table.headers else "访问",
                         "访问不能为空：填 public（公开，居民可填）或 staff（工作人员）")
        elif access.lower() not in ACCESS and access not in ACCESS:
            self.problem(table, number, "access", f"访问应为 public（公开）或 staff（工作人员），而不是 “{access}”")
        else:
            out["access"] = ACCESS.get(access.lower(), ACCESS.get(access))
        for key in ("description", "case_type", "title_field", "accepting_unit"):
            if cells.get(key):
                out[key] = cells[key]
        opens = cells.get("opens_case", "")
        if opens:
            flag = _yes_no(opens)
            if flag is None:
                self.problem(table, number, "opens_case", "立案应为 是 或 否")
            elif not flag:
                out["opens_case"] = False
        if cells.get("extra"):
            extra = self._json(table, number, "extra", cells["extra"])
            if extra is not None:
                self.settings_extra = extra
        self.settings_row = number
        return out

    def _json(self, table: Table, number: int, column: str, text: str) -> dict[str, Any] | None:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            self.problem(table, number, column, f"不是有效的 JSON（第 {exc.colno} 个字符：{exc.msg}）")
            return None
        if not isinstance(value, dict):
            self.problem(table, number, column, "应为 JSON 对象（{…}）")
            return None
        return value

    def _tree(self, table: Table) -> list[Item]:
        root: list[Item] = []
        stack: list[Item] = []
        for number, cells in table.rows:
            raw_type = re.sub(r"\s+", " ", cells.get("type", "")).strip()
            lowered = raw_type.lower()
            siblings = stack[-1].children if stack else root
            if lowered in BEGIN:
                kind = BEGIN[lowered]
                if kind == "group" and stack:
                    self.problem(table, number, "type", "分组（begin group）只能在最外层使用；"
                                 "要把数据嵌套在一起请用 begin object 或 begin repeat")
                item = Item(number, cells, kind, lowered)
                siblings.append(item)
                stack.append(item)
            elif lowered in END:
                kind = END[lowered]
                if not stack:
                    self.problem(table, number, "type", f"{raw_type} 没有对应的 begin {kind}")
                elif stack[-1].kind != kind:
                    self.problem(table, number, "type", f"{raw_type} 与第 {stack[-1].row} 行的 "
                                 f"begin {stack[-1].kind} 不配对")
                    stack.pop()
                else:
                    stack.pop().end_row = number
            elif not raw_type:
                self.problem(table, number, "type", "题型不能为空")
            else:
                word, _space, rest = raw_type.partition(" ")
                word_key = word.lower() if word.isascii() else word
                if word_key in ("select_one", "select_multiple"):
                    if not rest.strip():
                        self.problem(table, number, "type", f"{word} 后应写选项列表名，如 “{word} yes_no”")
                        continue
                    siblings.append(Item(number, cells, "field", word_key, rest.strip()))
                    continue
                canonical = TYPE_ALIASES.get(raw_type, TYPE_ALIASES.get(word_key, word_key))
                if canonical not in SIMPLE_TYPES or rest:
                    self.problem(table, number, "type", f"未知题型 “{raw_type}”")
                    continue
                siblings.append(Item(number, cells, "field", canonical))
        for item in stack:
            self.problem(table, item.row, "type", f"begin {item.kind} 没有对应的 end {item.kind}")
        return root

    # -- schema

    def _root(self, tree: list[Item], choices: dict, table: Table) -> dict[str, Any]:
        self.ui = {"order": [], "sections": [], "widgets": {}, "help": {}, "placeholders": {},
                   "trim": [], "personal": {}, "relevant": {}}
        flat: list[tuple[Item, str | None]] = []  # (item, group relevant)
        sections: dict[str, dict[str, Any]] = {}
        for item in tree:
            if item.kind == "group":
                title = item.cells.get("label", "")
                if not title:
                    self.problem(table, item.row, "label", "分组的标题不能为空（显示为表单的一节）")
                section = sections.get(title)
                if section is None:
                    section = sections[title] = {"title": title, "fields": []}
                    self.ui["sections"].append(section)
                if item.cells.get("hint"):
                    section["description"] = item.cells["hint"]
                for child in item.children:
                    if child.kind == "group":
                        continue  # reported by _tree
                    flat.append((child, item.cells.get("relevant") or None))
                    if child.cells.get("name"):
                        section["fields"].append(child.cells["name"])
            else:
                flat.append((item, None))
        schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT, "type": "object"}
        self._object(schema, flat, choices, table, "")
        self.ui["order"] = list(schema["properties"])
        return schema

    def _object(self, schema: dict[str, Any], items: list[tuple[Item, str | None]], choices: dict,
                table: Table, prefix: str) -> None:
        """Fill ``schema`` (an object: the root, a fieldset or a repeat's items) from rows."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        seen: dict[str, int] = {}
        multiple = {i.cells.get("name", "") for i, _g in items if i.type == "select_multiple"}
        names = {i.cells.get("name", "") for i, _g in items}
        blocks: dict[str, dict[str, Any]] = {}
        dependent: dict[str, list[str]] = {}
        tests: dict[str, list[str]] = {}  # field → the fields its 相关 tests
        for item, group_relevant in items:
            name = item.cells.get("name", "")
            if not self._name_ok(table, item, name, seen):
                continue
            seen[name] = item.row
            path = f"{prefix}{name}"
            self.rows_by_path[path] = item.row
            prop, is_required = self._property(item, choices, table, path, multiple)
            properties[name] = prop
            relevant = item.cells.get("relevant", "")
            if group_relevant:
                relevant = f"({group_relevant}) and ({relevant})" if relevant else group_relevant
            if isinstance(is_required, list):  # required once another field is filled
                if relevant:
                    self.problem(table, item.row, "required", "有“相关”条件的题目，必填只能填 是 或 否")
                elif self._references_ok(table, item, "required", item.cells["required"], names):
                    for trigger in is_required:
                        dependent.setdefault(trigger, []).append(name)
                is_required = False
            conditional_keywords = self._conditional_keywords(item, table, relevant, multiple)
            if relevant:
                tests[name] = [n for n in expressions.references(relevant) if n != name]
                block = self._relevant_block(item, table, relevant, multiple, names, blocks)
                if block is not None:
                    if not expressions.renderer_reads(block["if"], multiple):
                        self.ui["relevant"][path] = expressions.relevant_tree(relevant)
                    branch = block["then"] if "then" in block else block["else"]
                    if is_required:
                        branch.setdefault("required", []).append(name)
                    if conditional_keywords or not is_required:
                        branch.setdefault("properties", {})[name] = conditional_keywords or {}
            elif is_required:
                required.append(name)
            self._cross_constraint(item, table, name, multiple, names, blocks)
            extra = item.cells.get("extra", "")
            if extra:
                value = self._json(table, item.row, "extra", extra)
                if value is not None:
                    _merge_into(prop, value)
        for trail in relevance.cycles(tests):
            self.problem(table, seen[trail[0]], "relevant",
                         f"相关条件互相引用：{' → '.join(trail)}（这些题目隐藏后都无法再显示）")
        schema["properties"] = properties
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        if dependent:
            schema["dependentRequired"] = dependent
        conditions = list(blocks.values())
        if len(conditions) == 1:
            schema.update(conditions[0])
        elif conditions:
            schema["allOf"] = conditions

    def _name_ok(self, table: Table, item: Item, name: str, seen: dict[str, int]) -> bool:
        if not name:
            self.problem(table, item.row, "name", "字段名不能为空")
            return False
        if not NAME_PATTERN.match(name) or name in RESERVED_FIELD_NAMES:
            self.problem(table, item.row, "name", f"字段名 “{name}” 不可用：请用英文字母开头，只含英文字母、"
                         "数字和下划线，且不用系统保留名（如 data、meta、errors）")
            return False
        if name in seen:
            self.problem(table, item.row, "name", f"字段名 “{name}” 重复（已在第 {seen[name]} 行使用）")
            return False
        return True

    def _property(self, item: Item, choices: dict, table: Table, path: str,
                  multiple: set[str]) -> tuple[dict[str, Any], bool]:
        cells = item.cells
        if item.kind == "repeat":
            items: dict[str, Any] = {"type": "object"}
            self._object(items, [(c, None) for c in item.children if c.kind != "group"], choices, table, f"{path}[].")
            prop: dict[str, Any] = {"type": "array", "items": items}
        elif item.kind == "object":
            prop = {"type": "object"}
            self._object(prop, [(c, None) for c in item.children if c.kind != "group"], choices, table, f"{path}.")
        elif item.type in ("select_one", "select_multiple"):
            options = choices.get(item.list_name or "")
            if options is None:
                self.problem(table, item.row, "type", f"选项列表 “{item.list_name}” 在 choices 表中不存在")
                options = []
            choice = _choice_schema(options)
            prop = choice if item.type == "select_one" else {"type": "array", "items": choice, "uniqueItems": True}
        else:
            prop = json.loads(json.dumps(SIMPLE_TYPES[item.type]))
        if cells.get("label"):
            prop["title"] = cells["label"]
        if cells.get("description"):
            prop["description"] = cells["description"]
        self._ui_columns(item, table, path)
        if cells.get("default"):
            default = self._default(item, table, cells["default"])
            if default is not None:
                prop["default"] = default
        if cells.get("constraint"):
            try:
                own, _blocks = expressions.constraint(cells["constraint"], cells.get("name", ""), multiple)
            except expressions.Untranslatable as exc:
                self.problem(table, item.row, "constraint", f"无法转换为校验规则：{exc}")
            else:
                for key, value in own.items():
                    if key in prop and prop[key] != value:
                        self.problem(table, item.row, "constraint", f"约束与题型冲突（{key}）")
                    prop[key] = value
        if cells.get("constraint_message"):
            if not cells.get("constraint"):
                self.problem(table, item.row, "constraint_message", "填写了约束提示，但没有约束")
            prop["errorMessage"] = cells["constraint_message"]
        required = _yes_no(cells.get("required", ""))
        if required is None:
            triggers = expressions.filled_triggers(cells["required"])
            if triggers is not None:
                return prop, triggers
            self.problem(table, item.row, "required", f"必填应为 是 或 否（yes/no）或 ${{字段名}} != ''，"
                         f"而不是 “{cells['required']}”")
        return prop, bool(required)

    def _ui_columns(self, item: Item, table: Table, path: str) -> None:
        cells = item.cells
        appearance = cells.get("appearance", "")
        widget = APPEARANCE_ALIASES.get(appearance.lower(), appearance.lower()) if appearance else None
        if item.type == "image":
            if widget not in (None, "image"):
                self.problem(table, item.row, "appearance", "image 题型的外观只能是 image")
            widget = "image"
        if widget is not None:
            if widget not in WIDGETS:
                self.problem(table, item.row, "appearance",
                             f"未知外观 “{appearance}”（可用：{'、'.join(WIDGETS)}、multiline、minimal）")
            else:
                self.ui["widgets"][path] = widget
        if cells.get("hint") and item.kind != "group":
            self.ui["help"][path] = cells["hint"]
        if cells.get("placeholder"):
            self.ui["placeholders"][path] = cells["placeholder"]
        trim = _yes_no(cells.get("trim", ""))
        if trim is None:
            self.problem(table, item.row, "trim", "去空格应为 是 或 否")
        elif trim:
            self.ui["trim"].append(path)
        personal = cells.get("personal", "")
        if personal:
            if personal not in PERSONAL_KINDS:
                self.problem(table, item.row, "personal", f"个人信息类别应为 {'、'.join(PERSONAL_KINDS)} 之一")
            else:
                self.ui["personal"][path] = personal

    def _default(self, item: Item, table: Table, text: str) -> Any:
        try:
            if item.type == "integer":
                return int(text)
            if item.type == "decimal":
                number = float(text)
                return int(number) if number.is_integer() and "." not in text else number
        except ValueError:
            self.problem(table, item.row, "default", f"默认值 “{text}” 不是数字")
            return None
        if item.type == "boolean":
            flag = _yes_no(text)
            if flag is None:
                self.problem(table, item.row, "default", "是否题的默认值应为 是 或 否")
            return flag
        if item.type == "select_multiple":
            return text.split()
        if item.kind != "field" or item.type in ("image", "file"):
            self.problem(table, item.row, "default", "此题型不能设置默认值")
            return None
        return text

    def _conditional_keywords(self, item: Item, table: Table, relevant: str, multiple: set[str]) -> dict[str, Any]:
        text = item.cells.get("relevant_constraint", "")
        if not text:
            return {}
        if not relevant:
            self.problem(table, item.row, "relevant_constraint", "条件约束只用于有“相关”条件的题目")
            return {}
        try:
            own, blocks = expressions.constraint(text, item.cells.get("name", ""), multiple)
        except expressions.Untranslatable as exc:
            self.problem(table, item.row, "relevant_constraint", f"无法转换为校验规则：{exc}")
            return {}
        if blocks:
            self.problem(table, item.row, "relevant_constraint", "条件约束只能检查本题（.），不能引用其他字段")
            return {}
        return own

    def _references_ok(self, table: Table, item: Item, column: str, text: str, names: set[str]) -> bool:
        missing = [n for n in expressions.references(text) if n not in names]
        for name in missing:
            self.problem(table, item.row, column, f"${{{name}}} 不是同一层级（同一组或重复组内）的字段")
        return not missing

    def _relevant_block(self, item: Item, table: Table, text: str, multiple: set[str], names: set[str],
                        blocks: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        if not self._references_ok(table, item, "relevant", text, names):
            return None
        try:
            test, negated = expressions.relevant(text, multiple)
        except expressions.Untranslatable as exc:
            self.problem(table, item.row, "relevant", f"无法转换为显示条件：{exc}")
            return None
        branch = "else" if negated else "then"
        key = json.dumps([test, branch], sort_keys=True, ensure_ascii=False)
        return blocks.setdefault(key, {"if": test, branch: {}})

    def _cross_constraint(self, item: Item, table: Table, name: str, multiple: set[str], names: set[str],
                          blocks: dict[str, dict[str, Any]]) -> None:
        text = item.cells.get("constraint", "")
        if not text or not expressions.references(text):
            return
        if not self._references_ok(table, item, "constraint", text, names):
            return
        try:
            _own, cross = expressions.constraint(text, name, multiple)
        except expressions.Untranslatable:
            return  # reported by _property
        for block in cross:
            blocks[json.dumps(block, sort_keys=True, ensure_ascii=False)] = block

    # -- the finished definition

    def _check(self, definition: dict[str, Any], survey: Table, settings: Table) -> None:
        """``forms check`` on the result; its problems are mapped back to a row where possible."""
        for found in check_definition(definition, "xlsform"):
            row, sheet, column = self._locate(found.pointer)
            table = survey if sheet == "survey" else settings
            self.problem(table, row, column, f"{found.message}（{found.pointer}）")

    def _locate(self, pointer: str) -> tuple[int | None, str, str | None]:
        parts = pointer.strip("/").split("/")
        path = ""
        if parts[:1] == ["schema"]:
            rest = parts[1:]
            while len(rest) >= 2 and rest[0] == "properties":
                path = f"{path}{rest[1]}"
                rest = rest[2:]
                if rest[:1] == ["items"]:
                    path, rest = f"{path}[]", rest[1:]
                if rest[:1] == ["properties"]:
                    path += "." if not path.endswith("]") else "."
            path = path.rstrip(".")
        elif parts[:1] == ["ui"] and len(parts) >= 3:
            path = parts[2].replace("~1", "/").replace("~0", "~")
        if path in self.rows_by_path:
            return self.rows_by_path[path], "survey", None
        return getattr(self, "settings_row", None), "settings", None


def _choice_schema(options: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Values only (``enum``) when every label is the value itself, else coded ``oneOf``."""
    if all(not label or label == value for value, label, _row in options):
        return {"type": "string", "enum": [value for value, _l, _r in options]}
    return {"type": "string", "oneOf": [{"const": value, "title": label or value} for value, label, _r in options]}


def _yes_no(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    return None


def _merge_into(target: dict[str, Any], extra: dict[str, Any]) -> None:
    """Deep-merge ``extra`` into ``target`` (the 扩展 column: what no other column carries)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = json.loads(json.dumps(value))


def convert(sheets: dict[str, list[tuple[int, list[Any]]]]) -> dict[str, Any]:
    """The definition the sheets describe; raises :class:`XlsformInvalid` with every problem."""
    converter = _Converter(sheets)
    definition = converter.run()
    if definition is None:
        raise XlsformInvalid(converter.problems or [SheetProblem("survey", None, None, "无法转换")])
    return definition
