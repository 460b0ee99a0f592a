"""``POST /api/v1/webhooks`` as the public contract states it (docs/notifications.md): url, events
and the caller's own secret → 201 {id}; every delivery is signed with that secret and carries
X-Fengqiao-Event, X-Fengqiao-Delivery, X-Fengqiao-Timestamp and X-Fengqiao-Signature."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from webhook_kit import settle

from fengqiao.db import db
from fengqiao.models import AuditEntry, WebhookEndpoint
from fengqiao.testing.plugin import submit_form

SECRET = "s3cr3t-of-the-12345-platform"
REQUEST = {"request_type": "help", "summary": "揽月花园5幢路灯不亮", "content": "5幢门口路灯坏了一周。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def test_an_admin_registers_an_endpoint_and_deliveries_are_signed_with_its_secret(app, demo, client, bearer,
                                                                                  receiver):
    receiver.secrets["/hub"] = SECRET
    admin = bearer("admin")
    created = client.post("/api/v1/webhooks", json={"url": receiver.url("/hub"), "events": ["case.created"],
                                                    "secret": SECRET}, headers=admin)
    assert created.status_code == 201 and set(created.get_json()) == {"id"}  # our secret: nothing to show
    submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    settle(app)
    [request] = receiver.at("/hub")
    assert request.verified, request.problem
    stamp = request.headers["X-Fengqiao-Timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Fengqiao-Signature"] == f"sha256={expected}"
    assert request.headers["X-Fengqiao-Event"] == "case.created"
    assert request.headers["X-Fengqiao-Delivery"] == request.json["id"]
    listed = client.get("/api/v1/webhooks", headers=admin).get_json()["items"]
    assert [e["id"] for e in listed] == [created.get_json()["id"]] and "secret" not in listed[0]
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "webhook.create")) == 1


def test_without_a_secret_one_is_generated_and_shown_once_and_bad_input_is_422(app, demo, client, bearer, receiver):
    admin = bearer("admin")
    made = client.post("/api/v1/webhooks", json={"url": receiver.url("/x"), "events": ["case.closed"]}, headers=admin)
    assert made.status_code == 201 and len(made.get_json()["secret"]) >= 32
    with app.app_context():
        assert db.get(WebhookEndpoint, made.get_json()["id"]).secret == made.get_json()["secret"]
    unknown = client.post("/api/v1/webhooks", json={"url": receiver.url("/x"), "events": ["case.nope"]}, headers=admin)
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["pointer"] == "/events/0"
    inside = client.post("/api/v1/webhooks", json={"url": "http://10.9.8.7/x", "events": ["case.closed"]},
                         headers=admin)
    assert inside.status_code == 422
    assert [(e["pointer"], "内网或本机地址" in e["message"]) for e in inside.get_json()["errors"]] == [("/url", True)]
    short = client.post("/api/v1/webhooks", json={"url": receiver.url("/x"), "events": ["case.closed"], "secret": "short"},
                        headers=admin)
    assert short.status_code == 422 and short.get_json()["errors"][0]["pointer"] == "/secret"
    assert client.post("/api/v1/webhooks", json={"url": receiver.url("/x"), "events": ["case.closed"]},
                       headers=bearer("shenli")).status_code == 403
