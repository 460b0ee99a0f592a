"""The workflow designer's tables (cases/workflow_tables.py): every shipped case type survives
the round trip through the tables and the posted form unchanged; edits in the tables become
the definition the shared contract describes (step field kinds, 暂停计时 as effects, renamed
states followed); the tables' own problems and the check's problems land on table cells."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from fengqiao.cases import workflow_tables as wt
from fengqiao.cases.workflow import EFFECTS, GUARDS, ROLE_NAMES, check_case_type
from fengqiao.cases.workflow_labels import LABELS
from fengqiao.forms.core import CORE_DEFINITIONS

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*CORE_DEFINITIONS.glob("*.casetype.json"),
                  *REPO.glob("plugins/*/*/form_definitions/*.casetype.json")])


def _load(name: str) -> dict:
    return json.loads((CORE_DEFINITIONS / f"{name}.casetype.json").read_text(encoding="utf-8"))


def _posted(tables: dict) -> dict:
    """The tables as the browser posts them and the server reads them back."""
    return wt.tables_from_form(MultiDict(wt.flatten(tables)))


def test_the_shipped_types_are_all_found():
    names = {p.name for p in SHIPPED}
    assert {"grid_incident.casetype.json", "livelihood_request.casetype.json",
            "micro_wish.casetype.json"} <= names and len(SHIPPED) >= 8


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name.split(".")[0])
def test_every_shipped_type_round_trips_unchanged(path):
    definition = json.loads(path.read_text(encoding="utf-8"))
    tables = wt.to_tables(definition)
    assert wt.from_tables(tables, definition) == (definition, [])
    again, problems = wt.from_tables(_posted(tables), definition)
    assert problems == []
    # byte for byte: a save without edits makes no new digest (same keys, same order)
    assert json.dumps(again, ensure_ascii=False) == json.dumps(definition, ensure_ascii=False)


def test_unknown_keys_are_carried_over():
    definition = _load("livelihood_request")
    definition["org"] = "339901001"
    definition["workflow"]["transitions"][0]["x-note"] = "kept"
    tables = wt.to_tables(definition)
    tables["title"] = "12345 热线诉求（改）"
    out, problems = wt.from_tables(_posted(tables), definition)
    assert problems == []
    assert out["org"] == "339901001" and out["workflow"]["transitions"][0]["x-note"] == "kept"
    assert out["sla"]["override"] == definition["sla"]["override"]
    assert out["sla"]["start_field"] == definition["sla"]["start_field"]
    assert out["title"] == "12345 热线诉求（改）"


def test_every_code_has_a_chinese_label():
    assert set(GUARDS) <= set(LABELS["guards"]) and set(EFFECTS) <= set(LABELS["effects"])
    assert set(ROLE_NAMES) <= set(LABELS["roles"])


# ---- edits ---------------------------------------------------------------------------------


def _noise() -> dict:
    return {"key": "noise_report", "title": "噪音投诉", "prefix": "ZY",
            "workflow": {"initial": "open",
                         "states": [{"key": "open", "title": "待处理"}, {"key": "done", "title": "已处理", "final": True}],
                         "transitions": [{"name": "finish", "title": "处理完毕", "from": ["open"], "to": "done",
                                          "roles": ["staff"]}]}}


def test_a_state_and_a_transition_added_in_the_tables():
    base = _noise()
    tables = wt.to_tables(base)
    assert wt.apply_row_action(tables, MultiDict({"add_state": "1"}))
    assert tables["states"][-1]["key"] == "state1"  # a free key at once, so rows can refer to it
    tables["states"][-1].update(title="已复查", final=True)
    assert wt.apply_row_action(tables, MultiDict({"add_transition": "1"}))
    row = tables["transitions"][-1]
    row.update(title="提交复查", **{"from": ["open"]}, to="state1", roles=["staff", "grid_worker"], comment=True,
               step_title="复查", step_amount="2", step_unit="working_days")
    assert wt.apply_row_action(tables, MultiDict({"add_field": "1"}))
    tables["transitions"][1]["fields"][0].update(title="复查照片", kind="photo", required=True)
    out, problems = wt.from_tables(_posted(tables), base)
    assert problems == []
    assert out["workflow"]["states"][-1] == {"key": "state1", "title": "已复查", "final": True}
    assert out["workflow"]["transitions"][-1] == {
        "name": "step1", "title": "提交复查", "from": ["open"], "to": "state1", "roles": ["staff", "grid_worker"],
        "guards": ["comment_required"], "step_limit": {"title": "复查", "default": {"working_days": 2}},
        "fields": {"type": "object", "properties": {"field1": {
            "type": "array", "title": "复查照片", "items": {"type": "string", "format": "attachment"},
            "maxItems": 9, "minItems": 1}}, "required": ["field1"], "additionalProperties": False}}
    assert out["workflow"]["transitions"][0] == base["workflow"]["transitions"][0]
    assert check_case_type(out) == []


def test_removing_rows_without_javascript():
    definition = _load("grid_incident")
    tables = wt.to_tables(definition)
    assert wt.apply_row_action(tables, MultiDict({"remove-transitions-1": "1"}))
    assert [t["name"] for t in tables["transitions"]][:2] == ["accept", "self_handle"]
    assert wt.apply_row_action(tables, MultiDict({"remove-transitions-0-fields-0": "1"}))
    assert tables["transitions"][0]["fields"] == []
    assert wt.apply_row_action(tables, MultiDict({"remove-sla-escalation-2": "1"}))
    assert len(tables["sla"]["escalation"]) == 2
    assert not wt.apply_row_action(tables, MultiDict({"note": "x"}))
    out, problems = wt.from_tables(tables, definition)
    assert problems == [] and "fields" not in out["workflow"]["transitions"][0]


FIELD_KINDS = {
    "text": {"type": "string", "title": "T", "maxLength": 200},
    "textarea": {"type": "string", "title": "T", "maxLength": 2000, "x-widget": "textarea"},
    "number": {"type": "number", "title": "T"},
    "date": {"type": "string", "format": "date", "title": "T"},
    "select": {"type": "string", "title": "T", "oneOf": [{"const": "done", "title": "已整改"},
                                                          {"const": "未整改", "title": "未整改"}]},
    "photo": {"type": "array", "title": "T", "items": {"type": "string", "format": "attachment"}, "maxItems": 9},
    "file": {"type": "array", "title": "T", "items": {"type": "string", "format": "attachment",
                                                        "contentMediaType": "*/*"}, "maxItems": 9},
}


@pytest.mark.parametrize("kind", list(FIELD_KINDS))
def test_field_kinds_become_the_contract_schemas(kind):
    base = _noise()
    tables = wt.to_tables(base)
    tables["transitions"][0]["fields"] = [{"orig": "", "name": "x", "title": "T", "kind": kind, "required": False,
                                           "options": "done=已整改\n未整改"}]
    out, problems = wt.from_tables(_posted(tables), base)
    assert problems == []
    assert out["workflow"]["transitions"][0]["fields"]["properties"]["x"] == FIELD_KINDS[kind]
    assert wt.field_kind(FIELD_KINDS[kind]) == kind
    back = wt.to_tables(out)["transitions"][0]["fields"][0]
    assert back["kind"] == kind and (back["options"] == "done=已整改\n未整改") == (kind == "select")


def test_an_existing_field_keeps_what_the_tables_do_not_show():
    definition = _load("grid_incident")
    tables = wt.to_tables(definition)
    park = next(t for t in tables["transitions"] if t["name"] == "request_park")
    block = park["fields"][0]
    assert block["kind"] == "select" and block["options"].startswith("budget=待资金预算")
    block["title"] = "原因类别"
    block["required"] = False
    out, problems = wt.from_tables(tables, definition)
    schema = next(t for t in out["workflow"]["transitions"] if t["name"] == "request_park")["fields"]
    assert problems == [] and schema["properties"]["block"]["oneOf"][0] == {"const": "budget", "title": "待资金预算"}
    assert schema["properties"]["block"]["title"] == "原因类别"
    assert schema["required"] == ["review_on", "expected_resolution"]
    block["options"] = "budget=待资金预算\nother=其他"
    out, _ = wt.from_tables(tables, definition)
    schema = next(t for t in out["workflow"]["transitions"] if t["name"] == "request_park")["fields"]
    assert schema["properties"]["block"]["oneOf"] == [{"const": "budget", "title": "待资金预算"},
                                                      {"const": "other", "title": "其他"}]


def test_a_renamed_state_is_followed_everywhere():
    definition = _load("grid_incident")
    tables = wt.to_tables(definition)
    row = next(s for s in tables["states"] if s["key"] == "reported")
    row["key"] = "submitted"
    out, problems = wt.from_tables(_posted(tables), definition)
    assert problems == [] and out["workflow"]["initial"] == "submitted"
    refs = {s for t in out["workflow"]["transitions"] for s in [*t["from"], t["to"]]}
    assert "reported" not in refs and "submitted" in refs
    assert check_case_type(out) == []


def test_pauses_the_clock_maps_onto_the_effects():
    """暂停计时 is no stored flag: pause_sla into the state, resume_sla out of it (挂账)."""
    definition = _load("grid_incident")
    tables = wt.to_tables(definition)
    assert [s["key"] for s in tables["states"] if s["pauses"]] == ["parked"]
    for s in tables["states"]:
        s["pauses"] = s["key"] == "park_requested"
    out, problems = wt.from_tables(_posted(tables), definition)
    by_name = {t["name"]: t for t in out["workflow"]["transitions"]}
    assert problems == []
    assert "pause_sla" in by_name["request_park"]["effects"]
    assert "resume_sla" in by_name["reject_park"]["effects"]
    assert by_name["approve_park"]["effects"] == ["set_review", "resume_sla"]  # parked no longer pauses
    assert "resume_sla" not in by_name["resume"].get("effects", [])
    assert [s["key"] for s in wt.to_tables(out)["states"] if s["pauses"]] == ["park_requested"]


# ---- problems on cells ---------------------------------------------------------------------


def test_the_tables_own_problems_name_the_row_and_the_cell():
    base = _noise()
    tables = wt.to_tables(base)
    tables["transitions"][0].update(step_title="", step_amount="三天")
    tables["transitions"][0]["fields"] = [{"orig": "", "name": "9x", "title": "", "kind": "select", "required": False,
                                           "options": ""}]
    tables["sla"]["tiers"] = [{"value": "urgent", "amount": "1..5", "unit": "hours"}]
    tables["states"][1]["key"] = ""
    _, problems = wt.from_tables(_posted(tables), base)
    cells = {p: m for p, m, _ in problems}
    assert "流转第 1 行" in cells["/transitions/0/step_amount"] and "三天" in cells["/transitions/0/step_amount"]
    assert "/transitions/0/step_title" in cells
    assert "字母开头" in cells["/transitions/0/fields/0/name"]
    assert "/transitions/0/fields/0/title" in cells and "/transitions/0/fields/0/options" in cells
    assert "分级时限第 1 行" in cells["/sla/tiers/0/amount"]
    assert "状态第 2 行" in cells["/states/1/key"]
    assert wt.input_name("/transitions/0/fields/0/name") == "transitions-0-fields-0-name"


def test_problems_of_the_definition_map_onto_cells():
    definition = _load("grid_incident")
    tables = wt.to_tables(definition)
    assert wt.cell_of("/workflow/transitions/2/to", tables) == "/transitions/2/to"
    assert wt.cell_of("/workflow/transitions/2/roles/0", tables) == "/transitions/2/roles"
    assert wt.cell_of("/workflow/transitions/2", tables) == "/transitions/2"
    assert wt.cell_of("/workflow/transitions/3/fields/properties/unit/title", tables) == "/transitions/3/fields/0/title"
    assert wt.cell_of("/workflow/transitions/1/step_limit/default/hours", tables) == "/transitions/1/step_amount"
    assert wt.cell_of("/workflow/states/4/title", tables) == "/states/4/title"
    assert wt.cell_of("/workflow/initial", tables) == "/initial"
    assert wt.cell_of("/sla/tiers/complex/working_days", tables) == "/sla/tiers/2/amount"
    assert wt.cell_of("/sla/escalation/1/level", tables) == "/sla/escalation/1/level"
    assert wt.cell_of("/prefix", tables) == "/prefix"
    assert wt.cell_of("/checkin", tables) is None and wt.cell_of("", tables) is None
    broken = copy.deepcopy(definition)
    broken["workflow"]["transitions"][2]["to"] = "nowhere"
    pointers = {wt.cell_of(p, tables) for p, _, _ in check_case_type(broken)}
    assert pointers & {"/transitions/2/to", "/transitions/2"}


def test_ticking_dispatch_or_summon_adds_the_unit_field_the_effect_reads():
    base = _noise()
    tables = wt.to_tables(base)
    assert wt.apply_row_action(tables, MultiDict({"add_transition": "1"}))
    tables["transitions"][-1].update(title="分派整改", **{"from": ["open"]}, to="open", roles=["staff"],
                                     effects=["dispatch"])
    assert wt.apply_row_action(tables, MultiDict({"add_transition": "1"}))
    tables["transitions"][-1].update(title="吹哨", **{"from": ["open"]}, to="open", roles=["leader"],
                                     effects=["summon"])
    out, problems = wt.from_tables(_posted(tables), base)
    assert problems == []
    dispatch, summon = out["workflow"]["transitions"][-2:]
    assert dispatch["fields"]["required"] == ["unit"] and dispatch["fields"]["properties"]["unit"]["title"] == "承办单位"
    assert summon["fields"]["required"] == ["units"] and summon["fields"]["properties"]["units"]["type"] == "array"
    assert check_case_type(out) == []
    again, _ = wt.from_tables(_posted(wt.to_tables(out)), out)  # the added field is a row now: not added twice
    assert again == out
