"""``GET /api/v1/openapi.json``: OpenAPI 3.1 for every API route.

Each route documents itself next to its code with :func:`document`; routes that plugins
add do the same. A test fails when an API route has no entry here.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from fengqiao import __version__
from fengqiao.access import public
from fengqiao.api import api_bp

_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {}

ERROR = {"$ref": "#/components/schemas/Errors"}


def document(path: str, method: str, summary: str, *, responses: dict[int, str],
             body: dict | None = None, params: list[dict] | None = None,
             tag: str = "core", secured: bool = True) -> None:
    """Describe one operation (``path`` in OpenAPI form, e.g. ``/forms/{key}``)."""
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {
            str(code): {"description": text, **({"content": {"application/json": {"schema": ERROR}}}
                                                if code >= 400 else {})}
            for code, text in responses.items()
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    if not secured:
        op["security"] = []
    _OPERATIONS[(path, method.lower())] = op


def query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def spec() -> dict:
    paths: dict[str, dict] = {}
    for (path, method), op in sorted(_OPERATIONS.items()):
        params = [path_param(p) for p in re.findall(r"{([a-z_]+)}", path)]
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
            if (path, method.lower()) not in _OPERATIONS:
                missing.append(f"{method} {rule.rule}")
    return sorted(missing)


@api_bp.get("/openapi.json")
@public
def openapi_document():
    return spec()


document("/openapi.json", "get", "本 OpenAPI 文档", responses={200: "OpenAPI 3.1"}, secured=False)
