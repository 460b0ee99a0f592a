"""``ui.relevant`` (fengqiao.forms.relevance): the converter writes it for conditions the page's
single-field reader cannot show by, the definition check guards it, export writes it back,
the diff reports it, and its meaning is the server's ``if`` block — no database."""

from __future__ import annotations

import copy
import itertools
import json
import random

import pytest
from jsonschema import Draft202012Validator
from relevance_book import EXPECTED_TREES, RELEVANCE_SURVEY, relevance_workbook
from xlsform_book import household_workbook, row, workbook

from fengqiao.forms import relevance
from fengqiao.forms.definition import check_definition
from fengqiao.forms.diff import RELEVANCE, diff_definitions
from fengqiao.forms.normalise import normalise
from fengqiao.forms.schema_tools import build_specs
from fengqiao.forms.xlsform import XlsformInvalid, export_sheets, export_workbook, import_workbook
from fengqiao.forms.xlsform import expressions as ex

# ---- the converter ------------------------------------------------------------------------------


def test_household_survey_records_the_conditions_the_page_cannot_read():
    definition = import_workbook(household_workbook())
    assert definition["ui"]["relevant"] == {
        "facility_note": {"field": "facilities", "op": "selected", "value": "other"},
        "needs_other": {"field": "needs", "op": "selected", "value": "other"},
    }
    specs = {s.name: s for s in build_specs(definition["schema"], definition["ui"])}
    assert specs["facility_note"].relevant == definition["ui"]["relevant"]["facility_note"]
    assert specs["party_date"].relevant is None and specs["party_date"].condition is not None  # as before
    assert check_definition(definition, "t") == []


def test_complex_conditions_become_trees_and_round_trip():
    definition = import_workbook(relevance_workbook())
    assert check_definition(definition, "t") == []
    assert definition["ui"]["relevant"] == EXPECTED_TREES
    specs = {s.name: s for s in build_specs(definition["schema"], definition["ui"])}
    assert specs["medical_note"].required_when == "condition" and not specs["medical_note"].required
    assert specs["contact_time"].required_when is None
    member = {c.name: c for c in specs["members"].children}
    assert member["m_employer"].relevant == EXPECTED_TREES["members[].m_employer"]
    assert import_workbook(export_workbook(definition)) == definition
    survey = export_sheets(definition)["survey"]
    cells = {r[1]: r[survey[0].index("相关")] for r in survey[1:]}
    assert cells["medical_note"] == "selected(${needs}, 'medical') and ${age} >= 60 and ${age} < 120"
    assert cells["carer"] == "${age} >= 80 and ${has_job} != 'yes'"  # the group's condition folded in
    assert not any(r[-1] for r in survey[1:]), "no 扩展 needed"


@pytest.mark.parametrize("tree", list(EXPECTED_TREES.values()))
def test_tree_text_parses_back_to_the_same_tree(tree):
    assert ex.relevant_tree(ex.tree_text(tree)) == tree


def test_empty_checks_mean_filled_or_not():
    """``${x} != ''`` used to become ``not {x: const ""}``: always true once normalising drops
    "" — a field required while it holds was required always."""
    survey = [row("text", "contact", "联系方式"), row("text", "when", "时间", "是", relevant="${contact} != ''")]
    schema = import_workbook(workbook_of(survey))["schema"]
    validator = Draft202012Validator(schema)
    assert validator.is_valid(normalise({"contact": ""}, schema, set()))
    assert not validator.is_valid({"contact": "13800138000"})
    assert validator.is_valid({"contact": "13800138000", "when": "上午"})


def workbook_of(survey):
    return workbook(survey, [], ["t-form", "表单", "", "staff"])


def test_a_numeric_comparison_of_a_text_field_is_reported_at_its_row():
    survey = [row("text", "name", "姓名"), row("text", "x", "X", relevant="${name} >= 5")]
    with pytest.raises(XlsformInvalid) as failed:
        import_workbook(workbook_of(survey))
    assert [str(p) for p in failed.value.problems] == [
        "survey 表第 3 行：只能对整数或小数题比较大小（name 不是数字题）（/ui/relevant/x/value）"]


def test_conditions_testing_each_other_are_reported():
    survey = [row("select_one yn", "a", "A", relevant="${b} = 'yes'"), row("select_one yn", "b", "B", relevant="${a} = 'yes'"),
              row("text", "c", "C", relevant="${c} = 'x' or ${a} = 'yes'")]
    with pytest.raises(XlsformInvalid) as failed:
        import_workbook(workbook(survey, [["yn", "yes", "是"], ["yn", "no", "否"]], ["t-form", "表单", "", "staff"]))
    assert [str(p) for p in failed.value.problems] == [
        "survey 表第 2 行「相关」列：相关条件互相引用：a → b → a（这些题目隐藏后都无法再显示）"]


