"""Reveal: one field in full, with a reason, only with ``cases.reveal`` for the case's unit;
every reveal and every refused attempt lands in the audit log (README.md, "Security and
personal data")."""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.testing.plugin import csrf_token, login, submit_form

ID, MOBILE = "339901195203140111", "13800138000"
REQUEST = {"request_type": "help",  # 求助: 投诉/举报 hide the caller from the community
           "summary": "烧烤店油烟扰民", "content": "每晚十点后油烟很大。",
           "caller_name": "陈德福", "caller_mobile": MOBILE, "id_card": ID}


def _case(client, org: str = "339901001001001") -> str:
    """A case of 揽月社区's grid A (its grid worker zhangmin sees it)."""
    return submit_form(client, "livelihood-request", REQUEST, org=org)["case_number"]


def _audit(app, **where):
    from fengqiao.db import db
    from fengqiao.models import AuditEntry

    with app.app_context():
        stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return [(e.actor_name, e.action, e.outcome, e.case_number, e.field, e.reason, e.client_addr)
                for e in db.scalars(stmt)]


def _reveal(client, number, headers, **body):
    return client.post(f"/api/v1/cases/{number}/reveal", json=body, headers=headers)


def test_reveal_with_reason_and_permission_returns_the_value_and_is_audited(app, client, bearer):
    number = _case(client)
    response = _reveal(client, number, bearer("shenli"), field="/caller_mobile", reason="电话回访反映人")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"field": "/caller_mobile", "value": MOBILE}
    assert "no-store" in response.headers["Cache-Control"]
    assert _audit(app, action="case.reveal") == [
        ("shenli", "case.reveal", "ok", number, "/caller_mobile", "电话回访反映人", "127.0.0.1")]
    supervisor = _reveal(client, number, bearer("ducha"), field="/id_card", reason="督办核实身份")
    assert supervisor.status_code == 200 and supervisor.get_json()["value"] == ID


def test_reveal_without_a_reason_is_422_in_chinese(app, client, bearer):
    number = _case(client)
    for body in ({"field": "/caller_mobile"}, {"field": "/caller_mobile", "reason": "   "}):
        response = _reveal(client, number, bearer("shenli"), **body)
        assert response.status_code == 422
        error = response.get_json()["errors"][0]
        assert error["pointer"] == "/reason" and "理由" in error["message"]
    assert _audit(app, action="case.reveal", outcome="ok") == []


def test_reveal_of_a_missing_or_unmasked_field_is_422(client, bearer):
    number = _case(client)
    headers = bearer("shenli")
    missing = _reveal(client, number, headers, field="/nothing_here", reason="核实")
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["pointer"] == "/field"
    plain = _reveal(client, number, headers, field="/request_type", reason="核实")
    assert plain.status_code == 422 and "未脱敏" in plain.get_json()["errors"][0]["message"]
    bad = _reveal(client, number, headers, field="caller_mobile", reason="核实")
    assert bad.status_code == 422
    wrong_type = _reveal(client, number, headers, field=["/caller_mobile"], reason="核实")
    assert wrong_type.status_code == 422


def test_reveal_without_permission_is_403_and_the_attempt_is_audited(app, client, bearer):
    number = _case(client)
    for username in ("lingdao", "zhangmin", "admin"):  # viewer, grid worker of grid A, system admin
        response = _reveal(client, number, bearer(username), field="/id_card", reason="想看看")
        assert response.status_code == 403, username
        assert "无权" in response.get_json()["errors"][0]["message"]
        assert ID not in response.get_data(as_text=True)
    denied = _audit(app, outcome="denied")
    assert [(d[0], d[1], d[3], d[4], d[5]) for d in denied] == [
        (u, "case.reveal", number, "/id_card", "想看看") for u in ("lingdao", "zhangmin", "admin")]


def test_reveal_on_a_case_of_another_community_is_404(app, client, bearer):
    number = _case(client)  # 揽月社区
    response = _reveal(client, number, bearer("hanzhiming"), field="/id_card", reason="核实")  # 桥东社区
    assert response.status_code == 404
    assert _reveal(client, "GD00000000-9999", bearer("shenli"), field="/id_card", reason="x").status_code == 404
    assert _audit(app, action="case.reveal") == []
    assert client.post(f"/api/v1/cases/{number}/reveal", json={"field": "/id_card", "reason": "x"}).status_code == 401


