"""The browser's form checks (static/form-rules.js) agree with the server's (normalise, then
fengqiao.validation.problems) on every core and plugin form: the same accept/reject, the same
field pointers and the same Chinese messages, over a generated set of valid and invalid
instances. Runs the script once in Node for all instances (skipped without Node)."""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from fengqiao.forms.normalise import normalise
from fengqiao.validation import problems, validator_for

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "platform" / "fengqiao" / "static" / "form-rules.js"
DEFINITIONS = sorted(p for p in [*ROOT.glob("form_definitions/*.json"), *ROOT.glob("plugins/*/*/form_definitions/*.json")]
                     if not p.name.endswith(".casetype.json"))
ID_CARD = "11010519491231002X"
RUNNER = """
const rules = require(process.argv[1]);
let input = "";
process.stdin.setEncoding("utf8");  // whole characters, however the chunks split the bytes
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const out = cases.map((c) => rules.check(c.definition, c.instance).map((p) => [p.pointer, p.message, p.code]));
  process.stdout.write(JSON.stringify(out));
});
"""


def _valid(schema: dict, rng: random.Random):
    """A value the schema accepts (the shortest and first choices, with some variety)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "oneOf" in schema and all("const" in o for o in schema["oneOf"]):
        return rng.choice(schema["oneOf"])["const"]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    fmt = schema.get("format")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {name: _valid(sub, rng) for name, sub in props.items() if name in required or rng.random() < 0.7}
    if kind == "array":
        items = schema.get("items", {})
        count = max(schema.get("minItems", 0), 1 if rng.random() < 0.6 else 0)
        count = min(count, schema.get("maxItems", count))
        if "enum" in items:
            return list(items["enum"][:count])
        return [_valid(items, rng) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", 0)) + rng.randint(0, 3)
    if kind == "number":
        return schema.get("minimum", 0) + 0.5
    if kind == "boolean":
        return False  # ``true`` may switch on conditional requirements: a mutation does that
    if fmt == "cn-mobile":
        return "13800138000"
    if fmt == "cn-id-card":
        return ID_CARD.lower() if rng.random() < 0.3 else ID_CARD  # normalised to upper case
    if fmt == "date-time":
        return "2026-12-01T08:30:00+08:00"
    if fmt == "date":
        return "2026-12-01"
    if fmt == "attachment":
        return "att_" + "a1B2c3D4e5F6g7H8i9"
    if "pattern" in schema:
        return {"^[0-9]{8}$": "12345678"}.get(schema["pattern"], "ABCD-1234")
    length = max(schema.get("minLength", 1), 2)
    return ("网格" * length)[:min(length, schema.get("maxLength", length))]


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _paths(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _paths(sub, (*path, i))


def _schema_at(schema: dict, path) -> dict:
    for token in path:
        schema = schema.get("items", {}) if isinstance(token, int) else schema.get("properties", {}).get(token, {})
    return schema


def _set(instance, path, value):
    node = instance
    for token in path[:-1]:
        node = node[token]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value


_DELETE = object()


def _bad_values(schema: dict) -> list:
    """Values each likely to break one rule of ``schema``."""
    out = [_DELETE, None, 12345, "", "不存在的选项", True]
    if "maxLength" in schema:
        out.append("长" * (schema["maxLength"] + 1))
    if "minLength" in schema:
        out.append(" ")
    if schema.get("format") == "cn-id-card":
        out += ["110105194912310021", "11010519491331002X", "1101051949"]
    if schema.get("format") == "cn-mobile":
        out += ["1380013800", "23800138000", "１３８００１３８０００"]
    if schema.get("format") == "date-time":
        out += ["2026-02-30T08:30:00+08:00", "2026-12-01 08:30", "2026-12-01T08:30:00"]
    if schema.get("format") == "attachment":
        out.append("att_short")
    if "minimum" in schema:
        out += [schema["minimum"] - 1, 1.5]
    if "maximum" in schema:
        out.append(schema["maximum"] + 1)
    if "maxItems" in schema:
        out.append(["x"] * (schema["maxItems"] + 1))
    if schema.get("type") == "array":
        out += [[], ["不存在的选项"], "一段文字"]
    if schema.get("type") == "object":
        out += [{}, {"unknown_field": "x"}, []]
    if schema.get("type") == "boolean":
        out += ["true", 1]
    return out


def _instances(definition: dict, seed: int) -> list:
    rng = random.Random(seed)
    schema = definition["schema"]
    found = []
    for _ in range(4):
        base = _valid(schema, rng)
        found.append(base)
        for path in list(_paths(base))[1:]:
            for bad in _bad_values(_schema_at(schema, path)):
                broken = copy.deepcopy(base)
                _set(broken, path, bad)
                found.append(broken)
        for name, sub in schema.get("properties", {}).items():  # switch conditions on
            if sub.get("type") == "boolean":
                switched = copy.deepcopy(base)
                switched[name] = True
                found.append(switched)
        extra = copy.deepcopy(base)
        extra["not_in_the_form"] = "x"
        found.append(extra)
    for _ in range(30):  # several faults at once
        broken = copy.deepcopy(found[0])
        for _ in range(3):
            paths = list(_paths(broken))[1:]
            if not paths:
                break
            path = rng.choice(paths)
            _set(broken, path, rng.choice(_bad_values(_schema_at(schema, path))))
        found.append(broken)
    return found


def _server(definition: dict, instance) -> list:
    trim = set(definition.get("ui", {}).get("trim", []))
    cleaned = normalise(instance, definition["schema"], trim) if isinstance(instance, dict) else instance
    return [list(p) for p in problems(validator_for(definition["schema"]), cleaned)]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the browser's script")
def test_browser_checks_agree_with_the_server_on_every_form():
    assert len(DEFINITIONS) >= 10, DEFINITIONS  # the core's forms and the plugins'
    cases, expected, names = [], [], []
    for n, path in enumerate(DEFINITIONS):
        definition = json.loads(path.read_text(encoding="utf-8"))
        for instance in _instances(definition, n):
            cases.append({"definition": definition, "instance": instance})
            expected.append(_server(definition, instance))
            names.append(definition["key"])
    run = subprocess.run(["node", "-e", RUNNER, str(RULES)], input=json.dumps(cases, ensure_ascii=False),
                         capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(run.stdout)
    assert len(got) == len(expected)
    rejected = sum(1 for e in expected if e)
    assert rejected > len(expected) / 2 and len(expected) - rejected >= 4 * len(DEFINITIONS)  # both kinds
    codes = {p[2] for e in expected for p in e}
    assert {"required", "type", "maxLength", "minLength", "format", "enum", "pattern", "additionalProperties",
            "minimum", "maxItems"} <= codes, codes  # the generated faults reach every rule the forms use
    differences = [(names[i], cases[i]["instance"], expected[i], got[i])
                   for i in range(len(expected)) if expected[i] != got[i]]
    assert not differences, f"{len(differences)} of {len(expected)} differ; first: {differences[:3]}"
