"""Fixtures of the webhook tests (the receiver lives in ``webhook_kit``)."""

from webhook_kit import receiver  # noqa: F401  (a fixture)
