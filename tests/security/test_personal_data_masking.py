"""Personal data is masked for every role in details, lists and exports (README.md,
"Security and personal data").

The acceptance of issue 11: an export by a role without the reveal permission holds no full
ID or phone number (the workbook's cells are read and searched).
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from fengqiao.testing.plugin import csrf_token, login, submit_form

ID, MOBILE, OTHER_MOBILE = "339901195203140111", "13800138000", "13912345678"
REQUEST = {"request_type": "help",  # 求助: 投诉/举报 hide the caller from the community
           "summary": f"烧烤店油烟扰民，回电 {OTHER_MOBILE}",
           "content": f"每晚十点后油烟很大，可拨打 {OTHER_MOBILE} 联系我。", "caller_name": "陈德福",
           "caller_mobile": MOBILE, "id_card": ID}
DISPUTE = {"dispute_type": "邻里纠纷", "summary": "楼上漏水", "facts": "楼上卫生间漏水到楼下。", "source": "当事人申请",
           "risk_level": "low", "parties": [
               {"name": "钱芳", "role": "申请人", "id_card": "339901198807301047", "mobile": "13700137000",
                "address": "桥东新村3幢2单元501室"},
               {"name": "欧阳娜娜", "role": "被申请人", "id_card": "339901198004151137", "mobile": "13600136000",
                "address": "桥东新村3幢2单元601室"}]}
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _cells(data: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]


def _no_full_numbers(texts: list[str]) -> None:
    joined = "\n".join(texts)
    assert not FULL_ID.search(joined), FULL_ID.search(joined)
    assert not FULL_MOBILE.search(joined), FULL_MOBILE.search(joined)


def _dispute(client, demo) -> str:
    from fengqiao.forms import store

    with demo.app_context():
        assert store.published("dispute-registration") is not None
    return submit_form(client, "dispute-registration", DISPUTE, headers=_staff(client, "hanzhiming"),
                       org="339901001002")["case_number"]


def _staff(client, username):
    from fengqiao.testing.plugin import api_token

    return {"Authorization": f"Bearer {api_token(client, username)}"}


@pytest.mark.parametrize("username", ["lingdao", "shenli", "ducha"])
def test_exports_hold_no_full_id_or_phone_for_any_role(client, demo, username):
    """Without the reveal permission (lingdao) and with it (shenli, ducha): exports are masked."""
    submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    login(client, username)
    ledger = client.get("/api/v1/cases/export.xlsx")
    assert ledger.status_code == 200
    cells = _cells(ledger.data)
    assert any("138" in c or "139****5678" in c for c in cells)  # the title was exported, masked
    _no_full_numbers(cells)
    submissions = client.get("/forms/livelihood-request/submissions.xlsx")
    assert submissions.status_code == 200
    cells = _cells(submissions.data)
    _no_full_numbers(cells)
    assert "339901********0111" in cells and "138****8000" in cells and "陈**" in cells
    assert "陈德福" not in "".join(cells)
    assert any("139****5678" in c for c in cells)  # numbers inside free text too


def test_nested_party_fields_are_masked_in_details_and_exports(client, demo):
    number = _dispute(client, demo)
    detail = client.get(f"/api/v1/cases/{number}", headers=_staff(client, "hanzhiming")).get_json()
    first, second = detail["data"]["parties"]
    assert (first["name"], first["id_card"], first["mobile"]) == ("钱*", "339901********1047", "137****7000")
    assert second["name"] == "欧阳**" and first["address"] == "桥东新村3幢****"
    login(client, "hanzhiming")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "钱*" in page and "欧阳**" in page and "桥东新村3幢****" in page
    assert "钱芳" not in page and "501室" not in page and "13700137000" not in page
    cells = _cells(client.get("/forms/dispute-registration/submissions.xlsx").data)
    _no_full_numbers(cells)
    assert "钱芳" not in "".join(cells) and "欧阳**" in cells


def test_api_detail_list_and_history_are_masked_for_every_role(client, demo, bearer):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    shenli = bearer("shenli")
    version = client.get(f"/api/v1/cases/{number}", headers=shenli).get_json()["version"]
    acted = client.post(f"/api/v1/cases/{number}/actions/comment",
                        json={"version": version, "comment": f"已致电 {MOBILE}，身份证 {ID} 核实"}, headers=shenli)
    assert acted.status_code == 200, acted.get_data(as_text=True)
    for username in ("shenli", "ducha", "lingdao", "admin"):
        headers = bearer(username)
        body = client.get(f"/api/v1/cases/{number}", headers=headers)
        assert body.status_code == 200
        text = body.get_data(as_text=True)
        assert ID not in text and MOBILE not in text and OTHER_MOBILE not in text and "陈德福" not in text
        data = body.get_json()["data"]
        assert (data["caller_mobile"], data["id_card"], data["caller_name"]) == ("138****8000", "339901********0111", "陈**")
        listed = client.get("/api/v1/cases", headers=headers).get_data(as_text=True)
        assert OTHER_MOBILE not in listed and "139****5678" in listed


def test_the_case_page_masks_title_and_history_and_offers_reveal_only_with_permission(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "shenli")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert OTHER_MOBILE not in page and "139****5678" in page
    assert page.count('class="reveal-form"') >= 3  # name, mobile, ID (and the free text)
    assert 'name="field" value="/caller_mobile"' in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "lingdao")  # viewer: sees the case, may not reveal
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "138****8000" in page and "reveal-form" not in page


def test_unmarked_fields_of_old_versions_take_the_latest_marks():
    """A mark added in a later version masks data submitted under the earlier one."""
    from fengqiao.forms.display import display_sections
    from fengqiao.masking import marked_schema, mask_data

    old = {"schema": {"type": "object", "properties": {"who": {"type": "string", "title": "姓名"}}}}
    new = {**old, "ui": {"personal": {"who": "name"}}}
    assert mask_data(marked_schema(old), {"who": "王建军"}) == {"who": "王建军"}
    assert mask_data(marked_schema(old, new), {"who": "王建军"}) == {"who": "王**"}
    rows = display_sections(old, {"who": "王建军"}, latest=new)[0][1]
    assert (rows[0].value, rows[0].pointer, rows[0].masked) == ("王**", "/who", True)


def test_masking_rules():
    from fengqiao.masking import mask_address, mask_as, mask_name

    assert mask_name("张敏") == "张*" and mask_name("欧阳修") == "欧阳*" and mask_name("欧阳") == "欧*"
    assert mask_address("揽月花园3幢2单元501室") == "揽月花园3幢****"
    assert mask_address("湖滨路88号") == "湖滨路****" and mask_address("桥东新村") == "桥东新村"
    assert mask_as("secret", "低保户") == "******" and mask_as(None, f"tel {MOBILE}") == "tel 138****8000"


def test_a_definition_with_an_unknown_personal_kind_is_rejected():
    from fengqiao.forms.definition import check_definition

    definition = {"key": "x-form", "title": "x", "access": "staff",
                  "schema": {"type": "object", "properties": {"who": {"type": "string"}}},
                  "ui": {"personal": {"who": "nickname", "ghost": "name"}}}
    problems = {p.pointer: p.message for p in check_definition(definition)}
    assert "/ui/personal/who" in problems
    definition["ui"]["personal"] = {"who": "name", "ghost": "name"}
    problems = {p.pointer: p.message for p in check_definition(definition)}
    assert "不存在的字段 ghost" in problems["/ui/personal/ghost"]
