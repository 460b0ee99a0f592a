"""The permission matrix: every route of the app (core and every installed plugin) × nine
personas, checked against a declarative table.

The table states for each core endpoint who may call it (``public``, ``login`` or a
permission) independently of the route's decorator, plus the object-level expectations (a
case of another community is 404 on its detail, actions, attachments and exports). A core
route missing from the table fails with its name. Plugin routes not (yet) in the table
default from their decorators: anonymous → sign-in, a persona without the permission → 403,
the others get past the check (a made-up path parameter may then give 404).

Expectations: ``ok`` (GET: 200, or the row's ``ok_status``; POST: past every check — not
401/403/404/405 and not a 5xx), ``login`` (401 on the API, a redirect to /login on pages),
``forbidden`` (403), ``hidden`` (404), or an exact status.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import openpyxl
import pytest

from fengqiao.access import access_of

COMMUNITY_A = "339901001001"
PERSONAS = ("anonymous", "resident", "zhangmin", "shenli", "hanzhiming", "zhifa", "ducha", "lingdao", "admin")

# What each demo account's role grants (README.md, roles under "The `fengqiao` command" and
# "Security and personal data"; written out here on purpose, so
# that a change in roles.py shows up as matrix failures someone must look at).
VIEW = {"orgs.view", "cases.view"}
PERMISSIONS = {
    "anonymous": set(),
    "resident": set(),
    "zhangmin": VIEW | {"cases.act", "cases.report"},  # grid worker, grid A
    "shenli": VIEW | {"users.view", "cases.act", "cases.report", "metrics.view", "cases.reveal"},  # community A
    "hanzhiming": VIEW | {"users.view", "cases.act", "cases.report", "metrics.view", "cases.reveal"},  # B
    "zhifa": VIEW | {"cases.act"},  # department
    "ducha": VIEW | {"users.view", "cases.act", "metrics.view", "cases.reveal", "audit.view"},  # county
    "lingdao": VIEW | {"metrics.view"},  # county viewer
    "admin": VIEW | {"orgs.manage", "users.view", "users.manage", "cases.act", "cases.report",
                     "metrics.view", "forms.manage", "plugins.manage", "audit.view"},  # no cases.reveal
}
# Object-level visibility of the world's objects.
NOT_CASE_A = {"hanzhiming", "zhifa"}  # case A is in grid A of 揽月社区; zhifa was not sent it
NOT_COMMUNITY_A = {"hanzhiming", "zhifa"}  # user records under 揽月社区
NOT_UNIT_A = NOT_COMMUNITY_A | {"zhangmin"}  # the community's own record: above zhangmin's grid
NOT_SHENLIS_JOB = {"zhangmin", "hanzhiming", "zhifa", "ducha", "lingdao"}  # admins see every job
SIGNED_IN_REDIRECT = {p: 302 for p in PERSONAS[2:]}  # /login when already signed in
NO_REVEAL = {p: "forbidden" for p in ("zhangmin", "lingdao", "admin")}
NO_SUCH = "no-such-thing"  # for actions that would change shared state: the check, then 404


@dataclass(frozen=True)
class Row:
    access: str  # "public" | "login" | a permission
    params: dict = field(default_factory=dict)  # path parameters ("{case_a}" … filled from the world)
    query: str = ""  # "{code}": case A's tracking code for the resident, a wrong one for others
    method: str | None = None  # default: GET when the rule has it, else POST
    body: dict | None = None
    hidden: frozenset = frozenset()  # personas past the role check but answered 404
    expect: dict = field(default_factory=dict)  # persona -> expectation overriding the rest
    ok_status: int = 200
    absent: tuple = ()  # world attributes (e.g. "case_a") that ``hidden`` personas must not see
    fresh: bool = False  # the request ends the session: use a throwaway signed-in client


def R(access, **kw) -> Row:
    for name in ("hidden",):
        if name in kw:
            kw[name] = frozenset(kw[name])
    return Row(access, **kw)


CASE = {"number": "{case_a}"}
TRACK_ONLY_RESIDENT = {p: "hidden" for p in PERSONAS if p != "resident"}

TABLE: dict[str, Row] = {
    # --- public pages and health
    "static": R("public", params={"filename": "forms.js"}),
    "theme_static": R("public", params={"filename": "fengqiao.css"}),
    "web.healthz": R("public"),
    "web.readyz": R("public"),
    "web.login": R("public", expect=SIGNED_IN_REDIRECT),
    "web.logout": R("login", fresh=True, expect={p: 302 for p in PERSONAS[2:]}),  # back to /login
    "web.login_totp": R("public", expect={p: 302 for p in PERSONAS}),  # no password step pending
    "web.dashboard": R("public"),  # staff: the 工作台; residents: the public home (no redirect)
    "web.account_password": R("login"),
    "web.account_totp": R("login"),
    "web.account_totp_disable": R("login", body={}),
    "web.board": R("public"),
    "web.form_index": R("public"),
    "web.form_fill": R("public", params={"key": "livelihood-request"}),
    # the installable app (issue 24): manifest and service worker for everyone, 待上传 for the
    # signed-in (the queue itself is in the browser; the page is an empty shell)
    "web.web_manifest": R("public"),
    "web.service_worker": R("public"),
    "web.outbox": R("login"),
    # the receipt lives in the submitter's own session: without one, nobody sees anything
    "web.form_done": R("public", params={"key": "livelihood-request"}, expect={p: "hidden" for p in PERSONAS}),
    "web.track": R("public", query="number={case_a}&code={code}", expect=TRACK_ONLY_RESIDENT),
    "web.track_rate": R("public", body={"number": "{case_a}", "code": "{code}", "rating": "satisfied"},
                        expect=TRACK_ONLY_RESIDENT),
    "web.track_reopen": R("public", body={"number": "{case_a}", "code": "{code}", "reason": "没有修好"},
                          expect=TRACK_ONLY_RESIDENT),
    # --- public API
    "api.list_forms": R("public"),
    "api.show_form": R("public", params={"key": "livelihood-request"}),
    "api.create_submission": R("public", params={"key": "livelihood-request"}, body={}),
    # one file for a form's upload field, named by the JSON submission after it (offline queue)
    "api.upload_form_file": R("public", params={"key": "livelihood-request"}, body={}),
    "api.issue_api_token": R("public", body={}),
    "api.revoke_api_token": R("login", fresh=True, expect={p: 204 for p in PERSONAS[2:]}),
    "api.openapi_document": R("public"),
    "api.community_search": R("public"),  # community names only (the resident picks where to file)
    "api.address_search": R("public", query="q=幸福小区"),  # address labels and grids only, never residents
    "api.track_case": R("public", params=CASE, query="code={code}", expect=TRACK_ONLY_RESIDENT),
    "api.rate_case": R("public", params=CASE, query="code={code}", body={"rating": "satisfied"},
                       expect=TRACK_ONLY_RESIDENT),
    "api.reopen_case": R("public", params=CASE, body={"code": "{code}", "reason": "没有修好"},
                         expect=TRACK_ONLY_RESIDENT),
    # --- cases: lists and exports are scoped; detail, actions and files are object-checked
    "web.queue": R("cases.view", absent=("case_a",), hidden=NOT_CASE_A, expect={p: "ok" for p in NOT_CASE_A}),
    "api.list_cases": R("cases.view", absent=("case_a",), hidden=NOT_CASE_A,
                        expect={p: "ok" for p in NOT_CASE_A}),
    "api.export_cases": R("cases.view", absent=("case_a",), hidden=NOT_CASE_A,
                          expect={p: "ok" for p in NOT_CASE_A}),
    "web.form_submissions_export": R("cases.view", params={"key": "grid-incident"}, absent=("case_a",),
                                     hidden=NOT_CASE_A, expect={p: "ok" for p in NOT_CASE_A}),
    "web.case_detail": R("cases.view", params=CASE, hidden=NOT_CASE_A),
    "web.case_print": R("cases.view", params=CASE, hidden=NOT_CASE_A),  # 打印: the page's scope
    "api.show_case": R("cases.view", params=CASE, hidden=NOT_CASE_A),
    "web.case_attachment": R("cases.view", params={**CASE, "attachment_id": "{attachment_a}"},
                             hidden=NOT_CASE_A),
    # reveal: past the case's visibility (404), the role needs cases.reveal (403, audited)
    "api.reveal_field": R("cases.view", params=CASE, body={"field": "/summary", "reason": "核实"},
                          hidden=NOT_CASE_A, expect=NO_REVEAL),
    "web.case_reveal": R("cases.view", params=CASE, body={"field": "/summary", "reason": "核实"},
                         hidden=NOT_CASE_A, expect=NO_REVEAL),
    "web.case_board": R("cases.act", params=CASE, hidden=NOT_CASE_A),
    # orders pushed by the 12345 platform: integration accounts only (no persona holds it);
    # the unit and the order's scope are checked in tests/inbound/test_orders.py
    "api.receive_inbound_order": R("cases.inbound", body={}),
    "api.inbound_order_status": R("cases.inbound", params={"source": "12345", "number": NO_SUCH}),
    # a step photo (自行处置's after photo): the case's visibility (404), then a step asking for it
    "api.upload_case_photo": R("cases.act", params=CASE, body={}, hidden=NOT_CASE_A),
    "api.upload_case_file": R("cases.act", params=CASE, body={}, hidden=NOT_CASE_A),
    "api.act_on_case": R("cases.act", params={**CASE, "action": "claim"}, body={"version": 0},
                         hidden=NOT_CASE_A),
    "api.bulk_act": R("cases.act", params={"action": "claim"}, body={"numbers": ["{case_a}"], "version": 0}),
    "web.queue_bulk": R("cases.act", body={}),
    # 保存的筛选: the caller's own rows (422 without a name: past the checks); another user's id is 404
    "web.queue_filter_save": R("cases.view", body={}),
    "web.queue_filter_delete": R("cases.view", params={"filter_id": 987654}, body={}, hidden=PERSONAS[2:]),
    "api.list_queue_filters": R("cases.view"),
    "api.save_queue_filter": R("cases.view", body={}),  # 422: no name
    "api.delete_queue_filter": R("cases.view", params={"filter_id": 987654}, hidden=PERSONAS[2:]),
    # --- jobs: only the one who started it (and admins)
    "web.job_status": R("login", params={"job_id": "{job}"}, hidden=NOT_SHENLIS_JOB),
    "web.job_download": R("login", params={"job_id": "{job}"}, hidden=NOT_SHENLIS_JOB),
    "api.show_job": R("login", params={"job_id": "{job}"}, hidden=NOT_SHENLIS_JOB),
    # --- message centre (站内信): the caller's own rows; another user's id is 404 like a missing one
    "web.inbox": R("login"),
    "web.inbox_open": R("login", params={"notification_id": 987654}, hidden=PERSONAS[2:]),
    "web.inbox_read": R("login", params={"notification_id": 987654}, body={}, hidden=PERSONAS[2:]),
    "web.inbox_read_all": R("login", body={}),
    # 我的草稿: the caller's own form drafts; an id that is not theirs is 404
    "web.drafts_list": R("login"),
    "web.draft_open": R("login", params={"draft_id": 987654}, hidden=PERSONAS[2:]),
    "web.draft_delete": R("login", params={"draft_id": 987654}, body={}, hidden=PERSONAS[2:]),
    "api.list_inbox": R("login"),
    "api.mark_inbox_read": R("login", body={"all": True}),
    "api.mark_one_inbox_read": R("login", params={"notification_id": 987654}, body={}, hidden=PERSONAS[2:]),
    # --- notification settings: one's own; a unit's (orgs.manage, another unit is 404); deliveries
    "web.account_notifications": R("login"),
    "api.get_notification_settings": R("login"),
    "api.put_notification_settings": R("login", body={}),
    "web.notification_admin": R("orgs.manage"),
    "web.notification_admin_channel": R("orgs.manage", params={"name": NO_SUCH}, body={}, expect={"admin": "hidden"}),
    "web.notification_admin_test": R("orgs.manage", params={"name": NO_SUCH}, body={}, expect={"admin": "hidden"}),
    "web.delivery_list": R("orgs.manage"),
    "web.delivery_resend": R("orgs.manage", body={}),
    "api.list_deliveries": R("orgs.manage"),
    # --- webhook endpoints (orgs.manage; an endpoint of a unit outside the admin's scope is 404)
    "web.webhook_list": R("orgs.manage"),
    "web.webhook_new": R("orgs.manage"),
    "web.webhook_detail": R("orgs.manage", params={"endpoint_id": 987654}, expect={"admin": "hidden"}),
    "web.webhook_secret": R("orgs.manage", params={"endpoint_id": 987654}, expect={"admin": "hidden"}),
    "web.webhook_delete": R("orgs.manage", params={"endpoint_id": 987654}, expect={"admin": "hidden"}),
    "web.webhook_ping": R("orgs.manage", params={"endpoint_id": 987654}, expect={"admin": "hidden"}),
    "web.webhook_resend": R("orgs.manage", params={"endpoint_id": 987654, "delivery_id": 987654},
                            expect={"admin": "hidden"}),
    "api.create_webhook": R("orgs.manage", body={}),
    "api.list_webhooks": R("orgs.manage"),
    # --- metrics
    "web.metrics_page": R("metrics.view"),
    "web.ledger_page": R("metrics.view"),
    "web.metrics_export": R("metrics.view"),
    "api.get_metrics": R("metrics.view"),
    "api.request_ledger": R("metrics.view", body={}),
    # --- organisation and people
    "web.org_list": R("orgs.view"),
    "web.org_edit": R("orgs.view", params={"code": COMMUNITY_A}, hidden=NOT_UNIT_A),
    "web.org_new": R("orgs.manage"),
    "api.list_orgs": R("orgs.view"),
    "api.show_org": R("orgs.view", params={"code": COMMUNITY_A}, hidden=NOT_UNIT_A),
    "api.create_org": R("orgs.manage", body={}),
    "web.user_list": R("users.view"),
    "web.user_export": R("users.view"),
    "web.user_detail": R("users.view", params={"username": "zhangmin"}, hidden=NOT_COMMUNITY_A),
    "web.user_new": R("users.manage"),
    "web.user_security": R("users.manage", params={"username": "zhangmin"}, body={}),
    "api.list_users": R("users.view"),
    "api.show_user": R("users.view", params={"username": "zhangmin"}, hidden=NOT_COMMUNITY_A),
    "api.create_user_api": R("users.manage", body={}),
    "web.calendar_admin": R("orgs.manage"),
    "web.calendar_admin_add_day": R("orgs.manage", body={}),
    "web.calendar_admin_import": R("orgs.manage", body={}),
    "web.calendar_admin_remove_day": R("orgs.manage", params={"day_id": 987654}, expect={"admin": "hidden"}),
    "web.audit_log": R("audit.view"),
    "web.audit_export": R("audit.view"),
    # --- forms and workflows (designer)
    "web.form_admin_list": R("forms.manage"),
    "web.form_admin_detail": R("forms.manage", params={"key": "livelihood-request"}),
    "web.form_admin_diff": R("forms.manage", params={"key": "livelihood-request"}),
    "web.form_admin_edit": R("forms.manage", params={"key": "livelihood-request"}),
    "web.form_admin_export": R("forms.manage", params={"key": "livelihood-request"}),
    "web.form_admin_new": R("forms.manage"),
    "web.form_admin_import": R("forms.manage", body={}),
    "web.form_admin_import_xlsx": R("forms.manage", body={}),  # 422: no workbook, past the checks
    "web.form_admin_xlsform_template": R("forms.manage"),
    "web.form_admin_export_xlsx": R("forms.manage", params={"key": "livelihood-request"}),
    "web.form_admin_preview": R("forms.manage", body={}),
    "web.form_admin_publish": R("forms.manage", params={"key": NO_SUCH}, expect={"admin": "hidden"}),
    "web.form_admin_archive": R("forms.manage", params={"key": NO_SUCH}, expect={"admin": "hidden"}),
    "web.workflow_admin_list": R("forms.manage"),
    "web.workflow_admin_detail": R("forms.manage", params={"key": "livelihood_request", "number": 1}),
    "web.workflow_admin_edit": R("forms.manage", params={"key": "livelihood_request"}),
    "web.workflow_admin_design": R("forms.manage", params={"key": "livelihood_request"}),
    "web.workflow_admin_diagram": R("forms.manage", body={}),  # 400: no definition, past the checks
    "web.workflow_admin_history": R("forms.manage", params={"key": "livelihood_request"}),
    "web.workflow_admin_new": R("forms.manage"),
    "web.workflow_admin_discard": R("forms.manage", params={"key": NO_SUCH}, expect={"admin": "hidden"}),
    "web.workflow_admin_publish": R("forms.manage", params={"key": NO_SUCH}, expect={"admin": "hidden"}),
    "web.workflow_admin_restore": R("forms.manage", params={"key": NO_SUCH, "number": 1},
                                    expect={"admin": "hidden"}),
    "web.workflow_admin_migrate": R("forms.manage", params={"key": "livelihood_request"}),
    # one version only: nothing to compare yet (422 「请选择要对比的两个版本」)
    "web.workflow_admin_compare": R("forms.manage", params={"key": "livelihood_request"}, ok_status=422),
    # --- plugins
    "web.plugin_admin_list": R("plugins.manage"),
    "web.plugin_admin_settings": R("plugins.manage", params={"name": "hello"}),
    "web.plugin_admin_switch": R("plugins.manage", params={"name": NO_SUCH}, expect={"admin": "hidden"}),
    "api.list_plugins": R("plugins.manage"),
    # --- plugin 台账 downloads (grid.view, granted by the plugin to its roles): ?grid= of grid A
    # answers 桥东社区 404, an empty ?grid= the caller's own grids (plugins/fengqiao-grid/tests/test_grid_ledgers.py)
    **{f"papi_grid.export_{name}": R("grid.view", query="grid=339901001001001", hidden={"hanzhiming"})
       for name in ("people", "addresses", "units", "visits", "returns")},
}


def _fill(value, world, persona):
    if not isinstance(value, str):
        return value
    code = world.code_a if persona == "resident" else "WRONG0CODE"
    return value.format(case_a=world.case_a, case_b=world.case_b, code=code, job=world.job,
                        attachment_a=world.attachment_a)


def _fill_all(mapping, world, persona):
    if isinstance(mapping, dict):
        return {k: _fill_all(v, world, persona) for k, v in mapping.items()}
    if isinstance(mapping, list):
        return [_fill_all(v, world, persona) for v in mapping]
    return _fill(mapping, world, persona)


def row_for(app, endpoint: str) -> tuple[Row | None, bool]:
    """The table's row, or for a plugin endpoint one derived from its decorator."""
    if endpoint in TABLE:
        return TABLE[endpoint], True
    if endpoint.split(".")[0].startswith(("p_", "papi_")):
        access = access_of(app, endpoint)
        if access is None:
            return None, False
        return Row("public" if access.kind == "public" else access.permission or "login"), False
    return None, False


