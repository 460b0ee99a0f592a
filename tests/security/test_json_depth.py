"""Deeply nested JSON: refused with 400 ``too_deep`` and a Chinese message in < 2 s on every
JSON write route (core, plugin APIs, ``/api/v1/auth/token``), before any parser or the input
guard recurses (~330 levels used to overflow the guard, ~1,000 the parser: a 500).

The routes are enumerated from ``app.url_map`` of an app with every installed plugin.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from werkzeug.routing import MapAdapter

from fengqiao.input_guard import MAX_JSON_DEPTH, json_depth, unstorable

DEPTHS = [MAX_JSON_DEPTH + 1, 330, 1000, 10_000]
SLOW = 2.0


def nested_arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _json_write_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        methods = rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        if rule.rule.startswith("/api/") and methods:
            yield rule, sorted(methods)[0]


def _url(rule, world) -> str:
    values = {}
    for name in sorted(rule.arguments - set(rule.defaults or {})):
        converter = rule._converters[name]
        kind = converter.__class__.__name__
        if kind == "IntegerConverter":
            values[name] = 1
        elif kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = {"number": world.case_a, "key": "livelihood-request"}.get(name, "x")
    adapter: MapAdapter = rule.map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=None)


@pytest.mark.parametrize("depth", DEPTHS)
def test_every_json_write_route_refuses_deep_nesting(world, depth):
    rules = list(_json_write_routes(world.app))
    endpoints = {r.endpoint for r, _ in rules}
    assert {"api.issue_api_token", "api.create_submission"} <= endpoints, sorted(endpoints)
    assert any(e.startswith("papi_") for e in endpoints)
    failures = []
    for rule, method in rules:
        url = _url(rule, world)
        for body in (nested_arrays(depth), nested_objects(depth)):
            for headers in ({}, world.api_headers("admin")):
                # CPU time of this process (the request runs in it): what the refusal cost, not how long
                # other test processes kept the CPU busy
                started = time.process_time()
                response = world.bare.open(url, method=method, data=body, content_type="application/json",
                                           headers=headers)
                took = time.process_time() - started
                problems = (response.get_json(silent=True) or {}).get("errors") or [{}]
                if response.status_code != 400 or problems[0].get("code") != "too_deep" or took > SLOW:
                    failures.append(f"{method} {url} depth {depth} {body[:2]}: {response.status_code} "
                                    f"{problems[0].get('code')} in {took:.2f}s")
    assert not failures, "\n".join(failures[:40])


def test_the_answer_is_chinese_and_names_the_limit(world):
    response = world.bare.post("/api/v1/auth/token", data=nested_arrays(5000), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["errors"] == [
        {"pointer": "", "code": "too_deep", "message": f"提交的数据嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）"}]


def test_nesting_up_to_the_limit_and_brackets_inside_strings_pass(world):
    """The limit counts only real nesting: 64 levels are fine, and text full of brackets is text."""
    ok = world.bare.post("/api/v1/auth/token", json={"username": "[{" * 5000 + '\\"', "password": "x"})
    assert ok.status_code in (401, 422) and "too_deep" not in ok.get_data(as_text=True), ok.get_data(as_text=True)
    at_limit = world.bare.post("/api/v1/auth/token", data='{"username":' + nested_arrays(MAX_JSON_DEPTH - 1) + "}",
                               content_type="application/json")
    assert at_limit.status_code in (401, 422), at_limit.get_data(as_text=True)


def test_deep_json_in_a_html_form_post_with_a_json_type_is_a_chinese_page(world):
    response = world.clients["admin"].post("/admin/forms/preview", data=nested_arrays(5000), content_type="application/json")
    assert response.status_code == 400
    assert "嵌套层数过多" in response.get_data(as_text=True)


def test_deep_json_in_a_cursor_is_a_4xx(world):
    cursor = base64.urlsafe_b64encode(nested_arrays(10_000).encode()).decode().rstrip("=")
    response = world.bare.get(f"/api/v1/cases?cursor={cursor}", headers=world.api_headers("admin"))
    assert response.status_code == 422, response.get_data(as_text=True)


def test_large_shallow_bodies_are_scanned_quickly():
    body = ("[" + ",".join(['{"k": [1, "[[[{{{"]}'] * 60_000) + "]").encode()  # ~1.3 MB
    started = time.process_time()
    assert json_depth(body) == 3
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize(("text", "depth"), [
    ("", 0), ("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('"[[[["', 0), ('["\\"[[["]', 1),
    ('["\\\\", [[]]]', 3), ('"unterminated [[[[', 0), ("[[[", 3),
])
def test_json_depth_counts_outside_strings(text, depth):
    assert json_depth(text.encode()) == depth
    assert json_depth(text.encode("utf-16")) == depth  # the encodings the JSON parser detects


def test_the_guard_walks_deep_values_without_recursion():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert unstorable(deep) is False
    assert unstorable({"a": [deep, {"b": "x\x00"}]}) is True


def test_deep_json_in_a_form_definition_is_a_problem_not_a_crash():
    from fengqiao.forms.definition import parse_definition_text

    value, problem = parse_definition_text(json.dumps({"key": "x"})[:-1] + ', "schema": ' + nested_arrays(5000) + "}",
                                           "upload")
    assert value is None and "嵌套" in problem.message
