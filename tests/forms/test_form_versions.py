"""Versions are immutable; submissions keep the version they were validated against."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import openpyxl
import pytest

from fengqiao import signals
from fengqiao.db import db
from fengqiao.forms import store
from fengqiao.testing.cli import run_cli

CORE = Path(__file__).resolve().parents[2] / "form_definitions"

SIMPLE = {
    "key": "dog-registration",
    "title": "犬只登记",
    "access": "public",
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "owner": {"type": "string", "title": "犬主姓名", "minLength": 1, "maxLength": 50},
            "breed": {"type": "string", "title": "犬种", "maxLength": 50},
            "mobile": {"type": "string", "title": "联系电话", "format": "cn-mobile"},
        },
        "required": ["owner"],
        "additionalProperties": False,
    },
    "ui": {"order": ["owner", "breed", "mobile"]},
}


def _breaking_v2() -> dict:
    v2 = copy.deepcopy(SIMPLE)
    del v2["schema"]["properties"]["breed"]  # removed: breaking
    v2["schema"]["properties"]["owner"]["title"] = "养犬人姓名"  # relabelled: compatible
    v2["ui"]["order"] = ["owner", "mobile"]
    return v2


def run(args, env):
    return run_cli(args, env)


@pytest.fixture
def cli_env(database_url, tmp_path):
    return {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_INSTANCE_PATH": str(tmp_path / "i"),
            "FENGQIAO_MODE": "testing"}


def test_forms_check_cli(tmp_path):
    assert run(["forms", "check", str(CORE)], {}).returncode == 0
    broken = tmp_path / "broken.json"
    bad = copy.deepcopy(SIMPLE)
    bad["ui"]["order"].append("ghost")
    bad["schema"]["properties"]["breed"]["type"] = "text"
    broken.write_text(json.dumps(bad, ensure_ascii=False))
    result = run(["forms", "check", str(broken)], {})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert any("broken.json" in line and "/ui/order/3" in line and "ghost" in line for line in lines)
    assert any("/schema/properties/breed/type" in line for line in lines)
    assert run(["forms", "check"], {}).returncode == 2


def test_import_publish_refuses_breaking_change(cli_env, tmp_path):
    path = tmp_path / "dog.json"
    path.write_text(json.dumps(SIMPLE, ensure_ascii=False))
    first = run(["forms", "import", str(path), "--publish"], cli_env)
    assert first.returncode == 0 and "已发布第 1 版" in first.stdout, first.stderr
    again = run(["forms", "import", str(path), "--publish"], cli_env)
    assert again.returncode == 0 and "未改动" in again.stdout
    path.write_text(json.dumps(_breaking_v2(), ensure_ascii=False))
    refused = run(["forms", "import", str(path), "--publish"], cli_env)
    assert refused.returncode == 1 and "breed" in refused.stderr
    allowed = run(["forms", "import", str(path), "--publish", "--allow-breaking"], cli_env)
    assert allowed.returncode == 0 and "已发布第 2 版" in allowed.stdout


def test_old_submissions_keep_their_version_and_labels(client, demo, login_as):
    received = []

    def on_published(sender, **kwargs):
        received.append(kwargs)

    signals.form_published.connect(on_published)
    with demo.app_context():
        form = store.save_draft(SIMPLE)
        version = store.publish(form)
        db.commit()
        store.announce_published(version)
    url = "/api/v1/forms/dog-registration/submissions?org=339901001001"  # no accepting unit: name one
    old = client.post(url, json={"owner": "林秀英", "breed": "中华田园犬", "mobile": "13900139000"})
    assert old.status_code == 201
    with demo.app_context():
        form = store.save_draft(_breaking_v2())
        with pytest.raises(store.BreakingChange) as err:
            store.publish(form)
        assert [c.path for c in err.value.diff.changes if c.breaking] == ["breed"]
        v2 = store.publish(form, allow_breaking=True)
        db.commit()
        store.announce_published(v2)
        v1 = store.get_version("dog-registration", 1)
        assert "breed" in v1.definition["schema"]["properties"]  # v1 untouched
        assert v2.breaking and v2.number == 2
    signals.form_published.disconnect(on_published)
    assert [(r["form_key"], r["version"], r["breaking"]) for r in received] == [
        ("dog-registration", 1, False), ("dog-registration", 2, True)]

    assert client.post(url, json={"owner": "王建军", "breed": "柯基"}).status_code == 422  # v2 rules
    new = client.post(url, json={"owner": "王建军"})
    assert new.status_code == 201
    assert client.get("/api/v1/forms/dog-registration?version=1").get_json()["schema"]["properties"]["breed"]

    login_as("ducha")
    export = client.get("/forms/dog-registration/submissions.xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    header = [c.value for c in sheet[2]]
    assert header[:3] == ["事项编号", "表单版本", "提交时间"]
    assert "犬种" in header and "养犬人姓名" in header  # removed field keeps its original label
    rows = {r[1]: dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["第1版"]["犬种"] == "中华田园犬"
    assert rows["第1版"]["联系电话"] == "139****9000"  # masked in exports
    assert rows["第2版"]["养犬人姓名"] == "王建军"


def test_failing_receiver_neither_breaks_nor_loses_the_submission(client, demo):
    seen = []

    def broken(sender, **kwargs):
        raise RuntimeError("plugin bug")

    def recorder(sender, **kwargs):
        seen.append(kwargs["case_number"])

    signals.submission_received.connect(broken)
    signals.case_created.connect(recorder)
    try:
        response = client.post("/api/v1/forms/livelihood-request/submissions", json={
            "request_type": "consult", "summary": "医保咨询", "content": "灵活就业如何参保",
            "caller_name": "吴昊", "caller_mobile": "13700137000"})
    finally:
        signals.submission_received.disconnect(broken)
        signals.case_created.disconnect(recorder)
    assert response.status_code == 201
    assert seen == [response.get_json()["case_number"]]
