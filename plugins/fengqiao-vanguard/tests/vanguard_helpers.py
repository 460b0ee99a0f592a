"""Shared helpers for the vanguard tests (a unique module name: plugin test folders share sys.path)."""

from __future__ import annotations

from fengqiao.sdk.workdays import today_local

LANYUE = "339901001001"  # 揽月社区: staff shenli, yuantao
QIAODONG = "339901001002"  # 桥东社区: staff hanzhiming
YEAR = today_local().year
PERIOD = f"{YEAR}-01"


def id_card(body17: str) -> str:
    """A valid 18-digit 身份证号 (GB 11643 check digit) for the 17 digits given."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11]
    return body17 + check


ID_CARD = id_card("33990119800101123")


def new_member(client, headers, **fields) -> int:
    body = {"name": "张建华", "org": LANYUE, "member_type": "employed", **fields}
    response = client.post("/api/v1/p/vanguard/members", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def propose(client, headers, member_id: int, indicator, points, period: str = PERIOD, reason: str = "按时参加") -> int:
    response = client.post(f"/api/v1/p/vanguard/members/{member_id}/events", headers=headers,
                           json={"indicator": indicator, "points": points, "reason": reason, "period": period})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["status"] == "pending"
    return response.get_json()["id"]


def approve(client, headers, event_id: int) -> None:
    response = client.post(f"/api/v1/p/vanguard/events/{event_id}/approve", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def score(client, headers, member_id: int, year: int = YEAR) -> dict:
    response = client.get(f"/api/v1/p/vanguard/members/{member_id}/score?year={year}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()
