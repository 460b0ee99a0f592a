"""Fixtures for the certificates plugin's tests (the rest come from fengqiao.testing)."""

from __future__ import annotations

import pytest


@pytest.fixture
def demo_lists(app, demo):
    """The demo county plus 揽月社区's published may-issue list."""
    from fengqiao.sdk.models import db

    from fengqiao_certificates.demo import seed_demo_lists

    with app.app_context():
        seed_demo_lists()
        db.commit()
    return app
