"""Form schemas that once got past ``forms check`` and broke every submission (issue 17, 15).

- a ``$ref`` leaving the document was fetched on every validation (server-side request
  forgery) and answered 500 when the address did not answer;
- a boolean subschema (``"properties": {"c": true}``) made every submission a 500;
- ``format: time`` was checked the draft-3 way (no offset accepted, ``Z`` refused);
- the fast validator (jsonschema-rs, ASCII ``\\d``) accepted Arabic-Indic and full-width
  digits where the reference (Python, Unicode ``\\d``) rejects them.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fengqiao.errors import ValidationFailed, http_status
from fengqiao.forms.definition import check_definition
from fengqiao.validation import problems, validate, validator_for

BASE = {
    "key": "ref-check",
    "title": "引用检查",
    "access": "public",
    "schema": {
        "type": "object",
        "properties": {"name": {"type": "string"}},
    },
}


def _definition(**properties) -> dict:
    data = copy.deepcopy(BASE)
    data["schema"]["properties"].update(properties)
    return data


def _pointers(data: dict) -> dict[str, str]:
    return {p.pointer: p.message for p in check_definition(data)}


@pytest.fixture
def schema_server():
    """A schema server on 127.0.0.1 that counts the requests it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            body = json.dumps({"type": "integer"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


# --- $ref -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", [
    "http://127.0.0.1:9/integer.json",
    "https://example.org/schema.json#/$defs/a",
    "file:///etc/passwd",
    "integer.json",
    "//evil.example/x.json",
    "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed",
])
def test_check_refuses_a_ref_that_leaves_the_document(ref):
    found = _pointers(_definition(age={"$ref": ref}))
    assert "/schema/properties/age/$ref" in found, found
    assert "外部" in found["/schema/properties/age/$ref"]


def test_check_refuses_remote_refs_everywhere_a_schema_can_hide_one():
    data = _definition(age={"allOf": [{"$ref": "http://127.0.0.1:9/a.json"}]},
                       tags={"type": "array", "items": {"$dynamicRef": "http://127.0.0.1:9/b.json#x"}})
    data["schema"]["$defs"] = {"d": {"$ref": "http://127.0.0.1:9/c.json"}}
    found = _pointers(data)
    assert {"/schema/properties/age/allOf/0/$ref", "/schema/properties/tags/items/$dynamicRef",
            "/schema/$defs/d/$ref"} <= set(found), found


def test_check_accepts_refs_inside_the_document_and_refuses_dangling_ones():
    data = _definition(age={"$ref": "#/$defs/age"}, other={"$ref": "#/$defs/missing"})
    data["schema"]["$defs"] = {"age": {"type": "integer", "minimum": 0}}
    found = _pointers(data)
    assert "/schema/properties/age/$ref" not in found
    assert "/schema/properties/other/$ref" in found, found
    # a "$ref" key inside data (const, enum, default) is no reference at all
    assert _pointers(_definition(x={"const": {"$ref": "http://127.0.0.1:9/x"}})) == {}


def test_validation_never_fetches_a_ref(schema_server):
    """A definition stored before the check existed: no request leaves, and the submitter
    gets a 4xx problem instead of a 500."""
    url, hits = schema_server
    schema = {"type": "object", "properties": {"age": {"$ref": f"{url}/integer.json"}}}
    with pytest.raises(ValidationFailed) as caught:
        validate(schema, {"age": "not a number"})
    assert hits == []
    assert http_status(caught.value) == 422
    assert [code for _, _, code in caught.value.problems] == ["$ref"]
    assert "表单定义" in caught.value.problems[0][1]


def test_validation_of_an_unreachable_ref_is_no_500():
    schema = {"type": "object", "properties": {"age": {"$ref": "http://127.0.0.1:9/integer.json"}}}
    found = problems(validator_for(schema), {"age": 3})
    assert [code for _, _, code in found] == ["$ref"]


