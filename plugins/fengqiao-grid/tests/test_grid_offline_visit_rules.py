"""The visit page's checks without a network agree with the server's: the core's
static/form-rules.js on ``VISIT_BODY`` plus the plugin's static/visit-rules.js, as the core's
static/offline-endpoint.js runs them, against ``POST /api/v1/p/grid/visits`` over valid and
invalid bodies: the same accept/reject, the same pointers and (among the server's) the same
messages. Runs both scripts once in Node (skipped without Node). Also: what the visit page
declares for those scripts, and 今天 marking the visit pages for the phone to keep."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from fengqiao.sdk.testing import login
from fengqiao.sdk.workdays import today_local
from test_grid_visits import ROOM, VISITS, png

from fengqiao_grid.visits import MAX_PHOTO, VISIT_BODY

pytestmark = [pytest.mark.plugins("grid"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
ROOT = Path(__file__).resolve().parents[3]
FORM_RULES = ROOT / "platform" / "fengqiao" / "static" / "form-rules.js"
VISIT_RULES = ROOT / "plugins" / "fengqiao-grid" / "fengqiao_grid" / "static" / "visit-rules.js"
RUNNER = """
const rules = require(process.argv[1]), visit = require(process.argv[2]);
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const { schema, cases } = JSON.parse(input);
  const out = cases.map(({ body, files }) => {  // as static/offline-endpoint.js: schema first, then the plugin's
    const found = rules.problems(schema, body).concat(visit(body, { photos: files }));
    const seen = {};
    return found.filter((p) => !seen[p.pointer] && (seen[p.pointer] = true)).map((p) => [p.pointer, p.message]);
  });
  process.stdout.write(JSON.stringify(out));
});
"""
PNG, TEXT, BIG = png(), b"not an image at all", b"\x89PNG" + b"0" * MAX_PHOTO


def _cases() -> list[tuple[dict, list[bytes]]]:
    today, tomorrow = today_local().isoformat(), (today_local() + timedelta(days=1)).isoformat()
    ok = {"purpose": "home_visit"}
    return [
        ({}, []), ({"purpose": ""}, []), ({"purpose": "bogus"}, []), (ok, []), ({"purpose": "other", "date": today}, []),
        ({**ok, "spawn_case": True}, []), ({**ok, "spawn_case": True, "findings": "   "}, []),
        ({**ok, "spawn_case": True, "findings": "楼道堆物"}, []), ({**ok, "spawn_case": False}, []),
        ({**ok, "findings": "情况" * 1001}, []), ({**ok, "findings": "情" * 2000}, []),
        ({**ok, "date": tomorrow}, []), ({**ok, "date": "2026-13-01"}, []), ({**ok, "date": "2026/01/01"}, []),
        ({**ok, "unit": "abc"}, []), ({**ok, "unit": 0}, []),
        (ok, [PNG]), (ok, [TEXT]), (ok, [BIG]), (ok, [PNG, PNG, PNG, PNG]), (ok, [PNG, TEXT]),
        ({"purpose": "safety_check", "spawn_case": True, "date": tomorrow}, [TEXT]),
    ]


def _mime(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "text/plain"


def test_the_visit_pages_offline_checks_agree_with_the_server(client, bearer, estate):
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node to run the browser's checks")
    cases = _cases()
    schema = {**VISIT_BODY, "properties": {k: v for k, v in VISIT_BODY["properties"].items() if k != "photos"}}
    payload = {"schema": schema, "cases": [{"body": {"address": estate[ROOM], **body},
                                            "files": [{"size": len(f), "type": _mime(f)} for f in files]}
                                           for body, files in cases]}
    out = subprocess.run([node, "-e", RUNNER, str(FORM_RULES), str(VISIT_RULES)], input=json.dumps(payload),
                         capture_output=True, text=True, check=True, timeout=60)
    browser = json.loads(out.stdout)
    for (body, files), found in zip(cases, browser, strict=True):
        sent = {"address": estate[ROOM], **body}
        if files:
            sent["photos"] = [base64.b64encode(f).decode() for f in files]
        answer = client.post(VISITS, headers=bearer("zhangmin"), json=sent)
        assert answer.status_code in (201, 422), (body, answer.status_code)
        server: dict[str, list[str]] = {}
        for e in (answer.get_json().get("errors") or []) if answer.status_code == 422 else []:
            server.setdefault(e["pointer"], []).append(e["message"])
        assert {p for p, _m in found} == set(server), (body, len(files), found, server)
        for pointer, message in found:
            assert message in server[pointer], (body, pointer, message, server[pointer])


def test_the_visit_page_declares_its_offline_endpoint_and_today_keeps_it(app, client, bearer, estate, add_person):
    """What the core's scripts read: the route, the body schema and the fixed address; 今天
    marks itself and each listed household's visit link for the phone to keep."""
    room = estate[ROOM]
    add_person(room, moved_in="2020-01-01")
    worker = app.test_client()
    login(worker, "zhangmin")
    today = worker.get("/p/grid/today").get_data(as_text=True)
    assert "data-offline-keep-page" in today
    assert re.search(rf'href="/p/grid/addresses/{room}/visit" data-visit="{room}" data-offline-keep', today)
    page = worker.get(f"/p/grid/addresses/{room}/visit").get_data(as_text=True)
    form = re.search(r"<form [^>]*data-form=\"visit\"[^>]*>", page).group(0)
    attrs = {k: html.unescape(v) for k, v in re.findall(r'\s(data-offline-[a-z-]+)="([^"]*)"', form)}
    assert attrs["data-offline-endpoint"] == VISITS
    assert json.loads(attrs["data-offline-schema"]) == VISIT_BODY
    assert json.loads(attrs["data-offline-body"]) == {"address": room}
    assert attrs["data-offline-rules"] == "grid-visit" and attrs["data-offline-title"] == f"登记走访：{ROOM}"
    assert "visit-rules.js" in page and "offline-endpoint.js" in page and "data-offline-base64" in page