# ---- the definition check -----------------------------------------------------------------------


def _definition(relevant) -> dict:
    definition = import_workbook(relevance_workbook())
    definition["ui"]["relevant"] = relevant
    return definition


def _messages(relevant) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in check_definition(_definition(relevant), "t")]


def _deep(levels: int) -> dict:
    tree: dict = {"field": "age", "op": ">", "value": 1}
    for _ in range(levels):
        tree = {"not": tree}
    return tree


@pytest.mark.parametrize(("relevant", "expected"), [
    ({"medical_note": {"field": "age", "op": "~", "value": 1}},
     ("/ui/relevant/medical_note/op", "不支持的比较 \"~\"（可用：=、!=、<、<=、>、>=、selected、filled、empty、regex）")),
    ({"medical_note": {"field": "nobody", "op": "filled"}},
     ("/ui/relevant/medical_note/field", "显示条件引用了不存在的字段 nobody（只能引用同一层级的字段）")),
    ({"medical_note": {"field": "medical_note", "op": "filled"}},
     ("/ui/relevant/medical_note/field", "字段 medical_note 的显示条件不能判断它自己")),
    ({"medical_note": {"field": "contact", "op": ">=", "value": 3}},
     ("/ui/relevant/medical_note/value", "只能对整数或小数题比较大小（contact 不是数字题）")),
    ({"medical_note": {"field": "age", "op": "=", "value": "六十"}},
     ("/ui/relevant/medical_note/value", "取值 \"六十\" 与字段 age 的类型不符")),
    ({"medical_note": {"field": "needs", "op": "selected", "value": "travel"}},
     ("/ui/relevant/medical_note/value", "取值 \"travel\" 不是字段 needs 的选项（可选：\"job\"、\"medical\"、\"care\"）")),
    ({"medical_note": {"field": "contact", "op": "=", "value": ""}},
     ("/ui/relevant/medical_note/value", "判断是否填写请用 filled 或 empty")),
    ({"medical_note": {"field": "contact", "op": "regex", "value": "["}},
     ("/ui/relevant/medical_note/value", "正则表达式无效：[")),
    ({"medical_note": {"field": "age", "op": ">=", "value": 2, "of": "count"}},
     ("/ui/relevant/medical_note/value", "字段 age 不能比较个数")),
    ({"medical_note": {"field": "age", "op": "filled", "value": 1}},
     ("/ui/relevant/medical_note", "filled 不需要 value 或 of")),
    ({"medical_note": {"field": "age", "op": ">", "value": 1, "when": "now"}},
     ("/ui/relevant/medical_note/when", "不认识的键 when（可用：field、op、value、of，或 and、or、not）")),
    ({"medical_note": {"and": []}}, ("/ui/relevant/medical_note/and", "and 应为非空列表")),
    ({"medical_note": {"or": [{"field": "age", "op": "filled"}], "not": {}}},
     ("/ui/relevant/medical_note", "or 条件只能有 or 一个键")),
    ({"medical_note": _deep(8)},
     ("/ui/relevant/medical_note/not/not/not/not/not/not/not/not", "显示条件嵌套过深：最多 8 层")),
    ({"medical_note": {"or": [{"field": "age", "op": ">", "value": i} for i in range(21)]}},
     ("/ui/relevant/medical_note/or", "or 最多 20 项")),
    ({"medical_note": {"and": [{"or": [{"field": "age", "op": ">", "value": i}] * 10} for i in range(7)]}},
     ("/ui/relevant/medical_note", "显示条件过于复杂：最多 64 个条件项")),
    ({"ghost": {"field": "age", "op": "filled"}}, ("/ui/relevant/ghost", "显示条件写给了不存在的字段 ghost")),
    ({"members[].m_employer": {"field": "age", "op": "filled"}},
     ("/ui/relevant/members[].m_employer/field", "显示条件引用了不存在的字段 age（只能引用同一层级的字段）")),
    ({"medical_note": "age >= 60"}, ("/ui/relevant/medical_note", "应为对象 (object)")),
    ({"contact_time": {"field": "no_contact", "op": "filled"}, "no_contact": {"field": "contact_time", "op": "empty"}},
     ("/ui/relevant/contact_time", "显示条件互相引用：contact_time → no_contact → contact_time（会使这些题目都无法显示）")),
])
def test_malformed_or_oversized_trees_are_refused_in_chinese(relevant, expected):
    assert _messages(relevant) == [expected]