def _path_for(rule, params: dict) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        kind = converter.__class__.__name__
        default = 987654 if kind == "IntegerConverter" else sorted(converter.items)[0] if kind == "AnyConverter" else NO_SUCH
        values[name] = params.get(name, default)
    from werkzeug.routing import MapAdapter

    adapter: MapAdapter = rule.map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=None)


def expected(row: Row, persona: str, world, from_table: bool) -> str | int:
    if persona in row.expect:
        return row.expect[persona]
    if row.access == "public":
        return "hidden" if persona in row.hidden else "ok"
    if persona in ("anonymous", "resident"):
        return "login"
    if row.access != "login":
        core = from_table and row.access not in world.app.extensions["fengqiao.permissions"].labels
        granted = PERMISSIONS[persona] if core else _runtime_permissions(world, persona)  # plugins grant theirs
        if row.access not in granted:
            return "forbidden"
    return "hidden" if persona in row.hidden else "ok"


def _runtime_permissions(world, persona: str) -> set[str]:
    """Plugin permissions are granted by the plugins: ask the account itself."""
    import sqlalchemy as sa

    from fengqiao.db import db
    from fengqiao.models import User

    with world.app.app_context():
        user = db.scalar(sa.select(User).where(User.username == persona))
        return set(user.permissions) | PERMISSIONS[persona]


