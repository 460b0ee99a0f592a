"""``GET /api/v1/openapi.json``: OpenAPI 3.1 for every API route.

Each route documents itself next to its code with :func:`document`; routes that plugins
add do the same. A test fails when an API route has no entry here.
"""

from __future__ import annotations

import re

from flask import current_app

from fengqiao import __version__
from fengqiao.access import public
from fengqiao.api.blueprint import api_bp
from fengqiao.apidocs import OPERATIONS, document, flask_to_openapi, path_param, query
from fengqiao.params import MAX_INT

__all__ = ["document", "query", "spec", "undocumented_routes"]  # document, query: re-exported for routes

INTEGER = {"type": "integer", "minimum": 0, "maximum": MAX_INT}  # what ``<int:…>`` matches
INT_PARAM = re.compile(r"<int(?:\([^)]*\))?:([a-z_]+)>")


def _integer_path_params() -> dict[str, set[str]]:
    """OpenAPI path → the names of its ``<int:…>`` parameters, read from the routes."""
    found: dict[str, set[str]] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = flask_to_openapi(rule.rule[len("/api/v1"):])
            found.setdefault(path, set()).update(INT_PARAM.findall(rule.rule))
    return found


def spec() -> dict:
    paths: dict[str, dict] = {}
    integers = _integer_path_params()
    for (path, method), op in sorted(OPERATIONS.items()):
        params = [path_param(p, INTEGER if p in integers.get(path, ()) else None)
                  for p in re.findall(r"{([a-z_]+)}", path)]
        entry = dict(op)
        if params:
            entry["parameters"] = params + op.get("parameters", [])
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "枫桥 Fengqiao API", "version": __version__,
                 "description": "所有错误均为 {\"errors\":[{\"pointer\",\"message\",\"code\"}]}"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Errors": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {"errors": {"type": "array", "items": {
                        "type": "object", "required": ["pointer", "message", "code"],
                        "properties": {"pointer": {"type": "string"}, "message": {"type": "string"},
                                       "code": {"type": "string"}}}}},
                },
                "CaseSummary": {"type": "object", "properties": {
                    k: {"type": t} for k, t in [
                        ("number", "string"), ("type", "string"), ("title", "string"),
                        ("state", "string"), ("org", "string"), ("assignee", ["string", "null"]),
                        ("form_key", ["string", "null"]), ("form_version", ["integer", "null"]),
                        ("deadline", ["string", "null"]), ("sla_status", "string"),
                        ("version", "integer")]}},
            },
        },
    }


def undocumented_routes() -> list[str]:
    """API rules (method + path) without an OpenAPI entry; the test keeps this empty."""
    missing = []
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = flask_to_openapi(rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method.lower()) not in OPERATIONS:
                missing.append(f"{method} {rule.rule}")
    return sorted(missing)


@api_bp.get("/openapi.json")
@public
def openapi_document():
    return spec()


document("/openapi.json", "get", "本 OpenAPI 文档", responses={200: "OpenAPI 3.1"}, secured=False)
