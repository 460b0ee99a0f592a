"""Ledger reasons (free text typed by staff about residents) are masked on the statement page
and in the account API (issue 17, finding 8)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.plugins("points"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PHONE = "13912344321"


def test_ledger_reasons_are_masked_in_the_api_and_on_the_statement(client, bearer, staff, make_account, login_as):
    account = make_account()
    admin = bearer("admin")
    adjusted = client.post(f"/api/v1/p/points/accounts/{account['id']}/adjustments",
                           json={"points": 5, "reason": f"补录：{PHONE} 来电反映漏记"}, headers=admin)
    assert adjusted.status_code == 201
    body = client.get(f"/api/v1/p/points/accounts/{account['id']}", headers=staff).get_json()
    assert [e["reason"] for e in body["entries"]] == ["补录：139****4321 来电反映漏记"]
    login_as("shenli")
    page = client.get(f"/p/points/accounts/{account['id']}").get_data(as_text=True)
    assert "139****4321" in page and PHONE not in page


def test_ledger_reasons_are_masked_in_the_ledger_export(client, bearer, make_account, login_as):
    import io

    from openpyxl import load_workbook

    account = make_account()
    adjusted = client.post(f"/api/v1/p/points/accounts/{account['id']}/adjustments",
                           json={"points": 5, "reason": f"补录：{PHONE} 身份证110101199003074514"},
                           headers=bearer("admin"))
    assert adjusted.status_code == 201
    login_as("shenli")
    sheet = load_workbook(io.BytesIO(client.get("/p/points/export/ledger.xlsx").data)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert any("139****4321" in c for c in cells)
    assert not any(PHONE in c or "110101199003074514" in c for c in cells)
