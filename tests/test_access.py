"""Routes are deny-by-default: every view declares who may call it."""

from __future__ import annotations

import pytest

from fengqiao.access import access_of


def test_every_route_declares_access(app):
    undeclared = sorted(
        rule.endpoint for rule in app.url_map.iter_rules() if access_of(app, rule.endpoint) is None
    )
    assert undeclared == [], f"routes without an access rule: {undeclared}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_view_without_a_rule_is_refused(app, client, login_as):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    login_as("admin")
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_permission_rules_are_enforced(client, login_as):
    login_as("zhangmin")  # grid worker: no user management
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.get("/admin/orgs").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_anonymous_pages_redirect_to_login(client, demo):
    response = client.get("/admin/orgs")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
