"""Issue 18 §6, wording: no raw codes on staff pages (tiers, ratings, field keys in the
history), 已认领 after a claim, the state filter once per type, and the walkthrough's form
never offered to residents."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from fengqiao.labels import change_rows, code_label, field_title, tier_label
from fengqiao.testing.plugin import csrf_token, login, submit_form, walk_case

ROOT = Path(__file__).resolve().parents[1]
LANYUE = "339901001001"
REQUEST = {"request_type": "report", "summary": "湖滨路有人违法搭建", "content": "湖滨路 12 号院内违法搭建。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def _text(fragment: str) -> str:
    """The visible text of an HTML fragment (tags dropped, entities decoded)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _element(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found, pattern
    return _text(found.group(0))


def _history_row(page: str, action: str) -> str:
    return _element(page, rf'<li data-action="{action}">.*?</li>')


def _report(client, **extra) -> dict:
    return submit_form(client, "livelihood-request", {**REQUEST, **extra}, org=LANYUE)


# --- the helper itself (no app) ----------------------------------------------------------

def _definition(name: str) -> dict:
    return json.loads((ROOT / "form_definitions" / name).read_text(encoding="utf-8"))


def test_labels_come_from_the_form_then_the_known_tables():
    form = _definition("livelihood-request.json")
    assert code_label("report", "request_type", form) == "举报"
    assert code_label("complaint", "request_type") == "投诉"  # no form: the table of tiers
    assert code_label("satisfied", "rating") == "满意" and code_label("dissatisfied") == "不满意"
    assert code_label("湖滨路", "summary", form) == "湖滨路"  # free text stays as typed
    assert code_label(True) == "是"
    assert field_title("request_type", form) == "诉求类型" and field_title("no_such_key") is None
    incident = _definition("grid-incident.json")
    grid = type("CT", (), {"sla": {"field": "urgency"}})()
    assert tier_label(grid, "urgent", incident) == "紧急"
    assert tier_label(grid, "critical") == "特急"
    rows = change_rows({"request_type": {"from": "consult", "to": "complaint"}, "unit": "339901906",
                        "unit_name": "水务集团", "rating": "satisfied", "state_map": {"a": "b"}}, None, form)
    assert ("诉求类型", "咨询 → 投诉") in rows and ("单位", "水务集团") in rows and ("评价", "满意") in rows
    shown = " ".join(f"{t} {v}" for t, v in rows)
    for code in ("request_type", "consult", "complaint", "339901906", "satisfied", "state_map"):
        assert code not in shown
    assert change_rows({"amount": 3, "unit": "working_days", "approved": True}) == [
        ("延长", "3 个工作日"), ("审批结果", "同意")]
    photos = {"properties": {"after": {"type": "array", "title": "处置后照片", "items": {"format": "attachment"}}}}
    assert change_rows({"after": [31, 32]}, photos) == [("处置后照片", "2 个附件")]  # never the ids


def test_no_definition_or_template_cites_documents_outside_the_repository():
    """Documentation cited in definitions and UI text lives in docs/, never outside it."""
    files = [*ROOT.glob("form_definitions/*.json"), *ROOT.glob("plugins/*/*/form_definitions/*.json"),
             *ROOT.glob("platform/fengqiao/templates/**/*.html"), *ROOT.glob("plugins/*/*/templates/*.html")]
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        for cited in (*(f"{name}.md" for name in ("DOMAIN", "DESIGN")), "shared/"):  # the brief, outside the repo
            assert cited not in text, f"{path.relative_to(ROOT)} cites {cited}"


# --- pages ------------------------------------------------------------------------------

def test_case_page_shows_the_tier_and_form_by_their_names(client, demo):
    number = _report(client)["case_number"]
    login(client, "shenli")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    kind = _element(page, r'<dd class="case-type">.*?</dd>')
    assert kind == "民生诉求 · 举报" and "report" not in kind
    version = _element(page, r"<dt>表单版本</dt><dd>.*?</dd>")
    assert "民生诉求" in version and "livelihood-request" not in version


def test_history_shows_field_titles_labels_and_names_not_keys(client, bearer):
    number = _report(client)["case_number"]
    walk_case(client, number, [("claim", {}), ("dispatch", {"fields": {"unit": LANYUE}}), ("acknowledge", {}),
                               ("reply", {"comment": "已拆除", "fields": {"reply": "违法搭建已责令拆除"}})],
              bearer("shenli"))
    login(client, "shenli")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    claimed = _history_row(page, "claim")
    assert "办理人：沈丽" in claimed and "shenli" not in claimed
    dispatched = _history_row(page, "dispatch")
    assert "单位：揽月社区" in dispatched and LANYUE not in dispatched and "unit" not in dispatched
    replied = _history_row(page, "reply")
    assert "答复内容：违法搭建已责令拆除" in replied and "reply" not in replied


def test_a_rated_case_reads_satisfied_in_chinese(client, bearer):
    receipt = _report(client, request_type="consult")
    number, code = receipt["case_number"], receipt["tracking_code"]
    walk_case(client, number, [("answer", {"comment": "已电话答复"})], bearer("shenli"))
    rated = client.post(f"/api/v1/track/{number}/rating?code={code}", json={"rating": "satisfied"})
    assert rated.status_code == 200, rated.get_data(as_text=True)
    login(client, "shenli")
    row = _history_row(client.get(f"/cases/{number}").get_data(as_text=True), "rate")
    assert "评价：满意" in row and "satisfied" not in row


def test_after_a_claim_the_page_says_claimed(client, demo):
    number = _report(client)["case_number"]
    login(client, "shenli")
    done = client.post(f"/cases/{number}", data={"csrf_token": csrf_token(client, f"/cases/{number}"),
                                                 "action": "claim", "version": "1"}, follow_redirects=True)
    assert done.status_code == 200
    flash = _element(done.get_data(as_text=True), r'<div class="alert[^"]*"[^>]*>.*?</div>')
    assert flash.startswith("已认领") and "已办理" not in flash


def test_bulk_claim_says_claimed(client, demo):
    number = _report(client)["case_number"]
    login(client, "shenli")
    result = client.post("/queues/bulk", data={"csrf_token": csrf_token(client, "/queues"), "op": "claim",
                                               "cases": [f"{number}:1"], "next": "/queues"})
    row = _element(result.get_data(as_text=True), rf'<tr data-number="{number}".*?</tr>')
    assert "已认领" in row


def test_queue_state_filter_lists_each_state_once_per_type(client, demo):
    login(client, "shenli")
    page = client.get("/queues").get_data(as_text=True)
    select = re.search(r'<select id="f-state".*?</select>', page, re.S).group(0)
    values = re.findall(r'<option value="([^"]*)"', select)[1:]  # after 全部状态
    assert values and all(v.count(":") == 1 for v in values)
    assert [v for v, n in Counter(values).items() if n > 1] == []
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert len({title for title, _ in groups}) == len(groups)  # each type once
    for _title, options in groups:
        types = {v.split(":")[0] for v in re.findall(r'value="([^"]*)"', options)}
        assert len(types) == 1  # a group holds its own type's states only
    assert "grid_incident:closed" in values and "livelihood_request:closed" in values


def test_a_state_of_one_type_filters_that_type_only(client, bearer):
    number = _report(client, request_type="consult")["case_number"]
    walk_case(client, number, [("answer", {"comment": "已电话答复"})], bearer("shenli"))
    login(client, "shenli")
    mine = client.get("/queues?state=livelihood_request:closed")
    assert mine.status_code == 200 and number in mine.get_data(as_text=True)
    chosen = re.search(r'<option value="livelihood_request:closed" ([^>]*)>', mine.get_data(as_text=True))
    assert chosen and "selected" in chosen.group(1)
    other = client.get("/queues?state=grid_incident:closed").get_data(as_text=True)
    assert f'data-number="{number}"' not in other
    wrong = client.get("/queues?type=grid_incident&state=livelihood_request:closed")
    assert wrong.status_code == 422 and "所选状态不属于所选事项类型" in wrong.get_data(as_text=True)


def test_done_page_does_not_claim_acceptance(client, demo):
    receipt = _report(client)
    with client.session_transaction() as session:
        session["last_submission"] = {"number": receipt["case_number"], "code": receipt["tracking_code"],
                                      "title": "民生诉求"}
    page = client.get("/forms/livelihood-request/done").get_data(as_text=True)
    said = _element(page, r'<p class="outcome">.*?</p>')
    assert said.startswith("您的「民生诉求」已提交") and "当前状态" in said


@pytest.mark.plugins("hello")
def test_the_walkthrough_form_is_not_offered_to_residents(client, demo):
    listed = {f["key"] for f in client.get("/api/v1/forms").get_json()}
    assert "livelihood-request" in listed and "hello-greeting" not in listed
    public = client.get("/forms").get_data(as_text=True)
    assert "/forms/livelihood-request" in public and "hello-greeting" not in public and "问候" not in public
    login(client, "shenli")  # staff trying the platform still find it
    assert "hello-greeting" in client.get("/forms").get_data(as_text=True)
