"""Fixtures of the grid plugin's tests (the app, demo and clients come from ``fengqiao.testing``)."""

from __future__ import annotations

import pytest
from grid_helpers import GRID_A1, id_card


@pytest.fixture
def bearer(client, demo):
    """``fengqiao.testing``'s ``bearer`` with one token per account and test (the token route is
    rate-limited, and asking once is faster)."""
    from fengqiao.sdk.testing import api_token

    tokens: dict[str, dict[str, str]] = {}

    def _headers(username: str) -> dict[str, str]:
        if username not in tokens:
            tokens[username] = {"Authorization": f"Bearer {api_token(client, username)}"}
        return tokens[username]

    return _headers


@pytest.fixture
def estate(client, bearer):
    """幸福小区 in 张敏's grid (揽月社区 grid 1): building 3, units 1–2, floors 1–6, 2 rooms a
    floor; returns ``{room label: id}`` of its 24 rooms."""
    made = client.post("/api/v1/p/grid/addresses/bulk", headers=bearer("zhangmin"), json={
        "grid": GRID_A1, "estate": "幸福小区", "buildings": [3], "units": 2, "floors": 6, "per_floor": 2})
    assert made.status_code == 201, made.get_json()
    rooms = client.get("/api/v1/p/grid/addresses?q=幸福小区&kind=room", headers=bearer("zhangmin")).get_json()["items"]
    return {r["label"]: r["id"] for r in rooms}


@pytest.fixture
def add_person(client, bearer):
    counter = {"n": 0}

    def _add(room: int, who: str = "zhangmin", **extra) -> int:
        counter["n"] += 1
        body = {"address": room, "name": "王秀英", "id_card": id_card(counter["n"]), "relation": "head",
                "residence_type": "registered", **extra}
        response = client.post("/api/v1/p/grid/people", json=body, headers=bearer(who))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return _add
