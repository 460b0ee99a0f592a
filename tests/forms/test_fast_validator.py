"""The fast validator (jsonschema-rs) never accepts what the reference (jsonschema) rejects.

Submissions and import rows that jsonschema-rs finds valid skip the reference validator, so
the two must agree on "valid": checked here on every bundled form schema (core and plugins)
with instances Hypothesis draws from the schema's own fields (``_drawn``: the keywords our
forms use; hypothesis-jsonschema no longer runs on current Hypothesis) and then spoils one
field at a time with awkward values (a trailing newline, full-width and Arabic-Indic digits,
1 vs true vs 1.0, huge numbers, near-miss ID card numbers and mobiles …).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengqiao.forms.formats import FORMAT_CHECKER, id_card_check_char
from fengqiao.validation import problems, validator_for

ROOT = Path(__file__).resolve().parents[2]
FORM_FILES = sorted(p for p in [*ROOT.glob("form_definitions/*.json"), *ROOT.glob("plugins/*/*/form_definitions/*.json")]
                    if not p.name.endswith(".casetype.json"))


def _id_card(body: str) -> str:
    return body + id_card_check_char(body)


ID_CARDS = [_id_card("33990119520314011"), _id_card("11010519491231002"), "33990119520314011X",
            _id_card("33990119520314011").lower(), _id_card("33990119520314011") + "\n", "３３９９０１１９５２０３１４０１１１"]
MOBILES = ["13800138000", "12800138000", "1380013800", "13800138000\n", "１３８００１３８０００", "+8613800138000"]
ATTACHMENTS = ["att_" + "a" * 16, "att_" + "b" * 15, "att_" + "c" * 16 + "\n", "att_../../etc/passwd"]
CUSTOM_FORMATS = {
    "cn-id-card": st.sampled_from(ID_CARDS),
    "cn-mobile": st.one_of(st.sampled_from(MOBILES), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)),
    "cn-uscc": st.sampled_from(["91330100MA27XL0Q2F", "91330100MA27XL0Q2G", "123"]),
    "cn-postcode": st.sampled_from(["310000", "31000", "310000\n", "٣١٠٠٠٠"]),
    "attachment": st.sampled_from(ATTACHMENTS),
}
AWKWARD = st.one_of(
    st.sampled_from(["", " ", "a\n", "1\n", "٣", "１", "𠀀", "\u200b", "2026-02-30", "2026-01-31\n", "x" * 3001,
                     *ID_CARDS, *MOBILES, *ATTACHMENTS]),
    st.sampled_from([0, 1, -1, 1.0, 1.5, True, False, None, 10**20, 1e308, -0.0]),
    st.lists(st.sampled_from([1, True, 1.0, "1", None]), max_size=4),
    st.dictionaries(st.sampled_from(["name", "address", "x"]), st.sampled_from(["", "a", 1]), max_size=2),
    st.text(max_size=12),
)


SYNTHETIC = {  # portable constructs the bundled forms do not use (yet)
    "synthetic-patterns": {"type": "object", "properties": {
        "code": {"type": "string", "pattern": "^[0-9A-Z]{2,4}-\\d+$"}, "line": {"type": "string", "pattern": "^.+$"},
        "han": {"type": "string", "pattern": "^[\\u4e00-\\u9fa5]{2,4}(?:路|街)?$"}}},
    "synthetic-numbers": {"type": "object", "properties": {
        "n": {"type": "integer", "minimum": 0, "maximum": 100, "multipleOf": 5}, "x": {"type": "number", "maximum": 10}}},
    "synthetic-lists": {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"enum": [1, "1", True, 1.5]}, "uniqueItems": True}}},
}


def _schemas() -> list[tuple[str, dict]]:
    bundled = [(p.stem, json.loads(p.read_text(encoding="utf-8"))["schema"]) for p in FORM_FILES]
    return bundled + list(SYNTHETIC.items())


def _drawn(schema: dict) -> st.SearchStrategy:
    """Values shaped by ``schema``: mostly valid, though conditions (if/then) are not honoured."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    choices = schema.get("oneOf") or schema.get("anyOf")
    if choices and all("const" in c for c in choices):
        return st.sampled_from([c["const"] for c in choices])
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") in CUSTOM_FORMATS:
            return CUSTOM_FORMATS[schema["format"]]
        if schema.get("format") == "date":
            return st.dates().map(lambda d: d.isoformat())
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        low = schema.get("minLength", 0)
        return st.text(min_size=low, max_size=max(low, min(schema.get("maxLength", 20), 20)))
    if kind == "integer":
        return st.integers(schema.get("minimum", -1000), schema.get("maximum", 1000))
    if kind == "number":
        return st.floats(schema.get("minimum", -1000), schema.get("maximum", 1000), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        low = schema.get("minItems", 0)
        unique = schema.get("uniqueItems", False)
        return st.lists(_drawn(schema.get("items", {})), min_size=low, max_size=max(low, min(schema.get("maxItems", 3), 3)),
                        unique_by=(lambda v: json.dumps(v, sort_keys=True)) if unique else None)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: _drawn(v) for k, v in properties.items() if k in required},
                                     optional={k: _drawn(v) for k, v in properties.items() if k not in required})
    return AWKWARD


