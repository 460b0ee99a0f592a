"""diff_definitions: every kind of change and whether it is breaking."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from fengqiao.forms.diff import FieldChange, FormDiff, diff_definitions

BASE = {
    "key": "visit",
    "title": "走访登记",
    "description": "入户走访",
    "access": "staff",
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "姓名", "minLength": 1, "maxLength": 50},
            "age": {"type": "integer", "title": "年龄", "minimum": 0, "maximum": 150},
            "kind": {"type": "string", "title": "类别", "enum": ["走访", "回访"]},
            "level": {
                "type": "string",
                "oneOf": [{"const": "low", "title": "低"}, {"const": "high", "title": "高"}],
            },
            "note": {"type": "string", "title": "备注"},
            "tags": {"type": "array", "items": {"enum": ["老人", "儿童"]}, "maxItems": 3},
            "address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "street": {"type": "string"}},
                "required": ["city"],
            },
            "members": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        },
        "required": ["name", "kind"],
    },
    "ui": {
        "order": ["name", "age", "kind"],
        "sections": [{"title": "基本", "fields": ["name", "age"]}],
        "widgets": {"kind": "select"},
        "help": {"name": "请填写全名"},
        "placeholders": {"note": "可不填"},
        "trim": ["name"],
    },
}


def changed(edit: Callable[[dict], None]) -> FormDiff:
    new = copy.deepcopy(BASE)
    edit(new)
    return diff_definitions(BASE, new)


def props(d: dict) -> dict:
    return d["schema"]["properties"]


def summary(diff: FormDiff) -> list[tuple[str, str, bool]]:
    return [(c.path, c.kind, c.breaking) for c in diff.changes]


def test_identical_definitions_have_no_changes():
    diff = diff_definitions(BASE, copy.deepcopy(BASE))
    assert diff.changes == [] and diff.breaking is False and diff.to_json() == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # fields added / removed
        (lambda d: props(d).update(phone={"type": "string"}), [("phone", "field_added", False)]),
        (lambda d: (props(d).update(phone={"type": "string"}), d["schema"]["required"].append("phone")),
         [("phone", "field_added", True)]),
        (lambda d: props(d).pop("note"), [("note", "field_removed", True)]),
        (lambda d: props(d).update(notes=props(d).pop("note")),
         [("note", "field_removed", True), ("notes", "field_added", False)]),
        # required
        (lambda d: d["schema"]["required"].append("age"), [("age", "made_required", True)]),
        (lambda d: d["schema"]["required"].remove("kind"), [("kind", "made_optional", False)]),
        # type
        (lambda d: props(d)["age"].update(type="number"), [("age", "type_changed", True)]),
        (lambda d: props(d)["note"].update(type=["string", "null"]), [("note", "type_changed", True)]),
        # options
        (lambda d: props(d)["kind"].update(enum=["走访"]), [("kind", "option_removed", True)]),
        (lambda d: props(d)["kind"]["enum"].append("电话"), [("kind", "option_added", False)]),
        (lambda d: props(d)["level"]["oneOf"].pop(), [("level", "option_removed", True)]),
        (lambda d: props(d)["level"]["oneOf"].append({"const": "mid", "title": "中"}),
         [("level", "option_added", False)]),
        (lambda d: props(d)["level"]["oneOf"][0].update(title="较低"),
         [("level", "option_label", False)]),
        (lambda d: props(d)["tags"]["items"].update(enum=["老人"]),
         [("tags[]", "option_removed", True)]),
        (lambda d: props(d)["note"].update(enum=["a", "b"]), [("note", "options_restricted", True)]),
        (lambda d: props(d)["kind"].pop("enum"), [("kind", "options_unrestricted", False)]),
        # constraints
        (lambda d: props(d)["name"].update(maxLength=20), [("name", "constraint_tightened", True)]),
        (lambda d: props(d)["name"].update(maxLength=80), [("name", "constraint_loosened", False)]),
        (lambda d: props(d)["name"].update(minLength=2), [("name", "constraint_tightened", True)]),
        (lambda d: props(d)["name"].pop("minLength"), [("name", "constraint_loosened", False)]),
        (lambda d: props(d)["age"].update(maximum=120), [("age", "constraint_tightened", True)]),
        (lambda d: props(d)["age"].update(minimum=-1), [("age", "constraint_loosened", False)]),
        (lambda d: props(d)["age"].update(exclusiveMaximum=100),
         [("age", "constraint_tightened", True)]),
        (lambda d: props(d)["tags"].update(maxItems=2), [("tags", "constraint_tightened", True)]),
        (lambda d: props(d)["tags"].pop("maxItems"), [("tags", "constraint_loosened", False)]),
        (lambda d: props(d)["members"].update(minItems=2), [("members", "constraint_tightened", True)]),
        (lambda d: props(d)["members"].update(minItems=0), [("members", "constraint_loosened", False)]),
        (lambda d: props(d)["note"].update(pattern="^[a-z]+$"), [("note", "constraint_tightened", True)]),
        (lambda d: props(d)["note"].update(format="cn-mobile"), [("note", "constraint_tightened", True)]),
        (lambda d: props(d)["tags"].update(uniqueItems=True), [("tags", "constraint_tightened", True)]),
        (lambda d: props(d)["age"].update(multipleOf=5), [("age", "constraint_tightened", True)]),
        # additionalProperties
        (lambda d: d["schema"].update(additionalProperties=False),
         [("", "additional_properties", True)]),
        (lambda d: props(d)["address"].update(additionalProperties=False),
         [("address", "additional_properties", True)]),
        # annotations and ui: compatible
        (lambda d: props(d)["name"].update(title="全名"), [("name", "label", False)]),
        (lambda d: props(d)["name"].update(description="身份证上的姓名"),
         [("name", "description", False)]),
        (lambda d: props(d)["level"].update(default="low"), [("level", "default", False)]),
        (lambda d: props(d)["name"].update(examples=["张三"]), [("name", "annotation", False)]),
        (lambda d: d.update(title="入户走访登记"), [("", "form_title", False)]),
        (lambda d: d.update(description="新说明"), [("", "form_description", False)]),
        (lambda d: d["ui"]["order"].reverse(), [("", "order", False)]),
        (lambda d: d["ui"]["sections"][0]["fields"].append("kind"), [("", "section", False)]),
        (lambda d: d["ui"]["sections"][0].update(title="基本信息"), [("", "section", False)]),
        (lambda d: d["ui"]["widgets"].update(kind="radio"), [("kind", "widget", False)]),
        (lambda d: d["ui"]["widgets"].update(note="textarea"), [("note", "widget", False)]),
        (lambda d: d["ui"]["help"].update(name="全名"), [("name", "help", False)]),
        (lambda d: d["ui"]["placeholders"].pop("note"), [("note", "placeholder", False)]),
        (lambda d: d["ui"]["trim"].append("note"), [("note", "trim", False)]),
        (lambda d: d.pop("ui"), [("", "order", False), ("", "section", False),
                                 ("kind", "widget", False), ("name", "help", False),
                                 ("note", "placeholder", False), ("name", "trim", False)]),
    ],
)
def test_classification(edit, expected):
    diff = changed(edit)
    assert summary(diff) == expected
    assert diff.breaking is any(breaking for _, _, breaking in expected)
    assert all(c.message for c in diff.changes)


@pytest.mark.parametrize(
    ("old", "new", "breaking"),
    [(10, 5, False), (10, 3, True), (5, 10, True), (0.5, 0.25, False), (0.5, 0.2, True)],
)
def test_multiple_of_changes(old, new, breaking):
    before = copy.deepcopy(BASE)
    props(before)["age"]["multipleOf"] = old
    after = copy.deepcopy(before)
    props(after)["age"]["multipleOf"] = new
    assert diff_definitions(before, after).breaking is breaking


def test_pattern_and_format_changes_and_removals():
    before = copy.deepcopy(BASE)
    props(before)["note"].update(pattern="^a", format="email")
    after = copy.deepcopy(before)
    props(after)["note"].update(pattern="^b")
    del props(after)["note"]["format"]
    assert summary(diff_definitions(before, after)) == [
        ("note", "constraint_tightened", True),
        ("note", "constraint_loosened", False),
    ]


def test_additional_properties_loosened():
    before = copy.deepcopy(BASE)
    before["schema"]["additionalProperties"] = False
    assert summary(diff_definitions(before, BASE)) == [("", "additional_properties", False)]


def test_nested_fields():
    def edit(d):
        props(d)["address"]["properties"]["zip"] = {"type": "string"}
        props(d)["address"]["required"].append("street")
        props(d)["address"]["properties"].pop("city")
        props(d)["members"]["items"]["properties"]["age"] = {"type": "integer"}
        props(d)["members"]["items"]["required"] = ["age"]
        props(d)["members"]["items"]["properties"]["name"]["maxLength"] = 10

    assert summary(changed(edit)) == [
        ("address.city", "field_removed", True),
        ("address.zip", "field_added", False),
        ("members[].age", "field_added", True),
        ("address.street", "made_required", True),
        ("members[].name", "constraint_tightened", True),
    ]


def test_a_new_container_is_one_change_even_with_required_children():
    def edit(d):
        props(d)["contact"] = {"type": "object", "properties": {"phone": {"type": "string"}},
                               "required": ["phone"]}

    assert summary(changed(edit)) == [("contact", "field_added", False)]


def test_a_removed_container_is_one_change_and_its_ui_entries_are_not_reported():
    def edit(d):
        props(d).pop("address")
        props(d).pop("note")
        d["ui"]["placeholders"].pop("note")

    before = copy.deepcopy(BASE)
    before["ui"]["widgets"]["address.city"] = "select"
    after = copy.deepcopy(before)
    edit(after)
    after["ui"]["widgets"].pop("address.city")
    assert summary(diff_definitions(before, after)) == [
        ("note", "field_removed", True),
        ("address", "field_removed", True),
    ]


def test_conditions_are_breaking_when_changed():
    def edit(d):
        d["schema"]["if"] = {"properties": {"kind": {"const": "回访"}}}
        d["schema"]["then"] = {"required": ["note"]}

    assert summary(changed(edit)) == [("", "condition_changed", True)]


def test_dependent_required():
    before = copy.deepcopy(BASE)
    before["schema"]["dependentRequired"] = {"age": ["note"]}
    after = copy.deepcopy(BASE)
    after["schema"]["dependentRequired"] = {"age": ["tags"]}
    assert summary(diff_definitions(before, after)) == [
        ("tags", "constraint_tightened", True),
        ("note", "constraint_loosened", False),
    ]


def test_unknown_keyword_changes_are_breaking_to_be_safe():
    assert summary(changed(lambda d: props(d)["note"].update(contentEncoding="base64"))) == [
        ("note", "schema_changed", True)
    ]


def test_messages_are_chinese_and_name_the_field():
    diff = changed(lambda d: (props(d)["name"].update(maxLength=20), props(d).pop("note")))
    messages = {c.path: c.message for c in diff.changes}
    assert messages["name"] == "name 的最大长度由 50 降为 20"
    assert messages["note"].startswith("删除字段 note")


def test_to_json():
    diff = changed(lambda d: props(d)["kind"]["enum"].append("电话"))
    assert diff.to_json() == [
        {"path": "kind", "kind": "option_added", "breaking": False,
         "message": 'kind 新增了选项 "电话"'}
    ]
    assert FormDiff([FieldChange("a", "x", True, "m")]).breaking is True