def test_a_sound_tree_in_a_repeat_passes():
    assert _messages({"members[].m_employer": {"field": "m_name", "op": "regex", "value": "^王"}}) == []


# ---- diff ---------------------------------------------------------------------------------------


def test_the_diff_reports_a_changed_condition():
    old = import_workbook(relevance_workbook())
    new = copy.deepcopy(old)
    new["ui"]["relevant"]["medical_note"]["and"][1]["value"] = 65
    del new["ui"]["relevant"]["no_contact"]
    changes = [(c.path, c.kind, c.breaking, c.message) for c in diff_definitions(old, new).changes]
    assert changes == [
        ("medical_note", RELEVANCE, False, "medical_note 修改了显示条件（ui.relevant）"),
        ("no_contact", RELEVANCE, False, "no_contact 取消了显示条件（ui.relevant）"),
    ]


# ---- meaning: the tree holds exactly when the server applies the field's branch ----------------


def _branch_applies(schema: dict, field: str, instance: dict) -> bool:
    """Whether the ``if`` block that governs ``field`` puts it in force for ``instance``."""
    blocks = [schema] + list(schema.get("allOf", []))
    for block in blocks:
        for branch in ("then", "else"):
            sub = block.get(branch)
            if isinstance(sub, dict) and (field in sub.get("properties", {}) or field in sub.get("required", [])):
                holds = Draft202012Validator(block["if"]).is_valid(instance)
                return holds if branch == "then" else not holds
    raise AssertionError(field)


SCALARS = {
    "integer": [None, 0, 1, 59, 60, 61, 80, 119, 120, 121],
    "string": [None, "a", "王小", "x" * 3],
    "choice": [None, "yes", "no"],
    "multiple": [None, ["job"], ["medical"], ["job", "care"], ["medical", "care", "job"]],
}


def _values(prop: dict) -> list:
    kind = relevance._kind(prop)
    if kind == "choice":
        return [None, *relevance._choices(prop)]
    if kind == "multiple":
        options = relevance._choices(prop["items"])
        return [None, *([o] for o in options), options[:2], options]
    if kind == "number":
        return SCALARS["integer"]
    if kind == "boolean":
        return [True, False]
    return SCALARS["string"]


def scopes(props: dict, names: list[str], rng: random.Random, limit: int = 400) -> list[dict]:
    """Well-typed objects (each referenced field absent or valid for itself), normalised."""
    pools = [_values(props[n]) for n in names]
    every = list(itertools.product(*pools))
    rng.shuffle(every)
    out = []
    for values in every[:limit]:
        out.append({n: v for n, v in zip(names, values, strict=True) if v is not None})
    return out


def cases(definition: dict) -> list[tuple[str, dict, dict, dict]]:
    """(path, tree, object schema, scope) for every ``ui.relevant`` entry of a definition."""
    rng = random.Random(7)
    out = []
    for path, tree in definition["ui"]["relevant"].items():
        holder = definition["schema"]
        if "[]." in path:
            holder = holder["properties"][path.split("[]")[0]]["items"]
        for scope in scopes(holder["properties"], relevance.references(tree), rng):
            out.append((path, tree, holder, scope))
    return out


@pytest.mark.parametrize("book", [relevance_workbook, household_workbook], ids=["relevance", "household"])
def test_the_tree_holds_exactly_when_the_schema_applies_the_branch(book):
    definition = import_workbook(book())
    found = cases(definition)
    assert len(found) > 10
    both = {True: 0, False: 0}
    for path, tree, holder, scope in found:
        expected = _branch_applies(holder, path.rsplit(".", 1)[-1], scope)
        assert relevance.holds(tree, scope) is expected, (path, scope)
        both[expected] += 1
    assert both[True] and both[False]


def test_every_survey_row_with_a_condition_is_covered():
    definition = import_workbook(relevance_workbook())
    with_condition = [r[1] for r in RELEVANCE_SURVEY if r[6] and not r[0].startswith("begin")]
    assert sorted(p.rsplit(".", 1)[-1] for p in definition["ui"]["relevant"]) == sorted(with_condition)
    assert json.dumps(definition["ui"]["relevant"], ensure_ascii=False)  # plain JSON
