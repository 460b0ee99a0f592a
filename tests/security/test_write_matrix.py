"""The write matrix (issue 17, finding 6): every POST/PUT/PATCH/DELETE route of the app (core
and every installed plugin) called by the personas of other units against an object of 揽月社区
(community A) must answer 404 with the one not-found message (``sdk.NOT_FOUND_MESSAGE``),
or 403 when the persona's role may not call the route at all. Never 2xx, never a redirect
that hides a refusal in a flash message, never a message that says what the object is.

``WRITES`` has a row for every write endpoint: either how to aim it at an object of
community A (path parameters and body; ``{name}`` is filled from the objects built below),
or a string saying why the route has no object of another community to protect. A new
write route without a row fails ``test_every_write_route_has_a_row``.

The objects of community A come from the demo data (volunteers, accounts, members, the
certificate list) plus a few made here; hanzhiming (桥东社区) gets an activity and a team of
his own, so that routes whose target sits in the body (hours for a volunteer, a team's
leader) are aimed from his side at A's object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fengqiao.access import access_of
from fengqiao.sdk import NOT_FOUND_MESSAGE

COMMUNITY_A, COMMUNITY_B = "339901001001", "339901001002"
OUTSIDERS = ("hanzhiming", "zhifa")  # 桥东社区's secretary and a county department
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class W:
    params: dict = field(default_factory=dict)
    body: dict = field(default_factory=dict)
    method: str | None = None


CASE = {"number": "{case_a}"}
NO_OBJECT = "creates or acts on the caller's own data; no object of another unit in the request"
DRAFTS = ("forms.manage: admins only; a type of a unit outside the admin's scope is 404, a county-wide one "
          "403 below the county (tests/cases/test_case_type_drafts.py)")
INBOX = ("the caller's own notifications (站内信): every query is scoped by user, another user's id is 404 "
         "(tests/notifications/test_inbox.py)")
UNIT_ARG = "the unit is a body field, refused as 422 with the field's message (a choice, not an object)"

WRITES: dict[str, W | str] = {
    # --- core
    "web.account_password": NO_OBJECT, "web.account_totp": NO_OBJECT, "web.account_totp_disable": NO_OBJECT,
    "web.login": NO_OBJECT, "web.login_totp": NO_OBJECT, "web.logout": NO_OBJECT,
    "api.issue_api_token": NO_OBJECT, "api.revoke_api_token": NO_OBJECT,
    "web.inbox_read": INBOX, "web.inbox_read_all": INBOX, "api.mark_inbox_read": INBOX, "api.mark_one_inbox_read": INBOX,
    "web.draft_delete": "the caller's own form drafts (我的草稿): every query is scoped by user, another user's "
                        "draft is 404 (tests/test_entry_points.py)",
    "web.account_notifications": NO_OBJECT, "api.put_notification_settings": NO_OBJECT,
    "web.notification_admin": W(body={"unit": COMMUNITY_A, "quiet_start": "22:00", "quiet_end": "07:00"}),
    "web.notification_admin_channel": W({"name": "wecom"}, {"unit": COMMUNITY_A}),
    "web.notification_admin_test": W({"name": "wecom"}, {"unit": COMMUNITY_A}),
    "web.delivery_resend": "orgs.manage: admins only; a delivery of a unit outside the admin's scope is 404 "
                           "(tests/notifications/test_dead_letters.py)",
    **dict.fromkeys(("web.webhook_new", "web.webhook_detail", "api.create_webhook", "web.webhook_secret", "web.webhook_delete",
                     "web.webhook_ping", "web.webhook_resend"),
                    "orgs.manage: admins only; an endpoint of a unit outside the admin's scope is 404 "
                    "(tests/webhooks/test_webhook_admin.py)"),
    "web.calendar_admin_add_day": "county calendar (orgs.manage: admins only)",
    "web.calendar_admin_import": "county calendar (orgs.manage: admins only)",
    "web.calendar_admin_remove_day": "county calendar (orgs.manage: admins only)",
    "web.form_admin_archive": "forms are county-wide (forms.manage: admins only)",
    "web.form_admin_edit": "forms are county-wide (forms.manage: admins only)",
    "web.form_admin_publish": "forms are county-wide (forms.manage: admins only)",
    "web.form_admin_import": "forms are county-wide (forms.manage: admins only)",
    "web.form_admin_import_xlsx": "forms are county-wide (forms.manage: admins only)",
    "web.form_admin_new": "forms are county-wide (forms.manage: admins only)",
    "web.form_admin_preview": "forms are county-wide (forms.manage: admins only)",
    "web.workflow_admin_edit": "workflows are county-wide (forms.manage: admins only)",
    "web.workflow_admin_design": "forms.manage: admins only; another unit's type is 404 "
                                 "(tests/cases/test_workflow_designer_page.py)",
    "web.workflow_admin_diagram": "draws the posted definition; reads and writes nothing stored",
    "web.workflow_admin_migrate": "workflows are county-wide (forms.manage: admins only)",
    "web.workflow_admin_new": "forms.manage: admins only; the unit it applies to is a body field, a unit outside "
                              "the admin's scope is refused as 422 (tests/cases/test_case_type_drafts.py)",
    "web.workflow_admin_discard": DRAFTS, "web.workflow_admin_publish": DRAFTS, "web.workflow_admin_restore": DRAFTS,
    "web.plugin_admin_settings": "plugins are county-wide (plugins.manage: admins only)",
    "web.plugin_admin_switch": "plugins are county-wide (plugins.manage: admins only)",
    "web.org_new": "orgs.manage: admins only", "api.create_org": "orgs.manage: admins only",
    "web.user_new": "users.manage: admins only", "api.create_user_api": "users.manage: admins only",
    "web.org_edit": W({"code": COMMUNITY_A}, {"name": "改名"}),
    "web.user_security": W({"username": "zhangmin"}, {"action": "logout_all"}),
    "api.create_submission": "public forms; the accepting unit is a query choice checked by the form",
    "api.upload_form_file": "public forms' upload fields: the file belongs to nothing until a submission of the "
                            "caller's claims it (forms/submit.py)",
    "api.receive_inbound_order": "cases.inbound (integration accounts only): the unit is a body field, refused as "
                                 "422 outside the account's units; another unit's order number is 409 "
                                 "(tests/inbound/test_orders.py)",
    "web.form_fill": "public forms; the accepting unit is a query choice checked by the form",
    "api.request_ledger": "exports the caller's own scope", "web.ledger_page": "exports the caller's own scope",
    "web.queue_bulk": "per-case results: a case out of scope is reported as not found (test_matrix)",
    "web.queue_filter_save": "the caller's own saved queue filters (保存的筛选); the filter is checked against "
                             "the caller's scope like the queue, a unit outside it is 422 (tests/cases/test_saved_filters.py)",
    "web.queue_filter_delete": "the caller's own saved queue filters (保存的筛选): every query is scoped by user, "
                               "another user's filter is 404 (tests/cases/test_saved_filters.py)",
    "api.save_queue_filter": "the caller's own saved queue filters, as web.queue_filter_save",
    "api.delete_queue_filter": "the caller's own saved queue filters, as web.queue_filter_delete",
    "api.bulk_act": "per-case results: a case out of scope is reported as not found (test_matrix)",
    "web.track_rate": "residents: number + 查询码 (test_matrix)", "web.track_reopen": "residents (test_matrix)",
    "api.rate_case": "residents: number + 查询码 (test_matrix)", "api.reopen_case": "residents (test_matrix)",
    "web.case_detail": W(CASE, {"action": "claim", "version": "0"}),
    "web.case_board": W(CASE, {"kind": "note"}),
    "web.case_reveal": W(CASE, {"field": "/summary", "reason": "核实"}),
    "api.act_on_case": W({**CASE, "action": "claim"}, {"version": 0}),
    "api.upload_case_photo": W(CASE, {}),
    "api.upload_case_file": W(CASE, {}),
    "api.reveal_field": W(CASE, {"field": "/summary", "reason": "核实"}),
    # --- volunteer
    "papi_volunteer.create_volunteer": W(body={"name": "韩某", "id_card": "339902199001011236", "org": COMMUNITY_B,
                                               "team": "{team_a}"}),
    "papi_volunteer.create_activity": UNIT_ARG, "papi_volunteer.create_unit": UNIT_ARG,
    "papi_volunteer.create_team": W(body={"name": "桥东二队", "org": COMMUNITY_B, "leader": "{minor_a}"}),
    "papi_volunteer.enroll": W({"activity_id": "{activity_b}"}, {"volunteer": "{minor_a}"}),
    "papi_volunteer.record_hours": W({"activity_id": "{activity_b}"}, {"volunteer": "{volunteer_a}", "hours": 8}),
    "papi_volunteer.correct": W({"entry_id": "{hours_a}"}, {"hours": -1, "reason": "更正"}),
    "p_volunteer.activity_new": UNIT_ARG, "p_volunteer.units": UNIT_ARG,
    "p_volunteer.volunteer_new": W(body={"name": "韩某", "id_card": "339902199001011236", "org": COMMUNITY_B,
                                         "team": "{team_a}"}),
    "p_volunteer.teams": W(body={"name": "桥东二队", "org": COMMUNITY_B, "leader": "{minor_a}"}),
    "p_volunteer.roster_enroll": W({"activity_id": "{activity_b}"}, {"volunteer": "{minor_a}"}),
    "p_volunteer.roster_hours": W({"activity_id": "{activity_b}"}, {"volunteer": "{volunteer_a}", "hours": "8"}),
    "p_volunteer.roster_attendance": W({"activity_id": "{activity_a}", "enrollment_id": "{enrollment_a}",
                                        "what": "cancel"}),
    "p_volunteer.correct": W({"entry_id": "{hours_a}"}, {"hours": "-1", "reason": "更正"}),
    "p_volunteer.dispute_reject": W({"dispute_id": "{dispute_a}"}, {"resolution": "维持"}),
    "p_volunteer.issue_certificate": W({"volunteer_id": "{volunteer_a}"}),
    "p_volunteer.wish_claim": W({"number": "{case_b}"}, {"volunteer": "{volunteer_a}"}),
    "p_volunteer.signup": "residents sign themselves up on the activity's public page",
    "p_volunteer.checkin": "residents: a signed QR token", "p_volunteer.me_certificate": "residents: a signed token",
    "p_volunteer.me_dispute": "residents: a signed token", "p_volunteer.me_claim": "residents: a signed token",
    "p_volunteer.wish_confirm": "residents: number + 查询码",
    # --- points
    "papi_points.create_account": UNIT_ARG, "papi_points.create_product": UNIT_ARG,
    "papi_points.adjust": W({"account_id": "{account_a}"}, {"points": 5, "reason": "调整"}),
    "papi_points.create_redemption": W(body={"account": "{account_a}", "product": "{product_a}"}),
    "papi_points.collect": W({"redemption_id": "{redemption_a}"}),
    "papi_points.cancel": W({"redemption_id": "{redemption_a}"}),
    "p_points.new_account": UNIT_ARG, "p_points.products": NO_OBJECT,
    "p_points.new_pin": W({"account_id": "{account_a}"}),
    "p_points.propose": W(body={"account": "{account_number_a}", "rule": "{rule_a}", "description": "庭院整洁"}),
    "p_points.counter_close": W({"redemption_id": "{redemption_a}", "action": "collect"}),
    "p_points.counter_reserve": W(body={"account": "{account_a}", "product": "{product_a}", "quantity": "1"}),
    "p_points.restock": W({"product_id": "{product_a}"}, {"add": "5"}),
    "p_points.edit_rule": W({"rule_id": "{rule_a}"}, {"name": "改", "org": COMMUNITY_A, "points": "1",
                                                      "proposers": "staff"}),
    "p_points.retire_rule": W({"rule_id": "{rule_a}"}),
    "p_points.object_claim": "residents: the public 公示 board",
    "p_points.shelf_login": "residents: 账户号 + 查询码", "p_points.shelf_logout": NO_OBJECT,
    "p_points.shelf_claim": "residents: their own signed-in account", "p_points.shelf_reserve": NO_OBJECT,
    "p_points.shelf_cancel": "residents: their own signed-in account",
    # --- vanguard
    "papi_vanguard.new_member": UNIT_ARG, "papi_vanguard.new_notice": UNIT_ARG, "papi_vanguard.rate": UNIT_ARG,
    "papi_vanguard.new_set": "indicator sets (vanguard.manage: admins only)",
    "papi_vanguard.edit_set": W({"set_id": "{set_a}"}, {"name": "改"}),
    "papi_vanguard.publish_set": W({"set_id": "{set_a}"}, {"effective_from": "2030-01-01"}),
    "papi_vanguard.new_event": W({"member_id": "{member_a}"}, {"indicator": 1, "points": 1, "reason": "x",
                                                               "period": "2026-01"}),
    "papi_vanguard.approve": W({"event_id": "{event_a}"}),
    "papi_vanguard.reject": W({"event_id": "{event_a}"}, {"comment": "不通过"}),
    "papi_vanguard.new_objection": "public: anyone may object to a 公示",
    "p_vanguard.member_new": UNIT_ARG, "p_vanguard.notice_publish": UNIT_ARG, "p_vanguard.rating": UNIT_ARG,
    "p_vanguard.set_new": "indicator sets (vanguard.manage: admins only)",
    "p_vanguard.set_edit": W({"set_id": "{set_a}"}, {"name": "改"}),
    "p_vanguard.set_publish": W({"set_id": "{set_a}"}, {"effective_from": "2030-01-01"}),
    "p_vanguard.propose": W({"member_id": "{member_a}"}, {"indicator": "1", "points": "1", "reason": "x",
                                                         "period": "2026-01"}),
    "p_vanguard.review": W({"event_id": "{event_a}"}, {"decision": "approve"}),
    "p_vanguard.objection": "public: anyone may object to a 公示",
    "p_vanguard.objection_resolve": W({"objection_id": "{objection_a}"}, {"resolution": "已核实"}),
    # --- certificates
    "p_certificates.admin_new_draft": W({"org_code": COMMUNITY_A}),
    "p_certificates.admin_add_item": W({"org_code": COMMUNITY_A}, {"name": "x"}),
    "p_certificates.admin_update_item": W({"org_code": COMMUNITY_A, "item_id": "{cert_item_a}"}, {"name": "x"}),
    "p_certificates.admin_remove_item": W({"org_code": COMMUNITY_A, "item_id": "{cert_item_a}"}),
    "p_certificates.admin_publish": W({"org_code": COMMUNITY_A}, {"effective_from": "2030-01-01"}),
    "p_certificates.admin_import": W({"org_code": COMMUNITY_A}),
    "p_certificates.issued_revoke": W({"serial": "{serial_a}"}, {"reason": "错误"}),
    "p_certificates.unlisted_add": W({"request_id": "{request_a}"}, {"org": COMMUNITY_A}),
    "p_certificates.download": "residents: number + 查询码",
    # --- agenda (居民议事): items are scoped by their unit's code
    "p_agenda.decision": W({"item_id": "{agenda_a}"}, {"decision": "decline", "reply": "不予采纳"}),
    "papi_agenda.decide": W({"item_id": "{agenda_a}"}, {"decision": "decline", "reply": "不予采纳"}),
    # --- grid (网格基础信息): addresses, households, people and units, scoped by the address's grid
    "papi_grid.bulk_addresses": UNIT_ARG, "p_grid.bulk": UNIT_ARG,
    "papi_grid.set_keeper": W({"address_id": "{grid_building_a}"}, {"name": "韩某"}),
    "papi_grid.move_address": W({"address_id": "{grid_building_a}"}, {"grid": "339901001002001"}),
    "papi_grid.add_person": W(body={"address": "{grid_room_a}", "name": "韩某", "id_card": "339902199001011236",
                                    "relation": "tenant", "residence_type": "floating"}),
    "papi_grid.move_out": W({"person_id": "{grid_person_a}"}, {"moved_out": "2024-01-01"}),
    "papi_grid.move_in": W({"person_id": "{grid_person_a}"}, {"address": "{grid_room_a}", "relation": "tenant",
                                                             "residence_type": "floating"}),
    "papi_grid.set_care": W({"person_id": "{grid_person_a}"}, {"care_tags": []}),
    "papi_grid.add_special": W({"person_id": "{grid_person_a}"}, {"group": "youth"}),
    "papi_grid.set_rental": W({"household_id": "{grid_household_a}"}, {"rented": False}),
    "papi_grid.add_unit": W(body={"address": "{grid_room_a}", "name": "韩记小店", "category": "shop"}),
    "p_grid.keeper": W({"address_id": "{grid_building_a}"}, {"name": "韩某"}),
    "p_grid.move": W({"address_id": "{grid_building_a}"}, {"grid": "339901001002001"}),
    "p_grid.add_person": W({"address_id": "{grid_room_a}"}, {"name": "韩某", "id_card": "339902199001011236",
                                                            "relation": "tenant", "residence_type": "floating"}),
    "p_grid.rental": W({"address_id": "{grid_room_a}"}, {"rented": ""}),
    "p_grid.add_unit_here": W({"address_id": "{grid_room_a}"}, {"name": "韩记小店", "category": "shop"}),
    "p_grid.move_out": W({"person_id": "{grid_person_a}"}, {"moved_out": "2024-01-01"}),
    "p_grid.move_in": W({"person_id": "{grid_person_a}"}, {"address_code": "{grid_room_code_a}", "relation": "tenant",
                                                          "residence_type": "floating"}),
    "p_grid.care": W({"person_id": "{grid_person_a}"}),
    "p_grid.special": W({"person_id": "{grid_person_a}"}, {"group": "youth"}),
    "p_grid.units_add": "the address is typed as its standard code: another grid's code answers the same field "
                        "message (422) as an unknown one (plugins/fengqiao-grid/tests/test_grid_pages.py)",
    **dict.fromkeys(("papi_grid.import_people_api", "p_grid.import_upload"),
                    "the rooms are named inside the uploaded workbook: another grid's room is reported as an unknown "
                    "address at its row and column (422), and nothing is written "
                    "(plugins/fengqiao-grid/tests/test_grid_import.py)"),
    **dict.fromkeys(("papi_grid.import_addresses_api", "p_grid.import_addresses_upload"),
                    "the grid is a cell of the uploaded workbook: a grid outside the caller's scope is refused at its "
                    "row and column (422), and nothing is written (plugins/fengqiao-grid/tests/test_grid_import.py)"),
    # grid: the worker's day (visits, patrols, diary, the monthly dispute return)
    "papi_grid.add_visit": W(body={"address": "{grid_room_a}", "purpose": "home_visit", "spawn_case": False}),
    "p_grid.visit_new": W({"address_id": "{grid_room_a}"}, {"purpose": "home_visit"}),
    "papi_grid.add_diary": W(body={"grid": "339901001001001", "household": "{grid_household_a}", "text": "韩某"}),
    "papi_grid.add_patrol": UNIT_ARG, "papi_grid.add_return": UNIT_ARG, "p_grid.add_patrol": UNIT_ARG,
    "p_grid.add_diary": UNIT_ARG, "p_grid.add_return": UNIT_ARG,
}


def _objects(world) -> dict:
    """Objects of community A (and hanzhiming's own activity and team), by name."""
    from fengqiao_certificates.demo import seed_demo_lists
    from fengqiao_certificates.models import CertificateItem, CertificateRequest, IssuedCertificate
    from fengqiao_points import redemptions
    from fengqiao_points.demo import load as load_points
    from fengqiao_points.models import PointsAccount, PointsProduct, PointsRule
    from fengqiao_vanguard import indicators, notices
    from fengqiao_vanguard.demo import load_demo as load_vanguard
    from fengqiao_vanguard.models import Member, ScoreEvent
    from fengqiao_volunteer import activities, hours, registry
    from fengqiao_volunteer.demo import load as load_volunteers
    from fengqiao_volunteer.models import Activity, HoursEntry, Volunteer

    from fengqiao.db import db
    from fengqiao.sdk import utcnow

    bare, bearer = world.bare, world.api_headers
    with world.app.app_context():
        for load in (load_volunteers, load_points, load_vanguard, seed_demo_lists):  # idempotent
            load()
        db.commit()
        volunteers = {v.name: v for v in db.scalars(sa.select(Volunteer).where(Volunteer.org == COMMUNITY_A))}
        upcoming = db.scalar(sa.select(Activity).where(Activity.org == COMMUNITY_A, Activity.starts_at > utcnow()))
        entry = db.scalar(sa.select(HoursEntry).where(HoursEntry.volunteer_id == volunteers["陈晓燕"].id))
        enrollment = activities.enroll(upcoming.id, volunteers["刘建国"].id, actor="shenli")
        dispute = hours.raise_dispute(entry.id, volunteers["陈晓燕"].id, "时长记少了")
        team_a = registry.create_team({"name": "揽月志愿队", "org": COMMUNITY_A}, scope=None)
        account = db.scalar(sa.select(PointsAccount).where(PointsAccount.org_code == COMMUNITY_A))
        product = PointsProduct(name="揽月社区定制帆布袋", points=5, stock=10, org_code=COMMUNITY_A, active=True,
                                created_at=utcnow())
        db.add(product)
        db.commit()
        redemption_id, _ = redemptions.reserve(account.id, product.id, 1, "shenli")
        rule = db.scalar(sa.select(PointsRule).where(PointsRule.org_code == COMMUNITY_A, PointsRule.active))
        member = db.scalar(sa.select(Member).where(Member.org_code == COMMUNITY_A))
        event = db.scalar(sa.select(ScoreEvent).where(ScoreEvent.member_id == member.id,
                                                      ScoreEvent.status == "pending"))
        item_set = indicators.create_draft(COMMUNITY_A, "admin")
        db.commit()
    made = bare.post("/api/v1/p/vanguard/notices", headers=bearer("shenli"),
                     json={"org": COMMUNITY_A, "year": date.today().year, "quarter": 1})
    assert made.status_code == 201, made.get_data(as_text=True)
    with world.app.app_context():
        from fengqiao_vanguard.models import Notice

        objection = notices.raise_objection(db.get(Notice, made.get_json()["id"]), {"text": "有异议"})
        item = db.scalar(sa.select(CertificateItem).where(CertificateItem.name == "实际居住证明"))
        request_a = CertificateRequest(case_number="WM-REQ-A", org_code=COMMUNITY_A, requested="养犬证明",
                                       match="unlisted")
        issued = IssuedCertificate(serial="WM-A-2026-0001", case_number="WM-CASE-A", org_code=COMMUNITY_A, year=2026,
                                   sequence=9001, issuer_name="揽月社区居民委员会", item_name="实际居住证明",
                                   holder_name="王秀英", issued_on=date.today())
        db.add_all([request_a, issued])
        db.commit()
        found = {"volunteer_a": volunteers["陈晓燕"].id, "minor_a": volunteers["王小明"].id,
                 "activity_a": upcoming.id, "hours_a": entry.id, "enrollment_a": enrollment.id,
                 "dispute_a": dispute.id, "team_a": team_a.id, "account_a": account.id,
                 "account_number_a": account.number, "product_a": product.id, "redemption_a": redemption_id,
                 "rule_a": rule.id, "member_a": member.id, "event_a": event.id, "set_a": item_set.id,
                 "objection_a": objection.id, "cert_item_a": item.id, "request_a": request_a.id,
                 "serial_a": issued.serial}
    soon = date.today() + timedelta(days=6)
    made = bare.post("/api/v1/p/volunteer/activities", headers=bearer("hanzhiming"), json={
        "title": "桥东义诊", "org": COMMUNITY_B, "place": "桥东广场", "quota": 5,
        "starts_at": f"{soon}T09:00:00+08:00", "ends_at": f"{soon}T12:00:00+08:00"})
    assert made.status_code == 201, made.get_data(as_text=True)
    found["activity_b"] = made.get_json()["id"]
    proposed = bare.post(f"/api/v1/forms/agenda-proposal/submissions?org={COMMUNITY_A}",
                         json={"topic": "楼道加装扶手", "name": "李桂英"})
    assert proposed.status_code == 201, proposed.get_data(as_text=True)
    with world.app.app_context():
        from fengqiao_agenda.models import AgendaItem

        found["agenda_a"] = db.scalar(sa.select(AgendaItem.id).where(
            AgendaItem.submission_id == proposed.get_json()["submission_id"]))
    made = bare.post("/api/v1/p/grid/addresses/bulk", headers=bearer("shenli"), json={
        "grid": "339901001001001", "estate": "揽月花园", "buildings": [3], "units": 1, "floors": 1, "per_floor": 1})
    assert made.status_code == 201, made.get_data(as_text=True)
    with world.app.app_context():
        from fengqiao_grid.models import GridAddress

        rooms = {a.kind: a for a in db.scalars(sa.select(GridAddress).where(GridAddress.label.startswith("揽月花园3幢")))}
    person = bare.post("/api/v1/p/grid/people", headers=bearer("shenli"), json={
        "address": rooms["room"].id, "name": "王秀英", "id_card": "339901198001010013", "relation": "head",
        "residence_type": "registered"})
    assert person.status_code == 201, person.get_data(as_text=True)
    household = bare.get(f"/api/v1/p/grid/addresses/{rooms['room'].id}", headers=bearer("shenli")).get_json()
    found.update(grid_building_a=rooms["building"].id, grid_room_a=rooms["room"].id,
                 grid_room_code_a=rooms["room"].code, grid_person_a=person.get_json()["id"],
                 grid_household_a=household["household"]["id"])
    found.update(case_a=world.case_a, case_b=world.case_b)
    return found


@pytest.fixture(scope="module")
def objects(world):
    return _objects(world)


def _fill(value, objects):
    if isinstance(value, dict):
        return {k: _fill(v, objects) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in objects:
        return objects[value[1:-1]]
    return value


def _may_call(world, persona: str, endpoint: str) -> bool:
    from fengqiao.db import db
    from fengqiao.models import User

    access = access_of(world.app, endpoint)
    if access is None or access.kind != "permission":
        return True
    with world.app.app_context():
        return db.scalar(sa.select(User).where(User.username == persona)).can(access.permission)


def _refused_uniformly(response, is_api: bool, may_call: bool) -> str | None:
    """None when the answer is right; otherwise what is wrong with it."""
    status = response.status_code
    if not may_call:
        return None if status == 403 else f"expected 403 (role), got {status}"
    if status != 404:
        return f"expected 404, got {status} {response.headers.get('Location', '')}".rstrip()
    if is_api:
        messages = [e["message"] for e in (response.get_json(silent=True) or {}).get("errors", [])]
        if messages != [NOT_FOUND_MESSAGE]:
            return f"404 with {messages}, expected [{NOT_FOUND_MESSAGE!r}]"
    elif NOT_FOUND_MESSAGE not in response.get_data(as_text=True):
        return "404 page without the uniform message"
    return None


def write_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.methods & WRITE_METHODS), key=lambda r: (r.rule, r.endpoint))


