"""Notification channels (API 1.7): how a plugin delivers what the message centre holds to
e-mail, SMS, a group robot or anything else.

A plugin registers a ``Channel`` in ``setup`` with ``ctx.register_channel(channel)``. The
core decides who gets what (declared per transition and SLA event, switched per unit, chosen
per user), writes one delivery row per channel and target, and calls ``send`` from a job with
retries: return ``Delivered``, ``Failed`` (permanent: straight to the dead-letter list) or
``RetryAfter`` (transient: tried again later, then dead-lettered). An exception counts as a
transient failure. ``send`` must not touch the database; the message is masked already.

Call other servers with ``post_json`` (no redirects, a 5 s timeout, and never a private or
loopback address unless the operator listed it in ``FENGQIAO_WEBHOOK_ALLOW_HOSTS``; check a
configured URL with ``url_problem``) and map its answer with ``http_failure``.
"""

from __future__ import annotations

from fengqiao.notifications.protocol import (
    Channel,
    Delivered,
    Failed,
    Message,
    Recipient,
    Result,
    RetryAfter,
)
from fengqiao.outbound import (
    EXCERPT,
    Answer,
    http_failure,
    post_json,
    retry_after_seconds,
    url_problem,
)

__all__ = ["EXCERPT", "Answer", "Channel", "Delivered", "Failed", "Message", "Recipient", "Result", "RetryAfter",
           "http_failure", "notify", "post_json", "retry_after_seconds", "url_problem"]


def notify(event_key: str, usernames: list[str], *, kind: str, title: str, text: str, link: str,
           org: str | None = None) -> int:
    """Tell ``usernames`` about a plugin's own event (a points claim decided, a reservation
    ready …): their inbox and the channels they chose, once per ``event_key`` (namespace it
    with the plugin's name). ``org`` (a unit code) is the unit whose switches apply. Call it
    from a job or request; nothing is sent before that commits. Returns inbox rows written."""
    from fengqiao.notifications.fanout import notify_users

    return notify_users(event_key, usernames, kind=kind, title=title, text=text, link=link, org_code=org)
