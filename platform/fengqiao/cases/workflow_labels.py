"""Chinese labels of the workflow vocabulary (roles, levels, guards, effects, time units).

Shared by the workflow pages and the table designer so a guard reads the same everywhere;
every code of ``fengqiao.cases.workflow`` has a label (tests/cases/test_workflow_tables.py).
"""

from __future__ import annotations

from fengqiao.accounts.roles import ROLE_LABELS

GUARD_LABELS = {
    "comment_required": "须填写意见",
    "assignee_required": "须已认领",
    "attachment_required": "须有附件",
    "all_checked_in": "被召集部门均已报到",
    "all_rated": "被召集部门均已评价",
    "four_eyes": "须由提交人、上一步办理人以外的人办理",
    "from_above": "须由上级单位办理",
    "before_after_photos": "须有处置前后照片",
    "dispatched_unit": "须为承办单位办理",
    "other_hand": "须由上一步办理人以外的人办理",
    "case_unit": "须为事项所属单位办理",
}
EFFECT_LABELS = {
    "assign_actor": "操作人成为承办人",
    "unassign": "取消承办人",
    "dispatch": "分派承办单位",
    "summon": "吹哨召集部门",
    "pause_sla": "暂停计时",
    "resume_sla": "恢复计时",
    "notify": "通知上报人",
    "set_review": "设定复核日期",
    "set_tier": "核定紧急程度",
    "record_rating": "记录满意度",
}
# who a transition's ``notify`` tells (cases/recipients.py)
NOTIFY_LABELS = {
    "assignee": "承办人",
    "handling_unit": "承办单位",
    "case_unit": "事项所属单位",
    "unit_heads": "单位负责人",
    "submitter": "提交人",
    "reporter": "上报人（群众）",
}
# who hears of a case type's 临期 / 超期 / 超期升级 (sla.notify; cases/jobs.py): the staff codes
# above (no resident: the text urges the handlers) and the unit the case escalated to
SLA_EVENT_LABELS = {"due_soon": "临期", "overdue": "超期", "escalated": "超期升级"}
SLA_NOTIFY_LABELS = {**{k: v for k, v in NOTIFY_LABELS.items() if k != "reporter"},
                     "escalated_unit": "升级到的单位"}
LEVEL_LABELS = {"county": "县级", "street": "街道", "community": "社区", "grid": "网格", "building": "楼栋"}
ROLE_CHOICES = {**ROLE_LABELS, "assignee": "当前承办人"}
# Units of a time limit: the case deadline and escalation know hours and working days; a
# step's own limit (step_limit) also working hours and natural days.
UNIT_LABELS = {"hours": "小时", "working_hours": "工作小时", "days": "天（自然日）", "working_days": "个工作日"}
LIMIT_UNITS = ("working_days", "hours")
STEP_UNITS = ("working_days", "working_hours", "days", "hours")
WAIT_UNITS = ("hours", "working_days")

LABELS = {"roles": ROLE_CHOICES, "guards": GUARD_LABELS, "effects": EFFECT_LABELS, "levels": LEVEL_LABELS,
          "notify": NOTIFY_LABELS, "sla_notify": SLA_NOTIFY_LABELS}
