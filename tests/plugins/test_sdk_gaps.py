"""What a plugin author writing a 居民议事 module found missing in the sdk (issue 19, part 5),
each now in place: the accepting unit on ``submission_received``, scope by unit code, org
signals, the audit log read back, display names, "my units", keyset pages of a plugin's rows,
one error contract, a plugin's own metadata, integer path parameters in the OpenAPI document.
(Intake-only forms are exercised end to end by ``plugins/fengqiao-agenda``.)
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask_login import login_user
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.sdk import cases, errors, events, forms, models, orgs, privacy, web
from fengqiao.sdk.testing import migration_drift

LANYUE, QIAODONG, CHENGHU = "339901001001", "339901001002", "339901001"
INCIDENT = {"summary": "揽月花园路灯不亮", "category": "市容环境", "description": "3幢前路灯坏了两晚。",
            "location": {"address": "揽月花园3幢"}}
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

Scratch = models.declarative_base_for("sdktest")  # a plugin of this test module's own


class ScratchRow(Scratch):
    __tablename__ = "sdktest_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_path: Mapped[str] = mapped_column(sa.String(255))
    day: Mapped[date] = mapped_column(sa.Date())


def _user(username: str):
    from fengqiao.models import User

    return models.db.scalar(sa.select(User).where(User.username == username))


def test_submission_received_names_the_accepting_unit(app, demo):
    seen = []
    events.submission_received.connect(lambda sender, **kw: seen.append(kw), sender=app, weak=False)
    with app.app_context():
        made = forms.submit_form("grid-incident", INCIDENT, org="339901001001001", actor="zhangmin")
        assert seen == []  # announced once the caller commits
        models.db.commit()
        assert seen[-1]["org"] == "339901001001001" and seen[-1]["case_number"] == made["case_number"]
        assert forms.submission_data(made["submission_id"])["summary"] == INCIDENT["summary"]
        assert forms.submission_data(10**9) is None


def test_scope_by_unit_code(app, demo):
    with app.test_request_context():
        login_user(_user("shenli"))  # 揽月社区's staff
        assert orgs.org_in_scope(LANYUE, "cases.view") and orgs.org_in_scope("339901001001001", "cases.view")
        assert not orgs.org_in_scope(QIAODONG, "cases.view") and not orgs.org_in_scope("nope", "cases.view")
        codes = [LANYUE, QIAODONG, "339901001001002", "nope"]
        rows = sa.select(sa.literal_column("code")).select_from(
            sa.union_all(*(sa.select(sa.literal(c).label("code")) for c in codes)).subquery())
        clause = orgs.org_scope_clause(sa.literal_column("code"), "cases.view")
        assert sorted(models.db.scalars(rows.where(clause))) == [LANYUE, "339901001001002"]
        assert [u.code for u in orgs.my_units()] == [LANYUE]
        assert orgs.my_units("orgs.manage") == []
        assert orgs.my_units(user=_user("zhoujian"))[0].code == CHENGHU  # 澄湖街道's leader


def test_display_names(app, demo):
    with app.app_context():
        assert orgs.display_name("shenli") == "沈丽" and orgs.display_name("nobody") is None
        assert orgs.display_names(["shenli", "zhangmin", "nobody", None]) == {"shenli": "沈丽", "zhangmin": "张敏"}


def test_org_moves_and_renames_are_announced_after_the_commit(app, demo):
    from fengqiao.orgs import service

    seen = []
    events.org_moved.connect(lambda sender, **kw: seen.append(("moved", kw)), sender=app, weak=False)
    events.org_renamed.connect(lambda sender, **kw: seen.append(("renamed", kw)), sender=app, weak=False)
    with app.app_context():
        grid = service.get_by_code("339901001001001")
        service.rename_unit(grid, "揽月花园网格")
        service.move_unit(grid, service.get_by_code(QIAODONG))
        assert seen == []  # nothing before the change is committed
        models.db.commit()
    assert seen == [("renamed", {"org": "339901001001001", "old_name": "揽月花园1–8幢网格", "new_name": "揽月花园网格"}),
                    ("moved", {"org": "339901001001001", "old_parent": LANYUE, "new_parent": QIAODONG,
                               "old_path": "/339901/339901001/339901001001/339901001001001/",
                               "new_path": "/339901/339901001/339901001002/339901001001001/"})]


@SQLITE
def test_a_plugins_copy_of_paths_follows_a_move_and_its_rows_page_by_keyset(app):
    with app.app_context():
        Scratch.metadata.create_all(models.db.connection())
        old, new = "/339901/339901001/339901001001/", "/339901/339901100/339901001001/"
        models.db.add_all([ScratchRow(org_path=old + "g/", day=date(2026, 5, d)) for d in (1, 2, 2, 3)]
                          + [ScratchRow(org_path="/339901/339901001/339901001002/", day=date(2026, 5, 4))])
        models.db.flush()
        assert orgs.rewrite_paths(ScratchRow.org_path, old, new) == 4
        assert models.db.scalar(sa.select(sa.func.count()).where(ScratchRow.org_path.startswith(new))) == 4
        stmt = sa.select(ScratchRow, ScratchRow.org_path)  # rows of an entity and a column
        seen, cursor = [], ""
        while cursor is not None:
            page = web.paginate(stmt, (ScratchRow.day, ScratchRow.id), limit=2, cursor=cursor, descending=False)
            seen += [(row[0].day.day, row[0].id) for row in page.items]
            cursor = page.next_cursor
        assert seen == [(1, 1), (2, 2), (2, 3), (3, 4), (4, 5)]
        with pytest.raises(errors.APIError) as bad:
            web.paginate(stmt, ScratchRow.id, cursor="not-a-cursor")
        assert bad.value.status == 422


def test_a_plugins_tables_are_on_its_own_metadata(app):
    from fengqiao.db import Base

    assert models.declarative_base_for("sdktest") is Scratch
    assert "sdktest_rows" in Scratch.metadata.tables and "sdktest_rows" not in Base.metadata.tables
    assert "sdktest_rows" not in models.Model.metadata.tables and models.Model.metadata is not Base.metadata
    drift = migration_drift(app, "sdktest_")  # a model without a migration: the helper sees it
    assert [d[0] for d in drift] == ["add_table"]


def test_audit_joins_the_transaction_and_reads_back(app, demo):
    with app.test_request_context("/p/agenda/items/1", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        privacy.audit("agenda.decide", actor="shenli", record="agenda:1", org=LANYUE, detail={"decision": "accept"})
        models.db.rollback()  # the change it recorded did not happen: neither did the row
        assert privacy.audit_history("agenda:1") == []
        privacy.audit("agenda.decide", actor="shenli", record="agenda:1", org=LANYUE, detail={"decision": "accept"})
        privacy.audit("agenda.export", actor="gaojie", record="agenda:1", org=LANYUE)
        models.db.commit()
        history = privacy.audit_history("agenda:1")
        assert [(h.actor, h.action) for h in history] == [("gaojie", "agenda.export"), ("shenli", "agenda.decide")]
        assert history[1].detail == {"decision": "accept"} and privacy.audit_history("agenda:2") == []


def test_sdk_functions_raise_api_errors_whatever_the_core_raises(app, demo):
    assert issubclass(errors.ValidationFailed, errors.APIError) and issubclass(errors.ValidationFailed, errors.Invalid)
    with app.app_context():
        with pytest.raises(errors.APIError) as missing:
            cases.perform_action("NOPE-20260101-000001", "accept")
        assert missing.value.status == 404
        with pytest.raises(errors.ValidationFailed) as invalid:
            forms.submit_form("grid-incident", {"summary": ""}, org="339901001001001", actor="zhangmin")
        assert invalid.value.status == 422 and invalid.value.for_field("/summary")
        with pytest.raises(errors.ValidationFailed):
            web.validate({"type": "object", "required": ["x"]}, {})


def test_integer_path_parameters_are_integers_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    job = spec["paths"]["/jobs/{job_id}"]["get"]["parameters"][0]
    assert job["schema"]["type"] == "integer" and job["schema"]["maximum"] == 2**31 - 1
    form = spec["paths"]["/forms/{key}"]["get"]["parameters"][0]
    assert form["schema"] == {"type": "string"}
    submit = spec["paths"]["/forms/{key}/submissions"]["post"]
    assert "org" in [p["name"] for p in submit["parameters"]]  # ?org= is documented
