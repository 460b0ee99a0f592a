"""Forms designed in Excel (fengqiao.forms.xlsform): conversion, problems, round trip — no database."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from jsonschema import Draft202012Validator
from xlsform_book import (
    HOUSEHOLD_SURVEY,
    VALID_ANSWERS,
    household_workbook,
    questions,
    row,
    workbook,
)

from fengqiao.forms.definition import check_definition
from fengqiao.forms.formats import FORMAT_CHECKER
from fengqiao.forms.schema_tools import sections
from fengqiao.forms.xlsform import (
    XlsformInvalid,
    export_sheets,
    export_workbook,
    import_workbook,
    template_workbook,
)
from fengqiao.forms.xlsform import expressions as ex

CORE = Path(__file__).resolve().parents[2] / "form_definitions"
CORE_FILES = sorted(p for p in CORE.glob("*.json") if not p.name.endswith(".casetype.json"))
PLUGIN_FILES = sorted(p for p in CORE.parent.glob("plugins/*/*/form_definitions/*.json")
                      if not p.name.endswith((".casetype.json", ".workflow.json")))


def _problems(data: bytes) -> list[str]:
    with pytest.raises(XlsformInvalid) as failed:
        import_workbook(data)
    return [str(p) for p in failed.value.problems]


def _errors(schema: dict, instance: dict) -> list[tuple[str, str]]:
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return sorted((e.json_path, e.validator) for e in validator.iter_errors(instance))


# ---- the household survey ------------------------------------------------------------------


def test_household_survey_converts_to_a_checked_definition():
    assert questions(HOUSEHOLD_SURVEY) == 40
    definition = import_workbook(household_workbook())
    assert check_definition(definition, "t") == []
    assert (definition["key"], definition["title"], definition["access"]) == ("household-survey", "入户调查", "public")
    props = definition["schema"]["properties"]
    assert props["head_id"] == {"type": "string", "format": "cn-id-card", "title": "户主身份证号"}
    assert props["head_mobile"]["format"] == "cn-mobile"
    assert props["head_age"] == {"type": "integer", "title": "年龄", "minimum": 16, "maximum": 120,
                                 "errorMessage": "年龄应在 16 到 120 岁之间"}
    assert props["head_gender"]["oneOf"] == [{"const": "male", "title": "男"}, {"const": "female", "title": "女"}]
    assert props["facilities"]["type"] == "array" and props["facilities"]["uniqueItems"] is True
    assert props["house_photo"] == {"type": "array", "title": "住房照片", "maxItems": 3,
                                    "items": {"type": "string", "format": "attachment"}}
    assert props["plate"]["pattern"].startswith("^[京津沪")
    assert props["rooms"]["default"] == 2
    members = props["members"]
    assert (members["minItems"], members["maxItems"], members["items"]["required"]) == (1, 10, ["m_name", "m_relation"])
    assert members["items"]["if"] == {"properties": {"m_working": {"const": "yes"}}, "required": ["m_working"]}
    ui = definition["ui"]
    assert [s["title"] for s in ui["sections"]] == ["户主信息", "住房情况", "家庭成员", "服务需求"]
    assert ui["sections"][0]["description"] == "按户口簿填写"
    assert ui["widgets"] == {"head_gender": "radio", "housing_type": "radio", "house_photo": "image",
                             "remark": "textarea"}
    assert "car_count" not in definition["schema"]["required"]  # required only while relevant


def test_relevant_conditions_use_the_renderers_if_then_form():
    definition = import_workbook(household_workbook())
    specs = {f.name: f for s in sections(definition) for f in s.fields}
    assert specs["party_date"].condition.to_json() == {"field": "is_party", "values": ["yes"], "negate": False}
    assert specs["car_count"].condition.field == "has_car" and specs["car_count"].required_when == "condition"
    assert specs["plate"].condition.field == "has_car" and specs["plate"].required_when is None
    assert specs["head_name"].condition is None


def test_the_translated_schema_accepts_and_rejects_like_the_workbook_says():
    schema = import_workbook(household_workbook())["schema"]
    assert _errors(schema, VALID_ANSWERS) == []
    cases = [
        ({"head_age": 12}, ("$.head_age", "minimum")),
        ({"housing_type": "other", "housing_other": None}, ("$", "required")),
        ({"has_car": "yes", "car_count": None}, ("$", "required")),
        ({"plate": "ABC"}, ("$.plate", "pattern")),
        ({"members": []}, ("$.members", "minItems")),
        ({"facilities": ["gas", "gas"]}, ("$.facilities", "uniqueItems")),
        ({"low_income_no": "12"}, ("$.low_income_no", "pattern")),
        ({"total_income": 50000}, ("$.total_income", "maximum")),  # low_income is yes
    ]
    for change, expected in cases:
        answers = {k: v for k, v in {**VALID_ANSWERS, **change}.items() if v is not None}
        assert expected in _errors(schema, answers), change
    poor = {**VALID_ANSWERS, "low_income": "no", "total_income": 50000}
    poor.pop("low_income_no")
    assert _errors(schema, poor) == []  # the cross-field constraint only binds 低保户
    no_car = {k: v for k, v in VALID_ANSWERS.items() if k not in ("car_count", "plate")}
    assert _errors(schema, {**no_car, "has_car": "no"}) == []


def test_english_headers_are_accepted():
    data = workbook(
        [["text", "name", "Name", "yes", "string-length(.) <= 20", "", "", "", "", ""],
         ["select_one yn", "agree", "Agree", "no", "", "", "", "", "", "minimal"],
         ["integer", "n", "N", "", "", "", "${agree} = 'y'", "", "", ""]],
        [["yn", "y", "Yes"], ["yn", "n", "No"]], ["english-form", "英文表头", "", "staff"],
        survey_header=["type", "name", "label", "required", "constraint", "constraint_message", "relevant",
                       "default", "hint", "appearance"],
        choices_header=["list_name", "name", "label"], settings_header=["form_id", "form_title", "version", "access"])
    definition = import_workbook(data)
    assert definition["schema"]["required"] == ["name"]
    assert definition["ui"]["widgets"] == {"agree": "select"}
    assert definition["schema"]["then"] == {"properties": {"n": {}}}


# ---- problems --------------------------------------------------------------------------------


def test_every_problem_is_reported_with_sheet_row_and_column():
    survey = [
        row("slect_one yesno", "a", "题一"),                                   # row 2: unknown type
        row("text", "b", "题二"),
        row("text", "b", "题三"),                                               # row 4: duplicate
        row("select_one missing", "c", "题四"),                                 # row 5: no such list
        row("text", "2d", "题五"),                                              # row 6: bad name
        row("integer", "e", "题六", constraint=". > ${b} + 1"),                 # row 7: untranslatable
        row("text", "f", "题七", relevant="today() > ${e}"),                    # row 8: untranslatable
        row("text", "g", "题八", relevant="${nobody} = 'x'"),                   # row 9: unknown reference
        row("begin group", "grp", "分组"),                                      # row 10: never closed
        row("text", "h", "题九", required="也许"),                              # row 11: bad yes/no
        row("end repeat"),                                                      # row 12: mismatched end
    ]
    problems = _problems(workbook(survey, [["yesno", "yes", "是"]], ["bad-form", "有问题的表单", "", "staff"]))
    assert problems == [
        "survey 表第 2 行「类型」列：未知题型 “slect_one yesno”",
        "survey 表第 12 行「类型」列：end repeat 与第 10 行的 begin group 不配对",
        "survey 表第 4 行「字段名」列：字段名 “b” 重复（已在第 3 行使用）",
        "survey 表第 5 行「类型」列：选项列表 “missing” 在 choices 表中不存在",
        "survey 表第 6 行「字段名」列：字段名 “2d” 不可用：请用英文字母开头，只含英文字母、数字和下划线，"
        "且不用系统保留名（如 data、meta、errors）",
        "survey 表第 7 行「约束」列：无法转换为校验规则：无法识别“+ 1”",
        "survey 表第 8 行「相关」列：无法转换为显示条件：不支持函数或运算 today",
        "survey 表第 9 行「相关」列：${nobody} 不是同一层级（同一组或重复组内）的字段",
        "survey 表第 11 行「必填」列：必填应为 是 或 否（yes/no）或 ${字段名} != ''，而不是 “也许”",
    ]


def test_unbalanced_groups_and_missing_settings_are_reported():
    survey = [row("begin repeat", "people", "人员"), row("text", "x", "姓名"), row("end group")]
    problems = _problems(workbook(survey, [], settings=False))
    assert "settings 表：缺少 settings 表（表头：表单标识、标题、版本、访问）" in problems
    assert "survey 表第 4 行「类型」列：end group 与第 2 行的 begin repeat 不配对" in problems
    unclosed = _problems(workbook([row("begin group", "g", "一节"), row("text", "x", "X")], []))
    assert unclosed == ["survey 表第 2 行「类型」列：begin group 没有对应的 end group"]
    empty = _problems(workbook([row("text", "x", "X")], [], ["", "", "", "everyone"]))
    assert empty == ["settings 表第 2 行「表单标识」列：表单标识不能为空",
                     "settings 表第 2 行「标题」列：标题不能为空",
                     "settings 表第 2 行「访问」列：访问应为 public（公开）或 staff（工作人员），而不是 “everyone”"]


def test_definition_check_problems_point_at_the_row():
    survey = [row("text", "summary", "摘要"), row("text", "data", "保留名")]
    problems = _problems(workbook(survey, [], ["ok-form", "表单", "", "staff"]))
    assert problems == ["survey 表第 3 行「字段名」列：字段名 “data” 不可用：请用英文字母开头，只含英文字母、"
                        "数字和下划线，且不用系统保留名（如 data、meta、errors）"]
    book = workbook(survey[:1], [], ["ok-form", "表单", "", "staff", "nope"],
                    settings_header=["表单标识", "标题", "版本", "访问", "标题字段"])
    problems = _problems(book)
    assert len(problems) == 1 and problems[0].startswith("settings 表第 2 行：") and "nope" in problems[0]
    assert problems[0].endswith("（/title_field）")


def test_an_unreadable_or_oversized_file_is_refused():
    assert _problems(b"not a workbook") == ["无法读取该文件：不是有效的 Excel（.xlsx）文件"]
    assert _problems(b"x" * ((1 << 20) + 1)) == ["文件过大：表单工作簿最大 1 MB"]


def test_formula_like_labels_stay_text():
    definition = import_workbook(household_workbook())
    definition["schema"]["properties"]["remark"]["title"] = "=HYPERLINK(\"http://x\")"
    data = export_workbook(definition)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["survey"]
    cell = next(c for r in sheet.iter_rows() for c in r if c.value == "=HYPERLINK(\"http://x\")")
    assert cell.data_type == "s"
    assert import_workbook(data) == definition


# ---- expressions -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "keywords"), [
    (". >= 1 and . <= 9", {"minimum": 1, "maximum": 9}),
    (". > 0 and . < 5.5", {"exclusiveMinimum": 0, "exclusiveMaximum": 5.5}),
    ("string-length(.) >= 2 and string-length(.) < 10", {"minLength": 2, "maxLength": 9}),
    ("string-length(.) = 6", {"minLength": 6, "maxLength": 6}),
    ("count(.) <= 3", {"maxItems": 3}),
    ("regex(., '^[0-9]+$')", {"pattern": "^[0-9]+$"}),
    (". = 'a' or . = 'b'", {"anyOf": [{"const": "a"}, {"const": "b"}]}),
    ("not(. = 'x')", {"not": {"const": "x"}}),
])
def test_constraints_on_the_field_itself(text, keywords):
    assert ex.constraint(text, "f", set()) == (keywords, [])


@pytest.mark.parametrize(("text", "test", "negated"), [
    ("${a} = 'x'", {"properties": {"a": {"const": "x"}}, "required": ["a"]}, False),
    ("${a} = 'x' or ${a} = 'y'", {"properties": {"a": {"enum": ["x", "y"]}}, "required": ["a"]}, False),
    ("${a} != 'x'", {"properties": {"a": {"const": "x"}}, "required": ["a"]}, True),
    ("not(${ok} = true())", {"properties": {"ok": {"const": True}}, "required": ["ok"]}, True),
    ("selected(${m}, 'v')", {"properties": {"m": {"contains": {"const": "v"}}}, "required": ["m"]}, False),
    ("${n} >= 18 and ${a} = 'x'", {"properties": {"n": {"minimum": 18}, "a": {"const": "x"}},
                                    "required": ["n", "a"]}, False),
])
def test_relevant_expressions(text, test, negated):
    assert ex.relevant(text, {"m"}) == (test, negated)
    assert ex.relevant(ex.test_text(test), {"m"}) == (test, False)


@pytest.mark.parametrize("text", [". > ${b}", "${a} + 1 > 2", ". >= '2024-01-01'", "string-length(.) != 3",
                                  "regex(., '[')", "${a} = ", "", "today()"])
def test_untranslatable_expressions_are_refused(text):
    with pytest.raises(ex.Untranslatable):
        ex.constraint(text, "f", set())


# ---- round trip ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CORE_FILES + PLUGIN_FILES, ids=lambda p: p.stem)
def test_every_core_and_plugin_form_round_trips(path):
    definition = json.loads(path.read_text(encoding="utf-8"))
    assert import_workbook(export_workbook(definition, 1)) == definition


def test_core_forms_need_the_extension_column_only_for_what_xlsform_lacks():
    """The 扩展 cells hold only what no column says: a repeat's item title, ui.contact and
    ui.hidden_from_handler (docs/xlsform.md); dependentRequired is 必填 "${x} != ''"."""
    extras = {}
    for path in CORE_FILES:
        sheets = export_sheets(json.loads(path.read_text(encoding="utf-8")))
        survey, settings = sheets["survey"], sheets["settings"]
        column = survey[0].index("扩展")
        extras[path.stem] = {r[1]: json.loads(r[column]) for r in survey[1:] if r[column]}
        if settings[1][settings[0].index("扩展")]:
            extras[path.stem]["<settings>"] = sorted(
                (part, sorted(value)) for part, value in json.loads(settings[1][settings[0].index("扩展")]).items())
    assert extras == {
        "dispute-registration": {"parties": {"items": {"title": "当事人"}}},
        "grid-incident": {},
        "livelihood-request": {"<settings>": [("ui", ["contact", "hidden_from_handler"])]},
        "proxy-service": {"<settings>": [("ui", ["contact"])]},
        "whistle-request": {},
    }


def test_household_survey_and_template_round_trip():
    definition = import_workbook(household_workbook())
    sheets = export_sheets(definition)
    assert not any(r[-1] for r in sheets["survey"][1:]), "no 扩展 needed for a workbook-born form"
    assert import_workbook(export_workbook(definition)) == definition
    template = import_workbook(template_workbook())
    assert check_definition(template, "t") == []
    assert import_workbook(export_workbook(template)) == template


def test_choice_lists_are_shared_when_exported_and_read_back():
    definition = import_workbook(household_workbook())
    chosen = {r[0] for r in export_sheets(definition)["choices"][1:]}
    assert len(chosen) == sum(1 for r in HOUSEHOLD_SURVEY if r[0].startswith("select_"))


def test_hostile_workbooks_are_refused_quickly():
    """The bounded reader of every spreadsheet import (fengqiao.tabular.read_sheets): a forged
    dimension, a row of millions of empty cells, an unpacking bomb and a flood of sheets."""
    import time

    from fengqiao.testing.workbooks import empty_cells, forged_dimension, unpacking_bomb

    rows = [["类型", "字段名"], ["text", "a"]]
    for data, expected in [(forged_dimension(rows), "超过上限"), (empty_cells(rows), "单元格过多"),
                           (unpacking_bomb(rows), "解压后超过")]:
        began = time.process_time()
        problems = _problems(data)
        assert time.process_time() - began < 2.0
        assert len(problems) == 1 and expected in problems[0], problems
    many = workbook([], [], sheets={f"s{i}": [["a"]] for i in range(21)})
    assert _problems(many) == ["工作表过多：最多 20 个"]


def test_required_once_another_field_is_filled():
    survey = [row("text", "ticket", "工单号"), row("date", "received", "受理日期", "${ticket} != ''"),
              row("text", "other", "其他", "${ticket} != '' or ${received} != ''"),
              row("text", "x", "X", "${ticket} != ''", relevant="${ticket} = 'a'")]
    problems = _problems(workbook(survey, [], ["dep-form", "表单", "", "staff"]))
    assert problems == ["survey 表第 5 行「必填」列：有“相关”条件的题目，必填只能填 是 或 否"]
    definition = import_workbook(workbook(survey[:3], [], ["dep-form", "表单", "", "staff"]))
    assert definition["schema"]["dependentRequired"] == {"ticket": ["received", "other"], "received": ["other"]}
    assert "required" not in definition["schema"]
    assert import_workbook(export_workbook(definition)) == definition
