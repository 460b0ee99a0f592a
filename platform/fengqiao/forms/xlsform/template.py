"""The downloadable template: a small form that shows every column and question type."""

from __future__ import annotations

from typing import Any

TEMPLATE_DEFINITION: dict[str, Any] = {
    "key": "household-visit-example",
    "title": "入户走访登记（示例）",
    "description": "示例表单：按此格式在 Excel 中设计表单，再到「表单管理」导入。",
    "access": "staff",
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "household_head": {"type": "string", "title": "户主姓名", "minLength": 1, "maxLength": 50},
            "id_card": {"type": "string", "title": "户主身份证号", "format": "cn-id-card"},
            "mobile": {"type": "string", "title": "联系电话", "format": "cn-mobile"},
            "members_count": {"type": "integer", "title": "家庭人口", "minimum": 1, "maximum": 30},
            "housing": {"type": "string", "title": "住房类型",
                        "oneOf": [{"const": "own", "title": "自有住房"}, {"const": "rent", "title": "租住"},
                                  {"const": "other", "title": "其他"}]},
            "housing_other": {"type": "string", "title": "其他住房情况", "maxLength": 100},
            "needs": {"type": "array", "title": "需要的帮助", "uniqueItems": True,
                      "items": {"type": "string", "enum": ["就业", "医疗", "养老", "教育"]}},
            "visit_date": {"type": "string", "title": "走访日期", "format": "date"},
            "members": {"type": "array", "title": "家庭成员", "maxItems": 30,
                        "items": {"type": "object", "properties": {
                            "name": {"type": "string", "title": "姓名", "minLength": 1, "maxLength": 50},
                            "age": {"type": "integer", "title": "年龄", "minimum": 0, "maximum": 150}},
                            "required": ["name"], "additionalProperties": False}},
            "photos": {"type": "array", "title": "走访照片", "maxItems": 3,
                       "items": {"type": "string", "format": "attachment"}},
        },
        "required": ["household_head", "members_count", "visit_date"],
        "additionalProperties": False,
        "if": {"properties": {"housing": {"const": "other"}}, "required": ["housing"]},
        "then": {"required": ["housing_other"], "properties": {"housing_other": {"minLength": 2}}},
    },
    "ui": {
        "order": ["household_head", "id_card", "mobile", "members_count", "housing", "housing_other",
                  "needs", "visit_date", "members", "photos"],
        "sections": [{"title": "户主信息", "fields": ["household_head", "id_card", "mobile"]},
                     {"title": "家庭情况", "fields": ["members_count", "housing", "housing_other", "needs",
                                                   "visit_date", "members", "photos"],
                      "description": "住房类型选“其他”时须说明"}],
        "widgets": {"housing": "radio", "photos": "image"},
        "help": {"mobile": "11 位手机号"},
        "placeholders": {"household_head": "如：张三"},
        "trim": ["household_head"],
        "personal": {"household_head": "name", "members[].name": "name"},
    },
}


def template_workbook() -> bytes:
    from fengqiao.forms.xlsform.export import export_workbook

    return export_workbook(TEMPLATE_DEFINITION)
