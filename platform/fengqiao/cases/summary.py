"""A case as a plain value (``fengqiao.sdk.cases.CaseSummary``): what the core hands a plugin
instead of its ``Case`` model — in lists (``case_summaries``) and to case-page panels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CaseSummary:
    """One case as a list shows it (no submitted data: use ``case_data``)."""

    number: str
    type: str
    title: str
    state: str
    org: str  # the owning unit's code
    assignee: str | None  # username
    deadline: datetime | None
    created_at: datetime
    closed_at: datetime | None
    state_title: str = ""  # the state as staff read it (「待受理」), from the case's workflow version (1.11)

    @classmethod
    def of(cls, case) -> CaseSummary:
        from fengqiao.cases.case_types import case_type

        return cls(case.number, case.type, case.title, case.state, case.org.code,
                   case.assignee.username if case.assignee else None, case.deadline,
                   case.created_at, case.closed_at,
                   case_type(case.type, case.workflow_version).state_title(case.state))
