"""A workbook whose 相关 cells the page's single-field condition reader cannot show by: the
trees of ``ui.relevant`` (fengqiao.forms.relevance). Shared by the converter, parity and
browser tests."""

from __future__ import annotations

from xlsform_book import row, workbook

RELEVANCE_SURVEY = [
    row("integer", "age", "年龄", "是", ". >= 0 and . <= 150"),
    row("select_multiple needs", "needs", "需要的帮助"),
    row("text", "medical_note", "就医需求说明", "是",
        relevant="selected(${needs}, 'medical') and ${age} >= 60 and ${age} < 120"),
    row("select_one yesno", "has_job", "是否就业"),
    row("text", "contact", "联系方式"),
    row("text", "contact_time", "方便联系的时间", relevant="${contact} != ''"),
    row("text", "reason", "未就业原因", relevant="${has_job} = 'no' and not(${age} >= 60)"),
    row("integer", "children", "子女数"),
    row("text", "children_note", "子女情况", relevant="${children} > 0 or count(${needs}) >= 2"),
    row("text", "no_contact", "不留联系方式的原因", relevant="${contact} = ''"),
    row("begin repeat", "members", "家庭成员"),
    row("text", "m_name", "姓名"),
    row("select_one yesno", "m_working", "是否就业"),
    row("text", "m_employer", "工作单位", relevant="${m_working} = 'yes' and string-length(${m_name}) >= 2"),
    row("end repeat"),
    row("begin group", "g_extra", "高龄补充", relevant="${age} >= 80"),
    row("text", "carer", "照护人", relevant="${has_job} != 'yes'"),
    row("end group"),
]
RELEVANCE_CHOICES = [
    ["needs", "job", "就业"], ["needs", "medical", "医疗"], ["needs", "care", "养老"],
    ["yesno", "yes", "是"], ["yesno", "no", "否"],
]
RELEVANCE_SETTINGS = ["relevance-survey", "显示条件调查", 1, "public"]

EXPECTED_TREES = {
    "medical_note": {"and": [{"field": "needs", "op": "selected", "value": "medical"},
                             {"field": "age", "op": ">=", "value": 60},
                             {"field": "age", "op": "<", "value": 120}]},
    "contact_time": {"field": "contact", "op": "filled"},
    "reason": {"and": [{"field": "has_job", "op": "=", "value": "no"},
                       {"not": {"field": "age", "op": ">=", "value": 60}}]},
    "children_note": {"or": [{"field": "children", "op": ">", "value": 0},
                             {"field": "needs", "op": ">=", "value": 2, "of": "count"}]},
    "no_contact": {"field": "contact", "op": "empty"},
    "members[].m_employer": {"and": [{"field": "m_working", "op": "=", "value": "yes"},
                                     {"field": "m_name", "op": ">=", "value": 2, "of": "length"}]},
    "carer": {"and": [{"field": "age", "op": ">=", "value": 80},
                      {"field": "has_job", "op": "!=", "value": "yes"}]},
}


def relevance_workbook(survey=None) -> bytes:
    return workbook(survey or RELEVANCE_SURVEY, RELEVANCE_CHOICES, RELEVANCE_SETTINGS)
