"""Helpers shared by the volunteer plugin's tests (fixtures come from ``fengqiao.testing``)."""

from __future__ import annotations

import pytest
from volunteer_helpers import COMMUNITY, adult_id


@pytest.fixture
def staff(bearer):
    """API headers for 沈丽 (揽月社区 staff)."""
    return bearer("shenli")


@pytest.fixture
def make_volunteer(client, staff):
    counter = {"n": 0}

    def _make(**extra) -> int:
        counter["n"] += 1
        body = {"name": f"志愿者{counter['n']}", "id_card": adult_id(counter["n"]), "mobile": "13800000000",
                "org": COMMUNITY, **extra}
        response = client.post("/api/v1/p/volunteer/volunteers", json=body, headers=staff)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return _make


@pytest.fixture
def make_activity(client, staff):
    def _make(starts="2025-03-01T09:00", ends="2025-03-01T12:00", quota=10, **extra) -> int:
        body = {"title": "社区清洁", "org": COMMUNITY, "starts_at": starts, "ends_at": ends, "quota": quota, **extra}
        response = client.post("/api/v1/p/volunteer/activities", json=body, headers=staff)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return _make
