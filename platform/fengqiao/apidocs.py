"""The OpenAPI operations that API routes declare next to their code (core and plugins).

A registry apart from ``fengqiao.api``: declaring an operation must not import every API
route (plugins declare theirs through ``fengqiao.sdk.web``). ``fengqiao.api.openapi`` serves
what is registered here as ``GET /api/v1/openapi.json``.
"""

from __future__ import annotations

import re
from typing import Any

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {}
"""``(path, method)`` → the OpenAPI operation object, ``path`` relative to ``/api/v1``."""

ERROR = {"$ref": "#/components/schemas/Errors"}


def document(path: str, method: str, summary: str, *, responses: dict[int, str],
             body: dict | None = None, params: list[dict] | None = None,
             tag: str = "core", secured: bool = True) -> None:
    """Describe one operation: ``path`` in OpenAPI form relative to ``/api/v1`` (``/forms/{key}``),
    ``responses`` status → description (4xx/5xx get the error shape), ``body`` the JSON Schema
    of the request body, ``params`` extra parameters built with :func:`query`; path parameters
    are added from the route itself (``<int:id>`` as an integer)."""
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
    OPERATIONS[(path, method.lower())] = op


def query(name: str, description: str, schema: dict | None = None) -> dict:
    """An optional query parameter for ``document(params=[…])`` (a string unless ``schema``)."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def path_param(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)