def test_local_refs_still_validate():
    schema = {"type": "object", "$defs": {"age": {"type": "integer", "minimum": 0}},
              "properties": {"age": {"$ref": "#/$defs/age"}}}
    assert problems(validator_for(schema), {"age": 3}) == []
    assert [p[0] for p in problems(validator_for(schema), {"age": -1})] == ["/age"]


# --- boolean subschemas -----------------------------------------------------------------------


@pytest.mark.parametrize(("where", "schema"), [
    ("/schema/properties/c", {"c": True}),
    ("/schema/properties/c", {"c": False}),
    ("/schema/properties/c/items", {"c": {"type": "array", "items": True}}),
    ("/schema/properties/c/oneOf/0", {"c": {"oneOf": [True, {"const": 1}]}}),
    ("/schema/properties/c/properties/d", {"c": {"type": "object", "properties": {"d": True}}}),
])
def test_check_refuses_boolean_subschemas_where_a_field_is_described(where, schema):
    found = _pointers(_definition(**schema))
    assert where in found, found
    assert "布尔" in found[where]


def test_check_accepts_false_for_additional_and_unevaluated_properties():
    data = _definition()
    data["schema"]["additionalProperties"] = False
    data["schema"]["unevaluatedProperties"] = False
    assert _pointers(data) == {}


# --- format: time -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "valid"), [
    ("08:30:06Z", True),
    ("08:30:06+08:00", True),
    ("08:30:06.283185z", True),
    ("12:00:00", False),  # RFC 3339 wants an offset
    ("8:30:06Z", False),
    ("24:00:00Z", False),
])
def test_time_is_the_2020_12_format(value, valid):
    validator = validator_for({"type": "string", "format": "time"})
    assert (problems(validator, value) == []) is valid
    if validator.fast is not None:
        assert validator.fast.is_valid(value) is valid


# --- the fast path and Unicode regular-expression classes --------------------------------------

UNICODE_EDGES = ["٣", "１２３", "3", "a", "é", "甲", "_", " ", "\u00a0", "\u3000", "\ufeff", "\u2028", "ǅ", "a٣", "٣a"]
PATTERNS = [r"^\D+$", r"^[^\d]+$", r"^\d+$", r"^\w+$", r"^\W+$", r"^[^\w]+$", r"\b", r"\B", r"^\s$", r"^\S+$",
            r"^[^\s]+$", r"^a\b", r"^[\d\w]+$", r"^[^\D]+$"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_fast_path_accepts_nothing_the_reference_rejects_around_unicode_classes(pattern):
    validator = validator_for({"type": "string", "pattern": pattern})
    for value in UNICODE_EDGES:
        reference = validator.reference.is_valid(value)
        if validator.fast is not None and validator.fast.is_valid(value):
            assert reference, f"{pattern!r}: fast accepted {value!r}, the reference rejects it"
        assert (problems(validator, value) == []) is reference


def test_non_digit_pattern_rejects_unicode_digits():
    validator = validator_for({"type": "string", "pattern": r"^\D+$"})
    assert problems(validator, "٣") and problems(validator, "１２３")
    assert problems(validator, "abc") == []


# --- a definition stored before the check: the API answers 422, fetches nothing ------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_submission_to_a_stored_remote_ref_is_422_and_fetches_nothing(client, demo, schema_server):
    from fengqiao.db import db
    from fengqiao.forms import store

    url, hits = schema_server
    definition = {"key": "legacy-ref", "title": "旧表单", "access": "public",
                  "schema": {"type": "object", "properties": {"age": {"type": "integer"}}}}
    with demo.app_context():
        form = store.save_draft(definition)
        draft = copy.deepcopy(form.draft)  # as a row written before forms check refused it
        draft["schema"]["properties"]["age"] = {"$ref": f"{url}/integer.json"}
        form.draft = draft
        version = store.publish(form)
        db.commit()
        store.announce_published(version)
    response = client.post("/api/v1/forms/legacy-ref/submissions", json={"age": 3})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert [e["code"] for e in response.get_json()["errors"]] == ["$ref"]
    assert hits == []
