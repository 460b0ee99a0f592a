"""Workbooks for the XLSForm-like import tests, built with openpyxl the way an admin's Excel saves them."""

from __future__ import annotations

import io

import openpyxl

SURVEY_HEADER = ["类型", "字段名", "标题", "必填", "约束", "约束提示", "相关", "默认值", "提示", "外观"]
CHOICES_HEADER = ["列表名", "值", "标题"]
SETTINGS_HEADER = ["表单标识", "标题", "版本", "访问"]
PLATE = "regex(., '^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{5}$')"


def row(kind, name="", label="", required="", constraint="", message="", relevant="", default="",
        hint="", appearance=""):
    return [kind, name, label, required, constraint, message, relevant, default, hint, appearance]


# 40 questions in four groups, with a repeat, relevant conditions and constraints.
HOUSEHOLD_SURVEY = [
    row("begin group", "g_head", "户主信息", hint="按户口簿填写"),
    row("text", "head_name", "户主姓名", "是", "string-length(.) <= 50"),
    row("身份证号", "head_id", "户主身份证号", "是"),
    row("手机号", "head_mobile", "联系电话", "是", hint="11 位手机号"),
    row("select_one gender", "head_gender", "性别", "是", appearance="radio"),
    row("integer", "head_age", "年龄", "是", ". >= 16 and . <= 120", "年龄应在 16 到 120 岁之间"),
    row("select_one edu", "education", "文化程度"),
    row("select_one yesno", "is_party", "是否党员"),
    row("date", "party_date", "入党日期", relevant="${is_party} = 'yes'"),
    row("text", "address", "住址", "是", "string-length(.) >= 2 and string-length(.) <= 200"),
    row("text", "building", "楼栋门牌"),
    row("end group"),
    row("begin group", "g_housing", "住房情况"),
    row("select_one housing", "housing_type", "住房类型", "是", appearance="radio"),
    row("text", "housing_other", "其他住房说明", "是", "string-length(.) >= 2", relevant="${housing_type} = 'other'"),
    row("decimal", "area", "建筑面积（平方米）", constraint=". > 0 and . < 1000"),
    row("integer", "rooms", "房间数", constraint=". >= 0 and . <= 50", default="2"),
    row("select_multiple facilities", "facilities", "配套设施"),
    row("text", "facility_note", "其他设施说明", relevant="selected(${facilities}, 'other')"),
    row("select_one yesno", "has_car", "是否有车"),
    row("integer", "car_count", "车辆数", "是", ". >= 1 and . <= 10", relevant="${has_car} = 'yes'"),
    row("text", "plate", "车牌号", constraint=PLATE, message="车牌号格式不正确", relevant="${has_car} = 'yes'"),
    row("image", "house_photo", "住房照片", constraint="count(.) <= 3"),
    row("end group"),
    row("begin group", "g_members", "家庭成员"),
    row("begin repeat", "members", "家庭成员", "是", "count(.) >= 1 and count(.) <= 10"),
    row("text", "m_name", "姓名", "是", "string-length(.) <= 50"),
    row("select_one relation", "m_relation", "与户主关系", "是"),
    row("integer", "m_age", "年龄", constraint=". >= 0 and . <= 150"),
    row("身份证号", "m_id", "身份证号"),
    row("select_one yesno", "m_working", "是否就业"),
    row("text", "m_employer", "工作单位", relevant="${m_working} = 'yes'"),
    row("end repeat"),
    row("integer", "total_income", "家庭年收入（元）",
        constraint=". >= 0 and (${low_income} != 'yes' or . <= 30000)", message="低保户年收入不应超过 3 万元"),
    row("end group"),
    row("begin group", "g_needs", "服务需求"),
    row("select_multiple needs", "needs", "需要的帮助"),
    row("text", "needs_other", "其他需求", relevant="selected(${needs}, 'other')"),
    row("select_one yesno", "low_income", "是否低保户"),
    row("text", "low_income_no", "低保证号", "是", "regex(., '^[0-9]{6,20}$')", relevant="${low_income} = 'yes'"),
    row("select_one yesno", "disabled", "家中有无残疾人"),
    row("integer", "disabled_count", "残疾人数", constraint=". >= 1", relevant="${disabled} = 'yes'"),
    row("select_one yesno", "elderly_alone", "是否独居老人"),
    row("手机号", "emergency_mobile", "紧急联系人电话", "是", relevant="${elderly_alone} = 'yes'"),
    row("text", "remark", "备注", constraint="string-length(.) <= 500", appearance="multiline"),
    row("date", "visit_date", "走访日期", "是"),
    row("datetime", "visit_time", "到访时间"),
    row("file", "attachments", "附件"),
    row("boolean", "consent", "同意将信息用于社区服务", "是"),
    row("end group"),
]

HOUSEHOLD_CHOICES = [
    ["gender", "male", "男"], ["gender", "female", "女"],
    ["edu", "primary", "小学"], ["edu", "middle", "初中"], ["edu", "high", "高中"], ["edu", "college", "大专及以上"],
    ["yesno", "yes", "是"], ["yesno", "no", "否"],
    ["housing", "own", "自有住房"], ["housing", "rent", "租住"], ["housing", "other", "其他"],
    ["facilities", "gas", "燃气"], ["facilities", "elevator", "电梯"], ["facilities", "other", "其他"],
    ["relation", "spouse", "配偶"], ["relation", "child", "子女"], ["relation", "parent", "父母"],
    ["relation", "other", "其他"],
    ["needs", "job", "就业"], ["needs", "medical", "医疗"], ["needs", "care", "养老"], ["needs", "other", "其他"],
]

HOUSEHOLD_SETTINGS = ["household-survey", "入户调查", 1, "public"]


def workbook(survey, choices=None, settings=None, *, survey_header=SURVEY_HEADER,
             choices_header=CHOICES_HEADER, settings_header=SETTINGS_HEADER, sheets=None) -> bytes:
    """An .xlsx with the three sheets (``settings=False`` leaves that sheet out)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    parts = {"survey": [survey_header, *survey], "choices": [choices_header, *(choices or [])]}
    if settings is not False:
        parts["settings"] = [settings_header, settings or HOUSEHOLD_SETTINGS]
    for title, rows in (sheets or parts).items():
        sheet = book.create_sheet(title)
        for values in rows:
            sheet.append([None if v == "" else v for v in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def household_workbook() -> bytes:
    return workbook(HOUSEHOLD_SURVEY, HOUSEHOLD_CHOICES, HOUSEHOLD_SETTINGS)


def questions(survey) -> int:
    return sum(1 for r in survey if not r[0].startswith(("begin", "end")))


VALID_ANSWERS = {
    "head_name": "林秀英", "head_id": "11010519491231002X", "head_mobile": "13800138000",
    "head_gender": "female", "head_age": 58, "education": "high", "is_party": "yes",
    "party_date": "1990-07-01", "address": "揽月花园3幢1单元101", "housing_type": "other",
    "housing_other": "自建房", "area": 86.5, "rooms": 3, "facilities": ["gas", "other"],
    "facility_note": "太阳能热水器", "has_car": "yes", "car_count": 1, "plate": "浙A12345",
    "members": [{"m_name": "王建军", "m_relation": "spouse", "m_age": 60, "m_working": "yes",
                 "m_employer": "县供销社"}],
    "total_income": 28000, "needs": ["care"], "low_income": "yes", "low_income_no": "3399012026",
    "disabled": "no", "elderly_alone": "no", "remark": "已登记", "visit_date": "2026-12-01",
    "consent": True,
}