def test_the_case_page_reveals_one_field_once_with_a_reason(app, client, demo):
    number = _case(client)
    login(client, "shenli")
    token = csrf_token(client, f"/cases/{number}")
    empty = client.post(f"/cases/{number}/reveal", data={"csrf_token": token, "field": "/id_card", "reason": ""})
    assert empty.status_code == 422 and "请填写查看完整个人信息的理由" in empty.get_data(as_text=True)
    shown = client.post(f"/cases/{number}/reveal",
                        data={"csrf_token": token, "field": "/id_card", "reason": "办理低保核实身份"})
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert ID in page and "已记入审计日志" in page and MOBILE not in page  # only the one field
    assert "no-store" in shown.headers["Cache-Control"]
    again = client.get(f"/cases/{number}").get_data(as_text=True)
    assert ID not in again and "339901********0111" in again  # shown once, masked afterwards
    no_token = client.post(f"/cases/{number}/reveal", data={"field": "/id_card", "reason": "x"})
    assert no_token.status_code == 400
    assert _audit(app, action="case.reveal", outcome="ok")[0][4:6] == ("/id_card", "办理低保核实身份")


def test_the_case_page_refuses_reveal_without_permission(app, client, demo):
    number = _case(client)
    login(client, "lingdao")
    token = csrf_token(client, f"/cases/{number}")
    refused = client.post(f"/cases/{number}/reveal", data={"csrf_token": token, "field": "/id_card", "reason": "x"})
    assert refused.status_code == 403 and ID not in refused.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "hanzhiming")
    token = csrf_token(client, "/")
    hidden = client.post(f"/cases/{number}/reveal", data={"csrf_token": token, "field": "/id_card", "reason": "x"})
    assert hidden.status_code == 404
    assert [e[0] for e in _audit(app, outcome="denied")] == ["lingdao"]


def test_sdk_may_reveal_follows_the_subtree(app, demo):
    from fengqiao.db import db
    from fengqiao.models import User
    from fengqiao.sdk import may_reveal

    with app.app_context():
        shenli = db.scalar(sa.select(User).where(User.username == "shenli"))
        lingdao = db.scalar(sa.select(User).where(User.username == "lingdao"))
        assert may_reveal(shenli, "339901001001001") and may_reveal(shenli, "339901001001")
        assert not may_reveal(shenli, "339901001002") and not may_reveal(shenli, "no-such-unit")
        assert not may_reveal(lingdao, "339901001001")


def test_a_field_inside_a_repeatable_group_is_revealed_by_its_pointer(app, client, bearer):
    dispute = {"dispute_type": "邻里纠纷", "summary": "楼上漏水", "facts": "楼上卫生间漏水。", "risk_level": "low",
               "parties": [{"name": "钱芳", "role": "申请人"}, {"name": "欧阳娜娜", "role": "被申请人",
                                                              "address": "桥东新村3幢2单元601室"}]}
    headers = bearer("hanzhiming")
    number = submit_form(client, "dispute-registration", dispute, headers=headers, org="339901001002")["case_number"]
    detail = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()
    assert detail["data"]["parties"][1]["name"] == "欧阳**"
    shown = _reveal(client, number, headers, field="/parties/1/name", reason="调解通知当事人")
    assert shown.status_code == 200 and shown.get_json()["value"] == "欧阳娜娜"
    address = _reveal(client, number, headers, field="/parties/1/address", reason="上门调解")
    assert address.get_json()["value"] == "桥东新村3幢2单元601室"
    assert _reveal(client, number, headers, field="/parties/5/name", reason="x").status_code == 422
    assert _reveal(client, number, headers, field="/parties/1/role", reason="x").status_code == 422  # not masked
    assert [e[4] for e in _audit(app, action="case.reveal")] == ["/parties/1/name", "/parties/1/address"]
