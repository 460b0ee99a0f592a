"""One attempt at a webhook delivery (called by ``notifications.send`` for channel ``webhook``).

Signed afresh at each attempt (a new timestamp, the same event id and body) and POSTed as
JSON through ``fengqiao.outbound``: a 5 s timeout, no redirects followed (the signature is for
the URL the admin entered), and no private or loopback address unless the operator listed it
in ``FENGQIAO_WEBHOOK_ALLOW_HOSTS`` (checked again before each request). The answer decides
what follows:

- 2xx: delivered;
- 410 Gone: the receiver says the endpoint is gone for good, so the row fails at once and
  the endpoint is deactivated (audited as the system); an admin re-enables it by hand;
- 408, 425, 429 and 5xx, timeouts, refused connections: retried with the core's backoff
  (or the receiver's ``Retry-After``);
- any other 3xx/4xx, or a URL the guard refuses: failed at once (dead-lettered;
  「重新发送」 after fixing the receiver).

The response code and a short excerpt of the answer (numbers masked) are kept on the row.
"""

from __future__ import annotations

import json
import logging

from fengqiao import outbound
from fengqiao.db import db
from fengqiao.masking import mask_text
from fengqiao.models import Delivery, OrgUnit, WebhookEndpoint
from fengqiao.notifications.protocol import Delivered, Failed, Result, RetryAfter
from fengqiao.params import parse_int
from fengqiao.webhooks.signing import signed_headers
from fengqiao.webhooks.urls import url_problem

log = logging.getLogger(__name__)
TIMEOUT = 5  # seconds, per connect and per read
EXCERPT_CHARS = 300
RETRY_CODES = frozenset({408, 425, 429})
USER_AGENT = "Fengqiao-Webhooks/1.0"


def encode(payload: dict) -> bytes:
    """The exact bytes signed and sent (compact UTF-8 JSON)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def endpoint_of(row: Delivery) -> WebhookEndpoint | None:
    kind, _, ident = row.target.partition(":")
    endpoint_id = parse_int(ident) if kind == "endpoint" else None
    return db.get(WebhookEndpoint, endpoint_id) if endpoint_id is not None else None


def send_webhook(row: Delivery) -> Result:
    endpoint = endpoint_of(row)
    if endpoint is None:
        return Failed("推送地址已删除")
    if not endpoint.active:
        return Failed("推送地址已停用")
    if (problem := url_problem(endpoint.url, resolve=False)) is not None:
        return Failed(f"推送地址无效：{problem}")
    body = encode(row.payload)
    headers = signed_headers(endpoint.secret, event_id=str(row.payload.get("id") or row.event_key),
                             event=str(row.payload.get("type") or row.kind), body=body)
    answer = outbound.post_json(endpoint.url, body, {**headers, "User-Agent": USER_AGENT}, timeout=TIMEOUT)
    if isinstance(answer, Failed | RetryAfter):  # refused by the address guard, or no answer at all
        return answer
    code, excerpt = answer.status, mask_text(answer.text)[:EXCERPT_CHARS]
    if 200 <= code < 300:
        return Delivered(code, excerpt)
    if code == 410:
        _deactivate(endpoint)
        return Failed("接收方返回 410（已不存在），已自动停用该推送地址", code, excerpt)
    if code in RETRY_CODES or code >= 500:
        return RetryAfter(f"接收方暂时无法处理（HTTP {code}）", outbound.retry_after_seconds(answer.headers), code,
                          excerpt)
    if 300 <= code < 400:
        return Failed(f"接收方要求重定向（HTTP {code}），不跟随：请填写最终地址", code, excerpt)
    return Failed(f"接收方拒绝（HTTP {code}）", code, excerpt)


def _deactivate(endpoint: WebhookEndpoint) -> None:
    from fengqiao import audit

    if endpoint.active:
        endpoint.active = False
        audit.record("webhook.deactivate", org=db.get(OrgUnit, endpoint.org_id), record_ref=f"webhook:{endpoint.id}",
                     reason="接收方返回 410")
        log.warning("webhook endpoint %s deactivated: the receiver answered 410", endpoint.id)
