"""The browser evaluates ``ui.relevant`` (``FqRules.relevant`` in static/form-rules.js) as the
server's twin does (``fengqiao.forms.relevance.holds``), and the browser's checks agree with the
server's on forms designed in Excel (``selected()`` on a multiple choice is ``contains``).
Runs the script once in Node for all cases (skipped without Node)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest
import test_offline_rules as offline
from relevance_book import relevance_workbook
from test_relevance import cases
from xlsform_book import household_workbook

from fengqiao.forms import relevance
from fengqiao.forms.xlsform import import_workbook

RUNNER = """
const rules = require(process.argv[1]);
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const job = JSON.parse(input);
  const held = job.relevant.map((c) => rules.relevant(c.tree, c.scope));
  const refs = job.relevant.map((c) => rules.references(c.tree));
  const checked = job.check.map((c) => rules.check(c.definition, c.instance).map((p) => [p.pointer, p.message, p.code]));
  process.stdout.write(JSON.stringify({ held: held, refs: refs, checked: checked }));
});
"""

# Values of every JSON type, odd ones included: the two evaluators must agree on anything.
ODD_VALUES = [None, "", "a", "yes", "王小明", "𠮷x", "60", 0, 1, 59.5, 60, 120, True, False, [], ["job"],
              ["medical", "care"], [1, 2], {}, {"a": 1}]
FIELDS = ["a", "b", "c"]


def _random_tree(rng: random.Random, depth: int = 0) -> dict:
    roll = rng.random()
    if depth < 3 and roll < 0.3:
        key = rng.choice(["and", "or"])
        return {key: [_random_tree(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    if depth < 3 and roll < 0.4:
        return {"not": _random_tree(rng, depth + 1)}
    field = rng.choice(FIELDS)
    op = rng.choice(relevance.OPS)
    if op in ("filled", "empty"):
        return {"field": field, "op": op}
    if op == "regex":
        return {"field": field, "op": op, "value": rng.choice(["^王", "a", "[0-9]", "^.{2}$"])}
    tree = {"field": field, "op": op, "value": rng.choice([v for v in ODD_VALUES if not isinstance(v, list | dict)
                                                           and v is not None])}
    if op in relevance.COMPARISONS and op != "!=" and rng.random() < 0.25:
        tree.update(of=rng.choice(relevance.MEASURES), value=rng.randint(0, 3))
    return tree


def _relevant_cases() -> list[dict]:
    rng = random.Random(24)
    found = [{"tree": tree, "scope": scope}
             for book in (relevance_workbook, household_workbook)
             for _path, tree, _holder, scope in cases(import_workbook(book()))]
    for _ in range(1500):
        scope = {name: rng.choice(ODD_VALUES) for name in FIELDS if rng.random() < 0.8}
        found.append({"tree": _random_tree(rng), "scope": scope})
    return found


def _check_cases() -> tuple[list[dict], list]:
    jobs, expected = [], []
    for n, book in enumerate((relevance_workbook, household_workbook)):
        definition = import_workbook(book())
        for instance in offline._instances(definition, 100 + n):
            jobs.append({"definition": definition, "instance": instance})
            expected.append(offline._server(definition, instance))
    return jobs, expected


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the browser's script")
def test_the_browser_evaluates_conditions_and_checks_like_the_server():
    relevant = _relevant_cases()
    checks, expected = _check_cases()
    run = subprocess.run(["node", "-e", RUNNER, str(offline.RULES)],
                         input=json.dumps({"relevant": relevant, "check": checks}, ensure_ascii=False),
                         capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(run.stdout)

    held = [relevance.holds(c["tree"], c["scope"]) for c in relevant]
    assert 0.2 < sum(held) / len(held) < 0.8  # both outcomes, often
    differ = [(c, h) for c, h, js in zip(relevant, held, got["held"], strict=True) if h is not js]
    assert not differ, f"{len(differ)} of {len(relevant)} differ; first: {differ[:3]}"
    assert got["refs"] == [relevance.references(c["tree"]) for c in relevant]

    assert sum(1 for e in expected if e) > len(expected) / 2
    differences = [(checks[i]["definition"]["key"], checks[i]["instance"], expected[i], got["checked"][i])
                   for i in range(len(expected)) if expected[i] != got["checked"][i]]
    assert not differences, f"{len(differences)} of {len(expected)} differ; first: {differences[:3]}"