def run_write_matrix(world, objects, endpoints: set[str] | None = None) -> list[str]:
    problems = []
    for rule in write_rules(world.app):
        row = WRITES.get(rule.endpoint)
        if not isinstance(row, W) or (endpoints is not None and rule.endpoint not in endpoints):
            continue
        method = row.method or next(m for m in ("POST", "PUT", "PATCH", "DELETE") if m in rule.methods)
        params = {k: str(v) if k == "number" else v for k, v in _fill(row.params, objects).items()}
        path = world.app.url_map.bind("localhost").build(rule.endpoint, params)
        body = _fill(row.body, objects)
        is_api = path.startswith("/api/")
        for persona in OUTSIDERS:
            if is_api:
                response = world.bare.open(path, method=method, json=body, headers=world.api_headers(persona))
            else:
                response = world.clients[persona].open(path, method=method, data=body)
            wrong = _refused_uniformly(response, is_api, _may_call(world, persona, rule.endpoint))
            if wrong:
                problems.append(f"{rule.endpoint} {method} {path} as {persona}: {wrong}")
    return problems


def test_every_write_route_has_a_row(world):
    missing = sorted({r.endpoint for r in write_rules(world.app)} - set(WRITES))
    assert not missing, ("write routes missing from tests/security/test_write_matrix.py WRITES (aim each at "
                         "an object of community A, or say why it has none): " + ", ".join(missing))


