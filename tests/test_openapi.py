"""The OpenAPI document is valid 3.1 and covers every API route."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_openapi_document_is_valid_and_complete(app, client):
    from fengqiao.api.openapi import undocumented_routes

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    with app.test_request_context():
        assert undocumented_routes() == []
    for path in ["/forms", "/forms/{key}", "/forms/{key}/submissions", "/cases", "/cases/{number}",
                 "/auth/token", "/plugins"]:
        assert path in spec["paths"], path


def test_a_new_route_without_docs_is_caught(app):
    from fengqiao.access import public
    from fengqiao.api.openapi import undocumented_routes

    @public
    def extra():
        return {}

    app.add_url_rule("/api/v1/extra", "extra", extra)
    with app.test_request_context():
        assert undocumented_routes() == ["GET /api/v1/extra"]