def _judge(expectation, method: str, response, is_api: bool, row: Row, from_table: bool) -> bool:
    status = response.status_code
    location = response.headers.get("Location", "")
    if isinstance(expectation, int):
        return status == expectation
    if expectation == "login":
        return status == 401 if is_api else (status == 302 and "/login" in location)
    if expectation == "forbidden":
        return status == 403
    if expectation == "hidden":
        return status == 404
    # "ok": past every check
    if status >= 500 or (status == 302 and "/login" in location):
        return False
    if method == "GET" and from_table:
        return status == row.ok_status
    if not from_table and status == 404:
        return True  # a plugin route with a made-up path parameter
    return status not in (401, 403, 404, 405)


def _leaks(response, world, row: Row) -> list[str]:
    """World objects a scoped list or export shows although it must not."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
        text = " ".join(str(v) for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)
                        for v in r if v is not None)
    else:
        text = response.get_data(as_text=True)
    return [name for name in row.absent if getattr(world, name) in text]


def run_matrix(world, endpoints: set[str] | None = None) -> list[str]:
    """Every (rule, persona) cell that does not meet its expectation, as readable lines."""
    app = world.app
    problems = []
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    for rule in rules:
        if endpoints is not None and rule.endpoint not in endpoints:
            continue
        row, from_table = row_for(app, rule.endpoint)
        if row is None:
            continue  # reported by test_every_route_has_a_row
        method = row.method or next(m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in rule.methods)
        for persona in PERSONAS:
            params = _fill_all(row.params, world, persona)
            path = _path_for(rule, params)
            query = _fill(row.query, world, persona)
            url = f"{path}?{query}" if query else path
            is_api = path.startswith("/api/")
            if is_api:
                client, headers = world.bare, world.api_headers(persona, fresh=row.fresh)
            else:
                client = world.fresh_client(persona) if row.fresh else world.clients[persona]
                headers = {}
            body = _fill_all(row.body, world, persona) if row.body is not None else None
            if method in ("GET", "DELETE") and body is None:
                response = client.open(url, method=method, headers=headers)
            elif is_api:
                response = client.open(url, method=method, json=body or {}, headers=headers)
            else:
                response = client.open(url, method=method, data=body or {}, headers=headers)
            want = expected(row, persona, world, from_table)
            if not _judge(want, method, response, is_api, row, from_table):
                problems.append(f"{rule.endpoint} {method} {url} as {persona}: expected {want}, "
                                f"got {response.status_code} {response.headers.get('Location', '')}".rstrip())
            elif persona in row.hidden and row.absent and response.status_code == 200:
                leaked = _leaks(response, world, row)
                if leaked:
                    problems.append(f"{rule.endpoint} {url} as {persona}: shows {', '.join(leaked)}")
    return problems


def test_every_route_has_a_row(world):
    app = world.app
    missing = sorted({r.endpoint for r in app.url_map.iter_rules() if row_for(app, r.endpoint)[0] is None})
    assert not missing, ("routes missing from tests/security/test_matrix.py TABLE (add a row saying "
                         "who may call each): " + ", ".join(missing))


def test_table_has_no_stale_rows(world):
    endpoints = {r.endpoint for r in world.app.url_map.iter_rules()}
    stale = sorted(set(TABLE) - endpoints)
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_table_matches_the_declared_access(world):
    """The table and the decorators agree: a decorator changed without the table (or the
    reverse) is a decision someone must make explicitly."""
    app = world.app
    differ = []
    for endpoint, row in TABLE.items():
        access = access_of(app, endpoint)
        declared = None if access is None else ("public" if access.kind == "public" else access.permission or "login")
        if declared != row.access:
            differ.append(f"{endpoint}: table {row.access}, route {declared}")
    assert not differ, "\n".join(differ)


def test_permission_matrix(world):
    problems = run_matrix(world)
    assert not problems, f"{len(problems)} cells differ:\n" + "\n".join(problems)


@pytest.mark.parametrize("endpoint", ["web.case_detail", "api.show_case", "web.case_attachment", "web.case_print"])
def test_matrix_fails_when_a_scope_check_is_removed(world, monkeypatch, endpoint):
    """Remove the object-level check from the case routes: the matrix must notice."""
    import sqlalchemy as sa

    from fengqiao.cases import queries
    from fengqiao.db import db
    from fengqiao.models import Case

    def any_case(number, scope):
        return db.scalar(sa.select(Case).where(Case.number == number))

    monkeypatch.setattr(queries, "visible_case", any_case)
    problems = run_matrix(world, {endpoint})
    assert any("as hanzhiming: expected hidden, got 200" in p for p in problems), problems


def test_matrix_fails_when_a_route_check_is_removed(world, monkeypatch):
    """Mark an admin page public by mistake: every persona without the permission shows up."""
    from fengqiao.access import ATTR, Access

    view = world.app.view_functions["web.user_list"]
    monkeypatch.setattr(view, ATTR, Access("public"))
    problems = run_matrix(world, {"web.user_list"})
    assert any("as anonymous: expected login, got 200" in p for p in problems), problems
    assert any("as zhangmin: expected forbidden, got 200" in p for p in problems), problems


def test_matrix_fails_when_list_and_export_scopes_are_removed(world, monkeypatch):
    """Lists and Excel exports: drop the scope filter and case A shows up for 桥东社区."""
    import sqlalchemy as sa

    from fengqiao.cases import queries
    from fengqiao.models import Case, OrgUnit

    monkeypatch.setattr(queries, "cases_in", lambda scope: sa.select(Case).join(OrgUnit, Case.org_id == OrgUnit.id))
    endpoints = {"web.queue", "api.list_cases", "api.export_cases", "web.form_submissions_export"}
    problems = run_matrix(world, endpoints)
    for endpoint in endpoints:
        assert any(p.startswith(endpoint) and "as hanzhiming: shows case_a" in p for p in problems), (endpoint, problems)
