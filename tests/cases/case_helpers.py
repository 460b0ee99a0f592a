"""Small helpers the case tests share: read a case through the API, act on it with its current
version, and look at (or set) its row and history directly.

Imported as ``from case_helpers import ...``: pytest's default (prepend) import mode puts this
folder on ``sys.path`` for the test modules beside it, on every xdist worker too.
"""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Case, CaseEvent


def case_json(client, headers, number) -> dict:
    """The case as the API shows it to ``headers``' user (who must be allowed to see it)."""
    response = client.get(f"/api/v1/cases/{number}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def act(client, headers, number, action, **body):
    """POST ``action``; without an explicit ``version`` it uses the case's current one, so a
    test says what it does rather than how the optimistic lock works."""
    if "version" not in body:
        body["version"] = case_json(client, headers, number)["version"]
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json=body, headers=headers)


def act_ok(client, headers, number, action, **body) -> dict:
    """``act`` that must succeed; returns the answer's JSON."""
    response = act(client, headers, number, action, **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def case_row(app, number) -> Case:
    """The case's database row, detached, for columns the API does not show."""
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        db.expunge(case)
        return case


def set_columns(app, number, **values) -> None:
    """Write columns straight to the row, e.g. to move a clock into the past."""
    with app.app_context():
        db.execute(sa.update(Case).where(Case.number == number).values(**values))
        db.commit()


def case_events(app, number, action: str | None = None) -> list[CaseEvent]:
    """The case's history rows (of ``action`` if given), oldest first, detached."""
    query = sa.select(CaseEvent).join(Case).where(Case.number == number).order_by(CaseEvent.id)
    if action is not None:
        query = query.where(CaseEvent.action == action)
    with app.app_context():
        rows = list(db.scalars(query))
        for row in rows:
            db.expunge(row)
        return rows


def last_event(app, number, action: str | None = None) -> CaseEvent | None:
    """The case's latest history row (of ``action`` if given), or None."""
    rows = case_events(app, number, action)
    return rows[-1] if rows else None


def run_job(job, **kwargs):
    """Call a job function as the job runner does: its work is committed when it returns."""
    result = job(**kwargs)
    db.commit()
    return result


def publish_version(app, key: str, change) -> int:
    """Add the next version of case type ``key`` (its latest definition after ``change(d)``,
    which edits the dict in place) straight to ``case_type_versions``; new cases follow it.
    Returns the version number."""
    import copy

    from fengqiao.cases.case_types import digest_of, latest_row, store_of
    from fengqiao.cases.workflow import check_case_type
    from fengqiao.models import CaseTypeVersion

    with app.app_context():
        row = latest_row(key)
        if row is None:  # never synced: the file is version 1
            definition, number = copy.deepcopy(store_of(app).files.definitions[key][0]), 1
        else:
            definition, number = copy.deepcopy(row.definition), row.number + 1
        change(definition)
        assert check_case_type(definition) == [], check_case_type(definition)
        db.add(CaseTypeVersion(key=key, number=number, definition=definition, source="admin",
                               digest=digest_of(definition), note="test"))
        db.commit()
        store_of(app).forget(key)
    return number
