"""CSRF on plugin APIs: every write route under ``/api/v1/p/`` follows the core API's rule
(issue 17, finding 9). A cookie-authenticated write without the ``X-CSRFToken`` header is
refused (400, code ``csrf``) before the view runs, whatever the Origin; with the header, or
with a bearer token and no cookie, the request reaches the route's own checks."""

from __future__ import annotations

import pytest

from fengqiao.testing.plugin import csrf_token

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
EVIL = {"Origin": "http://evil.example", "Referer": "http://evil.example/page"}


def plugin_api_writes(app) -> list[tuple[str, str]]:
    """(method, path) of every plugin API write rule, path parameters filled with 1."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("papi_"):
            continue
        adapter = app.url_map.bind("localhost")
        path = adapter.build(rule.endpoint, {name: 1 for name in rule.arguments})
        found += [(method, path) for method in sorted(rule.methods & WRITES)]
    return sorted(found)


def _caller(world, path: str, method: str) -> str | None:
    """shenli, or admin for the routes only admins may call (the access check runs first);
    None for a permission neither holds (one admins do not get, like ``grid.special``)."""
    import sqlalchemy as sa

    from fengqiao.access import access_of
    from fengqiao.db import db
    from fengqiao.models import User

    endpoint = world.app.url_map.bind("localhost").match(path, method=method)[0]
    access = access_of(world.app, endpoint)
    if access is None or access.kind != "permission":
        return "shenli"
    with world.app.app_context():
        shenli, admin = (db.scalar(sa.select(User).where(User.username == name)) for name in ("shenli", "admin"))
        if access.permission in shenli.permissions:
            return "shenli"
        return "admin" if access.permission in admin.permissions else None


def _is_csrf_refusal(response) -> bool:
    body = response.get_json(silent=True) or {}
    return response.status_code == 400 and any(e.get("code") == "csrf" for e in body.get("errors", []))


def test_every_plugin_ships_api_writes(world):
    """Guard against the parametrised tests below silently checking nothing."""
    prefixes = {path.split("/")[4] for _, path in plugin_api_writes(world.app)}
    assert {"points", "vanguard", "volunteer", "grid"} <= prefixes, prefixes


def test_cookie_writes_without_the_header_are_refused(world):
    """Signed in by cookie, from a foreign page: every plugin API write is refused."""
    accepted = []
    for method, path in plugin_api_writes(world.app):
        caller = _caller(world, path, method)
        if caller is None:
            continue  # no persona here may call it: refused (403) before anything is done
        client = world.clients[caller]
        response = client.open(path, method=method, json={}, headers=EVIL)
        if not _is_csrf_refusal(response):
            accepted.append(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:120]}")
    assert not accepted, "cookie writes accepted without X-CSRFToken:\n" + "\n".join(accepted)


def test_collecting_a_redemption_with_a_foreign_origin_is_refused(world):
    """The reported attack: a cross-site POST collected a redemption with shenli's cookie."""
    response = world.clients["shenli"].post("/api/v1/p/points/redemptions/1/collect", headers=EVIL)
    assert _is_csrf_refusal(response), response.get_data(as_text=True)
    assert response.get_json()["errors"][0]["message"] == "CSRF 校验失败，请刷新页面后重试"


def test_cookie_writes_with_the_header_reach_the_route(world):
    client = world.fresh_client("shenli")
    token = csrf_token(client, "/account/password")
    refused = [f"{method} {path}" for method, path in plugin_api_writes(world.app)
               if _is_csrf_refusal(client.open(path, method=method, json={}, headers={"X-CSRFToken": token}))]
    assert not refused, refused


def test_a_token_of_another_session_is_refused(world):
    token = csrf_token(world.fresh_client("hanzhiming"), "/account/password")
    response = world.clients["shenli"].post("/api/v1/p/volunteer/teams", json={}, headers={"X-CSRFToken": token})
    assert _is_csrf_refusal(response)


@pytest.mark.parametrize("persona", ["shenli"])
def test_bearer_calls_need_no_header(world, persona):
    refused = [f"{method} {path}" for method, path in plugin_api_writes(world.app)
               if _is_csrf_refusal(world.bare.open(path, method=method, json={}, headers=world.api_headers(persona)))]
    assert not refused, refused


def test_a_cookie_with_a_non_bearer_authorization_header_still_needs_the_token(world):
    """Only a bearer token lifts the rule: any other Authorization value leaves the cookie in charge."""
    response = world.clients["shenli"].post("/api/v1/p/volunteer/teams", json={},
                                            headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert _is_csrf_refusal(response)
    core = world.clients["shenli"].post("/api/v1/metrics/ledgers", json={"kind": "cases"},
                                        headers={"Authorization": "Basic Zm9vOmJhcg==", **EVIL})
    assert _is_csrf_refusal(core)


def test_a_bogus_bearer_token_beside_the_cookie_is_401_not_the_cookie_user(world):
    """A bearer header means the token alone authenticates: a signed-in browser's cookie next
    to a made-up token must not act as that user (it would skip the CSRF rule too)."""
    all_writes = plugin_api_writes(world.app) + [("POST", "/api/v1/metrics/ledgers")]
    acted = []
    for method, path in all_writes:
        response = world.clients[_caller(world, path, method) or "shenli"].open(
            path, method=method, json={}, headers={"Authorization": "Bearer bogus", **EVIL})
        body = response.get_json(silent=True) or {}
        if response.status_code != 401 or body["errors"][0]["code"] != "invalid_token":
            acted.append(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:100]}")
    assert not acted, "cookie user acted with a bogus bearer token:\n" + "\n".join(acted)
    read = world.clients["shenli"].get("/api/v1/cases", headers={"Authorization": "Bearer bogus"})
    assert read.status_code == 401
    assert world.clients["shenli"].get("/api/v1/cases").status_code == 200  # the cookie itself still works
