"""The JSON body of a webhook: ``{"id", "type", "created_at", "data": {...}}``.

The case is described as it stands when the event is fanned out (a few seconds after the
change). Personal data is masked exactly as on staff pages (``fengqiao.masking``: the form's
``ui.personal`` marks and the ID/mobile formats; numbers inside free text) unless the endpoint
was granted personal data (an audited grant); fields a form hides from the handling unit
(``ui.hidden_from_handler``) are withheld from every endpoint, granted or not: an integrator
is not the accepting level.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fengqiao.cases.case_types import case_type
from fengqiao.forms.display import masking_definition
from fengqiao.masking import HIDDEN, hidden_fields, hide, mask_data, mask_text
from fengqiao.models import Case, ExternalOrder, OrgUnit

MASKED, GRANTED = False, True


def envelope(event_id: str, event: str, created_at: datetime | str, data: dict) -> dict:
    stamp = created_at.isoformat() if isinstance(created_at, datetime) else created_at
    return {"id": event_id, "type": event, "created_at": stamp, "data": data}


def _withhold(data: Any, path: str) -> Any:
    """``data`` with the value at a ui path (``who.mobile``, ``parties[].name``) replaced by ``******``."""
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    name = head[:-2] if many else head
    if not isinstance(data, dict) or name not in data:
        return data
    value = data[name]
    if many and isinstance(value, list):
        value = [_withhold(item, rest) if rest else (HIDDEN if item not in (None, "") else item) for item in value]
    elif rest:
        value = _withhold(value, rest)
    elif value not in (None, "", [], {}):
        value = HIDDEN
    return {**data, name: value}


def form_data(form_key: str | None, form_version: int | None, data: dict | None, personal: bool) -> dict:
    """Submitted values as an endpoint may see them."""
    data = data or {}
    definition = masking_definition(form_key, form_version) if form_key else None
    withheld, _level = hidden_fields(data, definition) if definition else (frozenset(), None)
    if personal:
        for path in sorted(withheld):
            data = _withhold(data, path)
        return data
    definition = hide(definition, withheld) if definition else None
    return mask_data(definition["schema"] if definition else {}, data)


def unit_json(unit: OrgUnit | None) -> dict | None:
    return {"code": unit.code, "name": unit.name} if unit else None


def case_json(case: Case, personal: bool) -> dict:
    ctype = case_type(case.type, case.workflow_version)
    return {
        "number": case.number,
        "type": case.type,
        "type_title": ctype.title,
        "title": case.title if personal else mask_text(case.title),
        "state": case.state,
        "state_title": ctype.state_title(case.state),
        "closed": ctype.is_final(case.state),
        "org": unit_json(case.org),
        "priority": case.priority,
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "sla_status": case.sla_status,
        "created_at": case.created_at.isoformat() if case.created_at else None,
        "updated_at": _updated_at(case),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "data": form_data(case.form_key, case.form_version, case.data, personal),
    }


def _updated_at(case: Case) -> str | None:
    from fengqiao.db import db
    from fengqiao.models import CaseEvent

    last = db.scalar(sa.select(sa.func.max(CaseEvent.at)).where(CaseEvent.case_id == case.id))
    stamp = last or case.created_at
    return stamp.isoformat() if stamp else None


def external_order(case_id: int) -> dict | None:
    from fengqiao.db import db

    found = db.execute(sa.select(ExternalOrder.source, ExternalOrder.number)
                       .where(ExternalOrder.case_id == case_id).order_by(ExternalOrder.id).limit(1)).first()
    return {"source": found[0], "number": found[1]} if found else None


def change_json(change: dict | None, case: Case) -> dict | None:
    """What moved the case (action and states with their titles); never the comment."""
    if not change:
        return None
    ctype = case_type(case.type, case.workflow_version)
    out = {"action": change.get("action")}
    for key in ("from_state", "to_state"):
        if change.get(key):
            out[key], out[f"{key}_title"] = change[key], ctype.state_title(change[key])
    for key in ("assignee_changed", "escalated_to", "rating"):
        if change.get(key) is not None:
            out[key] = change[key]
    return out


def plugin_json(values: dict, personal: bool) -> dict:
    """A plugin signal's kwargs: free text has its numbers masked, and values under names that
    say they are personal (name, mobile, phone, id_card, address) are masked, unless granted."""
    if personal:
        return values
    from fengqiao.masking import mask_address, mask_id_card, mask_mobile, mask_name

    by_name = {"name": mask_name, "mobile": mask_mobile, "phone": mask_mobile, "id_card": mask_id_card,
               "address": mask_address}

    def masked(key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: masked(str(k), v) for k, v in value.items()}
        if isinstance(value, list):
            return [masked(key, v) for v in value]
        if not isinstance(value, str):
            return value
        masker = next((m for suffix, m in by_name.items() if key == suffix or key.endswith("_" + suffix)), None)
        return masker(value) if masker else mask_text(value)

    return {k: masked(k, v) for k, v in values.items()}