@st.composite
def _instances(draw, schema: dict):
    """An instance drawn from ``schema``, or one with one field (maybe nested) spoiled."""
    value = draw(_drawn(schema))
    if isinstance(value, dict) and draw(st.booleans()):
        target = value
        keys = sorted(schema.get("properties", {}))
        key = draw(st.sampled_from(keys)) if keys else "extra"
        if isinstance(target.get(key), dict) and draw(st.booleans()):
            inner = sorted(target[key]) or ["extra"]
            target = target[key]
            key = draw(st.sampled_from(inner))
        target[key] = draw(AWKWARD)
    return value


def test_every_bundled_form_is_found():
    names = {p.stem for p in FORM_FILES}
    assert {"livelihood-request", "grid-incident", "points-claim", "certificate-request"} <= names


@pytest.mark.parametrize(("name", "schema"), _schemas(), ids=[s[0] for s in _schemas()])
def test_fast_validator_accepts_nothing_the_reference_rejects(name, schema):
    validator = validator_for(schema)
    assert validator.fast is not None, f"{name}: jsonschema-rs could not compile the schema"
    agreed_valid = 0

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(_instances(schema))
    def check(instance):
        nonlocal agreed_valid
        reference = validator.reference.is_valid(instance)
        if validator.fast.is_valid(instance):
            assert reference, f"{name}: fast accepted what the reference rejects: {instance!r}"
            agreed_valid += 1
        # problems() takes the fast path, and still explains whatever the reference rejects
        assert (problems(validator, instance) == []) == reference

    check()
    assert agreed_valid > 0, f"{name}: the fast path never accepted an instance (it would only slow things down)"


def test_formats_mean_the_same_in_both():
    """Every format the reference checks is answered by the same Python checker in the fast one."""
    for fmt, samples in {"cn-id-card": ID_CARDS, "cn-mobile": MOBILES, "attachment": ATTACHMENTS,
                         "email": ["a@b.cn", "a@", "张三@例子.中国"], "date": ["2026-02-28", "2026-02-30", "2026-1-1"]}.items():
        validator = validator_for({"type": "string", "format": fmt})
        for sample in samples:
            assert validator.fast.is_valid(sample) == FORMAT_CHECKER.conforms(sample, fmt), (fmt, sample)


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[0-9]+\\Z"}}},  # Python-only anchor
    {"type": "object", "properties": {"code": {"type": "string", "pattern": "^\\s*[0-9]+$"}}},  # whitespace classes differ
    {"type": "object", "properties": {"amount": {"type": "number", "multipleOf": 0.01}}},
])
def test_schemas_outside_the_shared_dialect_are_left_to_the_reference(schema):
    validator = validator_for(schema)
    assert validator.fast is None
    assert problems(validator, {"code": "12", "amount": 2}) == []
    assert [p[0] for p in problems(validator, {"code": "1a", "amount": 19.999})] == [
        p for p in ("/amount", "/code") if p[1:] in schema["properties"]]


@pytest.mark.parametrize(("schema", "instance"), [
    ({"type": "number", "multipleOf": 0.01}, 19.99),  # exact decimal there, binary floating point here
    ({"type": "string", "pattern": "^\\s$"}, "\ufeff"),  # a BOM is whitespace only to jsonschema-rs
])
def test_why_the_guard_exists(schema, instance):
    """Left alone, jsonschema-rs would accept these while the reference rejects them."""
    import jsonschema_rs

    assert jsonschema_rs.Draft202012Validator(schema).is_valid(instance)
    assert not validator_for(schema).reference.is_valid(instance)
    assert validator_for(schema).fast is None and problems(validator_for(schema), instance)


def test_the_shared_dialect_covers_the_bundled_patterns():
    """Every pattern in the bundled forms takes the fast path (else it silently slows)."""
    for name, schema in _schemas():
        assert validator_for(schema).fast is not None, name
