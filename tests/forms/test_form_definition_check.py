"""Definition files: the data class, check_definition's layers, check_files, field_paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fengqiao.forms.definition import (
    DEFINITION_META_SCHEMA,
    DefinitionProblem,
    FormDefinition,
    check_definition,
    check_files,
    field_paths,
)

README_EXAMPLE = {
    "key": "grid-incident",
    "title": "网格事件上报",
    "description": "网格员或居民上报网格内发现的问题",
    "access": "staff",
    "case_type": "grid_incident",
    "title_field": "summary",
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "summary": {"type": "string", "title": "事件标题", "minLength": 1, "maxLength": 100},
            "category": {"type": "string", "title": "事件类别", "enum": ["市容环境", "安全隐患"]},
            "urgency": {
                "type": "string",
                "title": "紧急程度",
                "oneOf": [{"const": "normal", "title": "一般"}, {"const": "urgent", "title": "紧急"}],
                "default": "normal",
            },
            "reporter_mobile": {"type": "string", "title": "联系电话", "format": "cn-mobile"},
            "photos": {
                "type": "array",
                "title": "现场照片",
                "maxItems": 6,
                "items": {"type": "string", "format": "attachment"},
            },
        },
        "required": ["summary", "category"],
        "additionalProperties": False,
    },
    "ui": {
        "order": ["summary", "category", "urgency", "reporter_mobile", "photos"],
        "sections": [
            {"title": "基本信息", "fields": ["summary", "category", "urgency"]},
            {"title": "联系方式与照片", "fields": ["reporter_mobile", "photos"]},
        ],
        "widgets": {"category": "select", "urgency": "radio", "photos": "image"},
        "help": {"reporter_mobile": "仅工作人员可见，用于回访"},
        "placeholders": {"summary": "一句话说明问题"},
        "trim": ["summary"],
    },
}

NESTED_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "address": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "geo": {"type": "object", "properties": {"lat": {"type": "number"}}},
            },
        },
        "members": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name"],
            },
        },
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": True},
        "extra": {"type": "object"},
    },
}


def definition(**changes) -> dict:
    data = copy.deepcopy(README_EXAMPLE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def with_schema(schema: dict, **changes) -> dict:
    return definition(schema=schema, **changes)


def pairs(problems: list[DefinitionProblem]) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in problems]


def pointers(problems: list[DefinitionProblem]) -> list[str]:
    return [p.pointer for p in problems]


# --- the data classes ----------------------------------------------------------------------


def test_readme_example_is_valid_and_round_trips():
    assert check_definition(README_EXAMPLE) == []
    form = FormDefinition.from_dict(README_EXAMPLE)
    assert (form.key, form.access, form.case_type, form.title_field) == (
        "grid-incident", "staff", "grid_incident", "summary"
    )
    assert form.to_dict() == README_EXAMPLE
    assert FormDefinition.from_dict(form.to_dict()) == form


def test_from_dict_defaults_and_copies():
    data = {"key": "ab", "title": "T", "access": "public",
            "schema": {"type": "object", "properties": {}}}
    form = FormDefinition.from_dict(data)
    assert (form.ui, form.case_type, form.description, form.title_field) == ({}, None, "", None)
    assert form.to_dict() == data  # empty optional keys are left out
    data["schema"]["properties"]["x"] = {}
    assert form.schema == {"type": "object", "properties": {}}
    with pytest.raises(AttributeError):
        form.key = "other"  # type: ignore[misc]


def test_problem_str_names_file_and_pointer():
    assert str(DefinitionProblem("a.json", "/ui/order/0", "坏")) == "a.json: /ui/order/0: 坏"
    assert str(DefinitionProblem("a.json", "", "坏")) == "a.json: /: 坏"


# --- layer 1: the file's shape ------------------------------------------------------------


def test_meta_schema_is_itself_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(DEFINITION_META_SCHEMA)


def test_each_missing_required_key_is_one_problem():
    problems = check_definition({"description": "x"}, "f.json")
    assert pairs(problems) == [
        ("/key", "缺少必填项 key"),
        ("/title", "缺少必填项 title"),
        ("/schema", "缺少必填项 schema"),
        ("/access", "缺少必填项 access"),
    ]
    assert all(p.source == "f.json" for p in problems)


def test_each_unknown_key_is_one_problem():
    assert pointers(check_definition(definition(version=2, states=[]))) == ["/version", "/states"]


def test_not_an_object():
    assert pairs(check_definition(["x"])) == [("", "应为对象 (object)")]


@pytest.mark.parametrize(
    ("changes", "pointer", "fragment"),
    [
        ({"key": "Grid"}, "/key", "^[a-z][a-z0-9-]{1,63}$"),
        ({"key": "g"}, "/key", "格式不正确"),
        ({"key": "grid_incident"}, "/key", "格式不正确"),
        ({"key": "a" * 65}, "/key", "格式不正确"),
        ({"key": "grid\n"}, "/key", "末尾不能有换行"),
        ({"access": "everyone"}, "/access", '"public"、"staff"'),
        ({"case_type": "grid-incident"}, "/case_type", "^[a-z][a-z0-9_]{1,63}$"),
        ({"case_type": "general\n"}, "/case_type", "末尾不能有换行"),
        ({"title": ""}, "/title", "不能为空"),
        ({"title": 3}, "/title", "应为文本"),
        ({"workflow": {}}, "/workflow", "不允许的键 workflow"),
        ({"schema": []}, "/schema", "应为对象"),
        ({"ui": {"layout": 1}}, "/ui/layout", "不允许的键 layout"),
        ({"ui": {"widgets": {"summary": "slider"}}}, "/ui/widgets/summary", '取值 "slider" 无效'),
        ({"ui": {"help": {"summary": 1}}}, "/ui/help/summary", "应为文本"),
        ({"ui": {"trim": "summary"}}, "/ui/trim", "应为列表"),
        ({"ui": {"sections": [{"fields": []}]}}, "/ui/sections/0/title", "缺少必填项 title"),
        ({"ui": {"sections": [{"title": "A", "fields": [], "x": 1}]}}, "/ui/sections/0/x",
         "不允许的键 x"),
    ],
)
def test_file_shape_problems(changes, pointer, fragment):
    problems = check_definition(definition(**changes))
    assert pointers(problems) == [pointer], problems
    assert fragment in problems[0].message


def test_case_type_and_optional_keys_may_be_absent():
    assert check_definition(definition(case_type=None, description=None, title_field=None,
                                       ui=None)) == []


# --- layer 2: schema is JSON Schema 2020-12 -------------------------------------------------


def test_every_json_schema_error_is_reported_under_schema():
    schema = copy.deepcopy(README_EXAMPLE["schema"])
    schema["properties"]["summary"]["minLength"] = -1
    schema["properties"]["summary"]["pattern"] = "(["
    schema["properties"]["category"]["type"] = "text"
    schema["required"] = "summary"
    problems = check_definition(with_schema(schema))
    assert sorted(pointers(problems)) == [
        "/schema/properties/category/type",
        "/schema/properties/summary/minLength",
        "/schema/properties/summary/pattern",
        "/schema/required",
    ]
    by_pointer = dict(pairs(problems))
    assert by_pointer["/schema/properties/summary/pattern"].startswith("正则表达式无效")
    assert by_pointer["/schema/properties/category/type"].startswith("类型不正确")


def test_other_dialects_are_rejected():
    schema = dict(README_EXAMPLE["schema"], **{"$schema": "http://json-schema.org/draft-07/schema#"})
    assert pointers(check_definition(with_schema(schema))) == ["/schema/$schema"]


def test_top_level_must_be_an_object_with_properties():
    assert pairs(check_definition(with_schema({"type": "array"}, title_field=None, ui=None))) == [
        ("/schema/type", '表单 schema 顶层应为 "type": "object"'),
        ("/schema", "表单 schema 缺少 properties（字段列表）"),
    ]
    assert pointers(check_definition(with_schema({"properties": {}}, title_field=None, ui=None))) == [
        "/schema"
    ]


def test_an_invalid_type_is_reported_once():
    schema = {"type": "objekt", "properties": {"summary": {"type": "string"}}}
    problems = check_definition(with_schema(schema, ui=None))
    assert pointers(problems) == ["/schema/type"]


# --- layer 3: cross-references ------------------------------------------------------------


def test_ui_reference_pointer_and_message():
    ui = copy.deepcopy(README_EXAMPLE["ui"])
    ui["sections"][1]["fields"].append("xyz")
    problems = check_definition(definition(ui=ui), "grid.json")
    assert [str(p) for p in problems] == [
        "grid.json: /ui/sections/1/fields/2: ui 引用了不存在的字段 xyz"
    ]


@pytest.mark.parametrize(
    ("ui", "expected"),
    [
        ({"order": ["summary", "nope"]}, [("/ui/order/1", "ui 引用了不存在的字段 nope")]),
        ({"widgets": {"nope": "radio"}}, [("/ui/widgets/nope", "ui 引用了不存在的字段 nope")]),
        ({"help": {"a": "x", "b": "y"}}, [("/ui/help/a", "ui 引用了不存在的字段 a"),
                                          ("/ui/help/b", "ui 引用了不存在的字段 b")]),
        ({"placeholders": {"nope": "x"}}, [("/ui/placeholders/nope", "ui 引用了不存在的字段 nope")]),
        ({"trim": ["summary", "nope"]}, [("/ui/trim/1", "ui 引用了不存在的字段 nope")]),
        ({"order": ["summary", "summary"]}, [("/ui/order/1", "order 中重复列出字段 summary")]),
        ({"trim": ["summary", "summary"]}, [("/ui/trim/1", "trim 中重复列出字段 summary")]),
    ],
)
def test_ui_names_must_be_properties(ui, expected):
    assert pairs(check_definition(definition(ui=ui))) == expected


def test_ui_dotted_names_reach_nested_properties():
    ui = {
        "order": ["name", "address", "members"],
        "sections": [{"title": "A", "fields": ["name", "address"]}],
        "widgets": {"address.city": "select", "members[].age": "select", "tags": "checkboxes",
                    "address.geo.lat": "hidden"},
        "help": {"address": "住址", "members": "成员"},
        "trim": ["address.city", "members[].name"],
    }
    assert check_definition(with_schema(NESTED_SCHEMA, ui=ui, title_field="name")) == []


def test_ui_dotted_name_problems():
    ui = {
        "order": ["address.city"],
        "sections": [{"title": "A", "fields": ["members[].name"]}],
        "widgets": {"address.town": "select", "members.age": "select", "name.first": "hidden"},
    }
    assert pairs(check_definition(with_schema(NESTED_SCHEMA, ui=ui, title_field=None))) == [
        ("/ui/order/0", "此处只能引用顶层字段，address.city 是嵌套字段"),
        ("/ui/widgets/address.town", "ui 引用了不存在的字段 address.town"),
        ("/ui/widgets/members.age", "ui 引用了不存在的字段 members.age（数组中的字段请写作 members[].age）"),
        ("/ui/widgets/name.first", "ui 引用了不存在的字段 name.first"),
        ("/ui/sections/0/fields/0", "此处只能引用顶层字段，members[].name 是嵌套字段"),
    ]


def test_ui_pointer_escapes_slashes_in_names():
    problems = check_definition(definition(ui={"help": {"a/b": "x"}}))
    assert pointers(problems) == ["/ui/help/a~1b"]


def test_a_field_must_not_be_in_two_sections():
    ui = {"sections": [
        {"title": "基本信息", "fields": ["summary", "category"]},
        {"title": "其他", "fields": ["urgency", "summary"]},
        {"title": "再一次", "fields": ["urgency", "urgency"]},
    ]}
    assert pairs(check_definition(definition(ui=ui))) == [
        ("/ui/sections/1/fields/1", "字段 summary 已在分组「基本信息」中出现，一个字段只能属于一个分组"),
        ("/ui/sections/2/fields/0", "字段 urgency 已在分组「其他」中出现，一个字段只能属于一个分组"),
        ("/ui/sections/2/fields/1", "字段 urgency 已在分组「其他」中出现，一个字段只能属于一个分组"),
    ]


@pytest.mark.parametrize(
    ("title_field", "message"),
    [
        ("nope", "title_field 引用了不存在的顶层字段 nope"),
        ("photos", "title_field 字段 photos 应为文本 (string) 类型"),
        ("address.city", "title_field 引用了不存在的顶层字段 address.city"),
    ],
)
def test_title_field_must_be_a_top_level_string(title_field, message):
    schema = copy.deepcopy(README_EXAMPLE["schema"])
    schema["properties"]["address"] = NESTED_SCHEMA["properties"]["address"]
    assert pairs(check_definition(with_schema(schema, title_field=title_field))) == [
        ("/title_field", message)
    ]


def test_title_field_may_be_nullable_string():
    schema = copy.deepcopy(README_EXAMPLE["schema"])
    schema["properties"]["summary"]["type"] = ["string", "null"]
    assert check_definition(with_schema(schema)) == []


def test_required_names_must_be_properties_at_every_level():
    schema = copy.deepcopy(NESTED_SCHEMA)
    schema["required"] = ["name", "nmae"]
    schema["properties"]["address"]["required"] = ["zip"]
    schema["properties"]["members"]["items"]["required"] = ["name", "role"]
    assert pairs(check_definition(with_schema(schema, ui=None, title_field=None))) == [
        ("/schema/required/1", "required 中的字段 nmae 不在 properties 中"),
        ("/schema/properties/address/required/0", "required 中的字段 zip 不在 properties 中"),
        ("/schema/properties/members/items/required/1", "required 中的字段 role 不在 properties 中"),
    ]


def test_conditions_require_names_of_the_enclosing_object():
    schema = copy.deepcopy(NESTED_SCHEMA)
    schema["if"] = {"properties": {"name": {"const": "x"}}}
    schema["then"] = {"required": ["address"]}
    schema["else"] = {"required": ["ghost"]}
    schema["anyOf"] = [{"required": ["name"]}, {"required": ["tags"]}]
    schema["allOf"] = [{"if": {"properties": {"name": {"const": "y"}}},
                        "then": {"required": ["phantom"]}}]
    schema["dependentRequired"] = {"name": ["tags", "spook"], "wraith": ["name"]}
    assert pairs(check_definition(with_schema(schema, ui=None, title_field=None))) == [
        ("/schema/dependentRequired/name/1", "dependentRequired 引用了不存在的字段 spook"),
        ("/schema/dependentRequired/wraith", "dependentRequired 引用了不存在的字段 wraith"),
        ("/schema/else/required/0", "required 中的字段 ghost 不在 properties 中"),
        ("/schema/allOf/0/then/required/0", "required 中的字段 phantom 不在 properties 中"),
    ]


def test_unknown_formats_are_reported():
    schema = copy.deepcopy(README_EXAMPLE["schema"])
    schema["properties"]["reporter_mobile"]["format"] = "cn-mobil"
    schema["properties"]["photos"]["items"]["format"] = "attachement"
    assert pairs(check_definition(with_schema(schema))) == [
        ("/schema/properties/reporter_mobile/format", "未知的格式 (format) cn-mobil，服务器不会校验它"),
        ("/schema/properties/photos/items/format", "未知的格式 (format) attachement，服务器不会校验它"),
    ]
    for known in ["cn-id-card", "cn-uscc", "cn-postcode", "email", "date", "date-time", "time"]:
        schema["properties"]["reporter_mobile"]["format"] = known
        schema["properties"]["photos"]["items"]["format"] = "attachment"
        assert check_definition(with_schema(schema)) == [], known


def test_property_names_must_not_look_like_paths():
    schema = copy.deepcopy(README_EXAMPLE["schema"])
    schema["properties"]["a.b"] = {"type": "string"}
    schema["properties"]["c[]"] = {"type": "string"}
    assert pointers(check_definition(with_schema(schema))) == [
        "/schema/properties/a.b", "/schema/properties/c[]"
    ]


def test_all_layers_report_together():
    data = definition(access="all", ui={"order": ["ghost"]})
    data["schema"]["properties"]["summary"]["maxLength"] = "100"
    assert pointers(check_definition(data)) == [
        "/access", "/schema/properties/summary/maxLength", "/ui/order/0"
    ]


# --- field_paths ---------------------------------------------------------------------------


def test_field_paths_leaves_and_containers():
    leaves = field_paths(NESTED_SCHEMA)
    assert list(leaves) == ["name", "address.city", "address.geo.lat", "members[].name",
                            "members[].age", "tags", "extra"]
    assert leaves["members[].age"] == {"type": "integer"}
    assert leaves["tags"]["uniqueItems"] is True
    assert list(field_paths(NESTED_SCHEMA, containers=True)) == [
        "name", "address", "address.city", "address.geo", "address.geo.lat", "members",
        "members[].name", "members[].age", "tags", "extra",
    ]


def test_field_paths_tolerates_odd_schemas():
    assert field_paths({}) == {}
    assert field_paths({"properties": {"a": True, "b": {"type": "string"}}}) == {
        "b": {"type": "string"}
    }
    assert field_paths([]) == {}  # type: ignore[arg-type]


# --- check_files ---------------------------------------------------------------------------


def write(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_check_files_expands_directories_and_skips_case_types(tmp_path):
    write(tmp_path / "b-form.json", definition(key="b-form"))
    write(tmp_path / "a-form.json", definition(key="a-form"))
    write(tmp_path / "grid.casetype.json", {"key": "grid", "states": []})
    write(tmp_path / "grid.workflow.json", {"workflow": []})
    (tmp_path / "notes.txt").write_text("not json", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "c-form.json", definition(key="c-form"))
    forms, problems = check_files([tmp_path])
    assert problems == []
    assert [f.key for f in forms] == ["a-form", "b-form"]
    forms, problems = check_files([tmp_path / "grid.casetype.json", tmp_path / "sub"])
    assert ([f.key for f in forms], problems) == (["c-form"], [])


def test_duplicate_keys_are_a_problem_of_the_later_file(tmp_path):
    first = write(tmp_path / "a.json", definition())
    second = write(tmp_path / "b.json", definition())
    forms, problems = check_files([tmp_path])
    assert [f.key for f in forms] == ["grid-incident"]
    assert [str(p) for p in problems] == [
        f"{second}: /key: 表单 key 重复：grid-incident（已在 {first} 中定义）"
    ]


def test_a_file_with_problems_is_not_returned(tmp_path):
    good = write(tmp_path / "good.json", definition(key="good"))
    bad = write(tmp_path / "bad.json", definition(key="bad", access="all"))
    forms, problems = check_files([good, bad])
    assert [f.key for f in forms] == ["good"]
    assert [(p.source, p.pointer) for p in problems] == [(str(bad), "/access")]


def test_bad_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "key": "x",\n  "title": \n}\n', encoding="utf-8")
    forms, problems = check_files([path])
    assert forms == []
    assert len(problems) == 1
    assert problems[0].source == str(path) and problems[0].pointer == ""
    assert problems[0].message.startswith("JSON 格式错误：第 4 行第 1 列")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "gbk.json"
    path.write_bytes(json.dumps(definition(), ensure_ascii=False).encode("gbk"))
    forms, problems = check_files([path])
    assert forms == []
    assert len(problems) == 1 and problems[0].message.startswith("文件不是 UTF-8 编码")


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(definition(), ensure_ascii=False).encode())
    forms, problems = check_files([path])
    assert (len(forms), problems) == (1, [])


def test_repeated_json_keys_are_reported(tmp_path):
    path = tmp_path / "twice.json"
    text = json.dumps(definition(), ensure_ascii=False)
    path.write_text(text.replace('"access": "staff"', '"access": "staff", "access": "public"'),
                    encoding="utf-8")
    forms, problems = check_files([path])
    assert forms == []
    assert [p.message for p in problems] == ["JSON 中同一对象内的键 access 重复出现"]


def test_missing_file(tmp_path):
    forms, problems = check_files([tmp_path / "nope.json"])
    assert (forms, pairs(problems)) == ([], [("", "文件不存在")])
