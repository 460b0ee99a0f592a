"""The 类别 filter (issue 20): a case's category is the first category field in its data
(cases/categories.py); the queue, the API list, the export, the metrics and the 台账 filter by
it within the caller's scope, and an unknown value is a 422 in Chinese."""

from __future__ import annotations

import html
import io

import openpyxl
import pytest

from fengqiao.testing.plugin import submit_form

REQUEST = {"summary": "楼道灯坏了", "content": "3 幢 2 单元楼道灯不亮", "caller_name": "王芳",
           "caller_mobile": "13800138000"}


@pytest.fixture
def filed(client, demo):
    """Two 求助 and one 投诉 for 揽月社区, one 求助 for 石溪村, one 网格事件."""
    numbers = {
        "help1": submit_form(client, "livelihood-request", {**REQUEST, "request_type": "help"},
                             org="339901001001")["case_number"],
        "help2": submit_form(client, "livelihood-request", {**REQUEST, "request_type": "help"},
                             org="339901001001")["case_number"],
        "complaint": submit_form(client, "livelihood-request", {**REQUEST, "request_type": "complaint"},
                                 org="339901001001")["case_number"],
        "shixi_help": submit_form(client, "livelihood-request", {**REQUEST, "request_type": "help"},
                                  org="339901100201")["case_number"],
    }
    return numbers


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["number"] for item in response.get_json()["items"]}


def test_api_list_filters_by_category_within_scope(client, bearer, filed):
    shenli = bearer("shenli")  # 揽月社区
    helped = _numbers(client.get("/api/v1/cases?type=livelihood_request&category=help", headers=shenli))
    assert helped == {filed["help1"], filed["help2"]}  # not 石溪村's 求助: scope kept
    assert _numbers(client.get("/api/v1/cases?category=complaint", headers=shenli)) == {filed["complaint"]}
    everyone = _numbers(client.get("/api/v1/cases?category=help", headers=bearer("ducha")))
    assert {filed["help1"], filed["help2"], filed["shixi_help"]} <= everyone
    assert filed["complaint"] not in everyone


@pytest.mark.parametrize("query, words", [
    ("category=nonsense", "未知的类别：nonsense（可选："),
    ("type=livelihood_request&category=市容环境", "类别「市容环境」不属于所选事项类型（可选：咨询、求助"),
    ("type=grid_incident&category=help", "不属于所选事项类型"),
])
def test_bad_category_is_422_in_chinese(client, bearer, demo, query, words):
    response = client.get(f"/api/v1/cases?{query}", headers=bearer("shenli"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert words in body and "/category" in body


def test_queue_page_offers_and_applies_the_category(client, login_as, filed):
    login_as("shenli")
    page = client.get("/queues?type=livelihood_request&category=help")
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert filed["help1"] in text and filed["help2"] in text and filed["complaint"] not in text
    assert 'data-category-for="f-type"' in text and 'data-type="livelihood_request"' in text
    assert '<option value="help" selected>求助</option>' in text
    assert "category-filter.js" in text
    bad = client.get("/queues?category=nonsense")
    assert bad.status_code == 422 and "未知的类别：nonsense" in html.unescape(bad.get_data(as_text=True))


def test_export_filters_by_category(client, bearer, filed):
    response = client.get("/api/v1/cases/export.xlsx?type=livelihood_request&category=help",
                          headers=bearer("shenli"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    numbers = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert numbers == {filed["help1"], filed["help2"]}
    assert client.get("/api/v1/cases/export.xlsx?category=x", headers=bearer("shenli")).status_code == 422


def test_metrics_filter_by_category(client, bearer, filed, login_as):
    ducha = bearer("ducha")  # the whole county
    body = client.get("/api/v1/metrics?type=livelihood_request&category=help", headers=ducha).get_json()
    assert body["received"] == 3 and body["category"] == "help"
    assert client.get("/api/v1/metrics?category=complaint", headers=ducha).get_json()["received"] == 1
    community = client.get("/api/v1/metrics?category=help", headers=bearer("shenli")).get_json()
    assert community["received"] == 2  # 石溪村's 求助 is outside 揽月社区
    bad = client.get("/api/v1/metrics?category=nonsense", headers=ducha)
    assert bad.status_code == 422 and "未知的类别" in bad.get_data(as_text=True)
    login_as("ducha")
    page = html.unescape(client.get("/metrics?type=livelihood_request&category=help").get_data(as_text=True))
    assert 'id="f-category"' in page and '<option value="help" selected>求助</option>' in page
    refused = client.get("/metrics?category=nonsense")
    assert refused.status_code == 422 and "未知的类别" in html.unescape(refused.get_data(as_text=True))


def test_ledger_filters_by_category(client, bearer, filed):
    ducha = bearer("ducha")
    response = client.post("/api/v1/metrics/ledgers", headers=ducha,
                           json={"kind": "cases", "type": "livelihood_request", "category": "complaint"})
    assert response.status_code == 202, response.get_data(as_text=True)
    job = response.get_json()["job"]
    assert client.get(f"/api/v1/jobs/{job}", headers=ducha).get_json()["status"] == "done"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/jobs/{job}/download", headers=ducha).data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "类别：投诉" in rows[1][0]
    assert [r[0] for r in rows[3:]] == [filed["complaint"]]
    bad = client.post("/api/v1/metrics/ledgers", headers=ducha, json={"kind": "cases", "category": "nope"})
    assert bad.status_code == 422
