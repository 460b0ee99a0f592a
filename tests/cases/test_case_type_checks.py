"""A case type's transition ``fields`` must be a JSON Schema; the check is memoised by
content (every app checks the same files), so it must answer the same every time."""

from __future__ import annotations

import copy

from fengqiao.cases.workflow import check_case_type

FLOW = {"key": "fields_check", "title": "字段检查", "prefix": "FC",
        "workflow": {"initial": "open", "states": [{"key": "open", "title": "办理中"},
                                                   {"key": "done", "title": "已办结", "final": True}],
                     "transitions": [{"name": "finish", "title": "办结", "from": ["open"], "to": "done", "roles": ["staff"],
                                      "fields": {"type": "object", "properties": {"note": {"type": "string"}}}}]}}


def test_a_transition_whose_fields_are_no_schema_is_refused_every_time():
    bad = copy.deepcopy(FLOW)
    bad["workflow"]["transitions"][0]["fields"]["properties"]["note"]["type"] = "text"
    for _ in range(2):
        assert check_case_type(FLOW) == []
        found = check_case_type(bad)
        assert [(pointer, code) for pointer, _, code in found] == [("/workflow/transitions/0/fields", "schema")]
        assert "fields 不是有效的 JSON Schema" in found[0][1] and "'text'" in found[0][1]
