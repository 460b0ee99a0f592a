"""The official JSON-Schema-Test-Suite (draft 2020-12, required + optional/format) through
Fengqiao's own checks and validation path (vendored in tests/data/json-schema-test-suite).

For every case, the schema is checked as a form definition would check it
(:func:`fengqiao.forms.definition.schema_problems`, without the top-level "an object with
fields" rule, which almost no suite schema follows). A schema refused there never reaches a
submission, so it is only recorded. Every other schema must then:

- validate each instance without an exception (``problems``, ``normalise``, ``build_specs``);
- reject each instance the suite marks invalid when the reference rejects it too — the
  reference being jsonschema's ``Draft202012Validator`` with jsonschema's own 2020-12 format
  checkers for the formats Fengqiao checks (so a product checker weaker than the draft's,
  like the draft-3 ``time`` it once used, fails here);
- never let the fast validator (jsonschema-rs) accept what the reference rejects.

One test per suite file keeps this to about a second; a failure names file, case and test.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry

from fengqiao.forms.definition import schema_problems
from fengqiao.forms.formats import FORMAT_CHECKER
from fengqiao.forms.normalise import normalise
from fengqiao.forms.schema_tools import build_specs
from fengqiao.validation import problems, validator_for

SUITE = Path(__file__).resolve().parents[1] / "data" / "json-schema-test-suite" / "draft2020-12"
FILES = sorted(SUITE.glob("*.json")) + sorted(SUITE.glob("optional/format/*.json"))


def _reference_formats() -> FormatChecker:
    """The draft's own checkers, for exactly the formats the product checks."""
    checker = FormatChecker(())
    draft = Draft202012Validator.FORMAT_CHECKER.checkers
    checker.checkers = {name: draft.get(name, FORMAT_CHECKER.checkers[name]) for name in FORMAT_CHECKER.checkers}
    return checker


REFERENCE_FORMATS = _reference_formats()
RESULTS: dict[str, tuple[int, int]] = {}  # file → (cases refused, cases run)


def _run_file(path: Path) -> tuple[list[str], int, int]:
    failures: list[str] = []
    refused = run = 0
    for case in json.loads(path.read_text(encoding="utf-8")):
        schema, where = case["schema"], f"{path.relative_to(SUITE)} :: {case['description']}"
        if not isinstance(schema, dict) or schema_problems(schema, form=False):
            refused += 1  # a definition's schema must be an object; the rest fails forms check
            continue
        run += 1
        try:
            validator = validator_for(schema)
            build_specs(schema, {})
        except Exception as exc:  # noqa: BLE001 - any exception is the finding
            failures.append(f"{where}: compiling raised {exc!r}")
            continue
        reference = Draft202012Validator(schema, format_checker=REFERENCE_FORMATS, registry=Registry())
        for test in case["tests"]:
            data, label = test["data"], f"{where} :: {test['description']}"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    accepted = problems(validator, data) == []
                    normalise(data, schema, set())
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{label}: raised {exc!r}")
                continue
            rejected_by_reference = not reference.is_valid(data)
            if accepted and not test["valid"] and rejected_by_reference:
                failures.append(f"{label}: accepted {data!r}, the suite and the reference reject it")
            if validator.fast is not None and validator.fast.is_valid(data) and not validator.reference.is_valid(data):
                failures.append(f"{label}: the fast path accepted {data!r}, the reference rejects it")
    return failures, refused, run


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SUITE)) for p in FILES])
def test_suite_file(path):
    failures, refused, run = _run_file(path)
    RESULTS[str(path.relative_to(SUITE))] = (refused, run)
    assert not failures, "\n".join(failures)


def test_the_suite_is_there_and_mostly_runs():
    """Refusing everything would pass the per-file tests: most cases must really run."""
    assert len(FILES) >= 60, "tests/data/json-schema-test-suite is incomplete"
    totals = [_run_file(p)[1:] for p in FILES] if len(RESULTS) < len(FILES) else list(RESULTS.values())
    refused, run = sum(t[0] for t in totals), sum(t[1] for t in totals)
    # 390 cases: about 140 are refused (remote or $id-relative $ref, boolean subschemas,
    # formats the server does not check, field-name rules); the rest must run.
    assert run > refused and run > 200, (refused, run)
    for name in ("pattern.json", "optional/format/time.json", "optional/format/date.json", "properties.json"):
        refused_run = RESULTS[name] if name in RESULTS else _run_file(SUITE / name)[1:]
        assert refused_run[1] > 0, f"{name}: every case refused"
