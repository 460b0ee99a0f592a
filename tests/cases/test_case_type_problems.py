"""``check_case_type`` lists every problem of a definition at once, in the admin's words:
positions 1-based, the valid choices named, duplicates named, and the design rules a
no-code workflow needs (reachable states, a way out, a final state, 须有附件 with a field)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fengqiao.cases.workflow import Registry, check_case_type
from fengqiao.forms.core import CORE_DEFINITIONS

PHOTOS = {"type": "array", "title": "整改照片", "items": {"type": "string", "format": "attachment"},
          "maxItems": 9, "minItems": 1}
EBIKE = {
    "key": "ebike_charging", "title": "电动车违规充电隐患", "prefix": "DC", "org": "339901001",
    "sla": {"default": {"working_days": 5}, "escalation": [{"after": {"hours": 0}, "level": "street"}]},
    "workflow": {
        "initial": "reported",
        "states": [{"key": "reported", "title": "已上报"}, {"key": "verified", "title": "待派单"},
                   {"key": "rectifying", "title": "整改中"}, {"key": "rechecking", "title": "待复查"},
                   {"key": "closed", "title": "已结案", "final": True}],
        "transitions": [
            {"name": "verify", "title": "核实", "from": ["reported"], "to": "verified", "roles": ["staff"],
             "levels": ["community"]},
            {"name": "dispatch", "title": "分派整改", "from": ["verified"], "to": "rectifying", "roles": ["staff"],
             "effects": ["dispatch"],
             "fields": {"type": "object", "properties": {"unit": {"type": "string", "title": "整改单位"}},
                        "required": ["unit"]},
             "step_limit": {"title": "整改", "default": {"working_days": 3}}},
            {"name": "rectified", "title": "整改完成", "from": ["rectifying"], "to": "rechecking",
             "roles": ["department", "staff"], "guards": ["dispatched_unit", "attachment_required"],
             "fields": {"type": "object", "properties": {"rectify_photos": PHOTOS}, "required": ["rectify_photos"]}},
            {"name": "recheck_pass", "title": "复查通过", "from": ["rechecking"], "to": "closed",
             "roles": ["grid_worker", "staff"], "guards": ["attachment_required"],
             "fields": {"type": "object", "properties": {"recheck_photos": {**PHOTOS, "title": "复查照片"}},
                        "required": ["recheck_photos"]}},
            {"name": "recheck_fail", "title": "复查不通过", "from": ["rechecking"], "to": "rectifying",
             "roles": ["grid_worker", "staff"], "guards": ["attachment_required", "comment_required"],
             "fields": {"type": "object", "properties": {"recheck_photos": {**PHOTOS, "title": "复查照片"}}},
             "step_limit": {"title": "整改", "default": {"working_days": 3}}},
        ],
    },
}


def _ebike() -> dict:
    return copy.deepcopy(EBIKE)


def _messages(definition) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pointer, message, _code in check_case_type(definition):
        found.setdefault(pointer, []).append(message)
    return found


def test_the_agreed_ebike_workflow_passes():
    assert check_case_type(EBIKE) == []


def test_schema_and_reference_problems_are_listed_together():
    """Regression: a schema problem (a wrong role) hid every reference problem (a misspelt
    state) until the first was fixed; now both come back from one check."""
    bad = _ebike()
    transitions = bad["workflow"]["transitions"]
    transitions[0]["roles"] = ["boss"]
    transitions[2]["to"] = "rechecing"
    transitions[1]["to"] = "rectifyng"
    found = _messages(bad)
    assert found["/workflow/transitions/0/roles/0"] == [
        "第 1 条流转「核实」的角色 boss 无效（可选：admin（系统管理员）、supervisor（督查/主管）、staff（工作人员）、"
        "grid_worker（网格员）、department（职能部门）、viewer（只读查看）、leader（领导/书记）、mediator（调解员）、"
        "assignee（当前承办人））"]
    assert found["/workflow/transitions/1/to"] == [
        "第 2 条流转「分派整改」引用了未定义的状态 rectifyng（可选：reported、verified、rectifying、rechecking、closed）"]
    assert found["/workflow/transitions/2/to"][0].startswith("第 3 条流转「整改完成」引用了未定义的状态 rechecing")


def test_enum_problems_name_the_valid_keys_with_their_labels():
    bad = _ebike()
    bad["workflow"]["transitions"][2]["guards"] = ["dispatched_unit", "photo_required"]
    bad["workflow"]["transitions"][1]["effects"] = ["send"]
    bad["workflow"]["transitions"][0]["levels"] = ["town"]
    bad["sla"]["escalation"][0]["level"] = "city"
    found = _messages(bad)
    guard = found["/workflow/transitions/2/guards/1"][0]
    assert guard.startswith("第 3 条流转「整改完成」的条件 photo_required 无效（可选：comment_required（须填写意见）、")
    assert "attachment_required（须有附件）" in guard
    assert "dispatch（分派承办单位）" in found["/workflow/transitions/1/effects/0"][0]
    assert "第 1 条流转「核实」的单位层级 town 无效" in found["/workflow/transitions/0/levels/0"][0]
    assert found["/sla/escalation/0/level"] == [
        "第 1 级超期督办的层级 city 无效（可选：community（社区）、street（街道）、county（县级））"]


def test_duplicates_are_named_with_their_positions():
    bad = _ebike()
    bad["workflow"]["states"].append({"key": "verified", "title": "已核实"})
    bad["workflow"]["transitions"].append(copy.deepcopy(bad["workflow"]["transitions"][0]))
    found = _messages(bad)
    assert found["/workflow/states"] == ["状态 key 重复：verified（第 2、6 个状态）"]
    assert found["/workflow/transitions"] == ["流转名称重复：verify（第 1、6 条流转）"]


def test_shape_problems_name_the_item_one_based():
    bad = _ebike()
    bad["workflow"]["states"][1]["key"] = "Verified"
    del bad["workflow"]["transitions"][3]["title"]
    found = _messages(bad)
    assert found["/workflow/states/1/key"][0].startswith("第 2 个状态「待派单」的 key 只能用小写字母开头")
    assert found["/workflow/transitions/3/title"] == ["第 4 条流转「recheck_pass」的 名称 title：此项为必填项"]


def test_attachment_required_needs_a_photo_or_file_field_of_the_step():
    bad = _ebike()
    bad["workflow"]["transitions"][2]["fields"] = {"type": "object", "properties": {
        "note": {"type": "string", "title": "说明"}}}
    assert check_case_type(bad) == [(
        "/workflow/transitions/2/guards/1", "第 3 条流转「整改完成」须有附件要求本步骤有照片或附件字段", "attachment_field")]
    del bad["workflow"]["transitions"][2]["fields"]
    assert [c for _p, _m, c in check_case_type(bad)] == ["attachment_field"]
    files = _ebike()
    files["workflow"]["transitions"][2]["fields"]["properties"]["rectify_photos"]["items"]["contentMediaType"] = "*/*"
    assert check_case_type(files) == []  # a file field (any document) counts too


def test_unreachable_states_dead_ends_and_no_final_state():
    bad = _ebike()
    bad["workflow"]["states"].append({"key": "archived", "title": "已归档"})
    bad["workflow"]["transitions"] = [t for t in bad["workflow"]["transitions"] if t["name"] != "recheck_pass"]
    for state in bad["workflow"]["states"]:
        state.pop("final", None)
    found = check_case_type(bad)
    assert ("/workflow/states/5", "第 6 个状态「已归档」从初始状态出发无法到达：没有通向它的流转路径", "unreachable") in found
    assert ("/workflow/states/5", "第 6 个状态「已归档」不是终止状态，却没有离开它的流转：事项会停在这里", "dead_end") in found
    assert ("/workflow/states/4", "第 5 个状态「已结案」从初始状态出发无法到达：没有通向它的流转路径", "unreachable") in found
    assert ("/workflow/states", "流程没有终止状态：至少要有一个状态标为终止（结案）", "no_final") in found
    # a version stored before these rules stays usable: only its shape and references are checked
    assert check_case_type(bad, strict=False) == []


def test_every_shipped_case_type_passes_the_new_rules():
    roots = [CORE_DEFINITIONS, *sorted(Path(__file__).resolve().parents[2].glob("plugins/*/*/form_definitions"))]
    registry = Registry()
    for folder in roots:
        registry.load_folder(folder)
    assert registry.problems == []
    assert {"grid_incident", "whistle", "points_claim", "micro_wish"} <= set(registry.definitions)


@pytest.mark.parametrize("value", [None, [], "text", {"key": "x"}, {"workflow": {"states": "x", "transitions": 3}}])
def test_odd_input_gives_problems_not_errors(value):
    assert check_case_type(value)
    json.dumps(check_case_type(value), ensure_ascii=False)
