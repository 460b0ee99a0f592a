"""The queue's Excel export: same scope and filters as the list, no formulas, no personal data."""

from __future__ import annotations

import io

import openpyxl

from fengqiao.testing.plugin import login, submit_form

REQUEST = {"request_type": "complaint", "summary": "=HYPERLINK(\"http://example.invalid\",\"点我\")",
           "content": "夜间噪音", "caller_name": "陈德福", "caller_mobile": "13800138000",
           "id_card": "339901195203140111"}


def _rows(response):
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [c.value for c in sheet[2]], list(sheet.iter_rows(min_row=3, values_only=True))


def test_export_is_scoped_filtered_and_safe(client, bearer):
    mine = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    other = submit_form(client, "livelihood-request", {**REQUEST, "summary": "桥东噪音"},
                        org="339901001002")["case_number"]
    response = client.get("/api/v1/cases/export.xlsx", headers=bearer("shenli"))
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    headers, rows = _rows(response)
    assert headers[:4] == ["事项编号", "标题", "类型", "状态"]
    assert [r[0] for r in rows] == [mine]  # 桥东社区's case is not exported to 揽月社区
    assert rows[0][1].startswith("'=")  # formula neutralised
    flat = " ".join(str(v) for r in rows for v in r)
    assert "13800138000" not in flat and "339901195203140111" not in flat
    county = {r[0] for r in _rows(client.get("/api/v1/cases/export.xlsx", headers=bearer("ducha")))[1]}
    assert county == {mine, other}
    filtered = _rows(client.get("/api/v1/cases/export.xlsx?state=closed", headers=bearer("ducha")))[1]
    assert filtered == []
    assert client.get("/api/v1/cases/export.xlsx").status_code == 401


def test_queue_page_links_the_export(client, demo):
    login(client, "shenli")
    page = client.get("/queues?view=mine").get_data(as_text=True)
    assert "/api/v1/cases/export.xlsx?assignee=me" in page
    assert client.get("/api/v1/cases/export.xlsx?assignee=me").status_code == 200  # session works too