def test_write_table_has_no_stale_rows(world):
    stale = sorted(set(WRITES) - {r.endpoint for r in write_rules(world.app)})
    assert not stale, stale


def test_write_matrix(world, objects):
    problems = run_write_matrix(world, objects)
    assert not problems, f"{len(problems)} cells differ:\n" + "\n".join(problems)


def test_write_matrix_fails_when_a_scope_check_is_removed(world, objects, monkeypatch):
    """Make the sdk's scope test say yes to everything: the plugin writes that load their object
    through ``get_in_scope`` must then show up as reaching 桥东's secretary."""
    import fengqiao.sdk.orgs

    monkeypatch.setattr(fengqiao.sdk.orgs, "in_scope", lambda path, permission, user=None: True)
    problems = run_write_matrix(world, objects, {"p_points.restock", "papi_points.collect"})
    assert any(p.startswith("p_points.restock") and "as hanzhiming: expected 404" in p for p in problems), problems
    assert any(p.startswith("papi_points.collect") and "as hanzhiming: expected 404" in p for p in problems), problems


def test_a_points_claim_through_the_core_form_cannot_target_another_units_account(world, objects):
    """The reported attack: 桥东's secretary filed a 积分申报 against a 揽月 household through the
    core's form API (the plugin's own page was checked, the form was not). The core answers
    201 before the plugin hears of it, so the claim is refused at once exactly like one for an
    unknown account number — same text — and never points at 揽月's account."""
    from fengqiao_points.models import PointsClaim, PointsRule

    from fengqiao.db import db
    from fengqiao.sdk import case_info

    with world.app.app_context():
        rule = db.scalar(sa.select(PointsRule.id).where(PointsRule.key == "volunteer", PointsRule.active))
    answers = {}
    for label, number in (("other unit", objects["account_number_a"]), ("unknown", "99999999")):
        made = world.bare.post("/api/v1/forms/points-claim/submissions", headers=world.api_headers("hanzhiming"),
                               json={"account": number, "rule": rule, "description": "帮助邻居"})
        assert made.status_code == 201, made.get_data(as_text=True)
        case_number = made.get_json()["case_number"]
        with world.app.app_context():
            claim = db.scalar(sa.select(PointsClaim).where(PointsClaim.case_number == case_number))
            answers[label] = (claim.account_id, case_info(case_number)["state"])
            reply = world.bare.get(f"/api/v1/cases/{case_number}", headers=world.api_headers("hanzhiming")).get_json()
            answers[label] += (reply["history"][-1].get("comment"),)
    assert answers["other unit"][0] is None, answers  # not linked to 揽月's account
    assert answers["other unit"] == answers["unknown"], answers  # refused exactly like an unknown number
