"""``fengqiao.sdk.web.idempotent`` (``fengqiao/idempotency.py``) on test-only routes: a JSON
or form resend replays the first answer and writes once (a form's multipart boundary differs
at every send, its content does not); another body is 422; an anonymous caller's key is its
address's; an error answer keeps no key; old keys are pruned."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from flask import request

from fengqiao import audit
from fengqiao.access import public
from fengqiao.csrf import csrf
from fengqiao.db import db, utcnow
from fengqiao.idempotency import prune_idempotency_keys
from fengqiao.models import AuditEntry, IdempotencyKey
from fengqiao.sdk.web import idempotent

KEY = {"Idempotency-Key": "b1f4e0c2-0d7a-4c53-8f0e-5c2a9d1e7b34"}


def _route(app, rule: str, view) -> None:
    """A test-only public POST route on ``app`` (before its first request)."""
    view = public(idempotent(view))
    csrf.exempt(view)
    app.add_url_rule(rule, view.__name__, view, methods=["POST"])


def _written(ref: str) -> dict:
    audit.record("export.cases", record_ref=ref)
    db.flush()
    return {"written": ref}


def _rows(app, ref: str) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.record == ref))


def _keys(app) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count(IdempotencyKey.id)))


def test_json_and_form_resends_replay_and_write_once(demo):
    def idem_json():
        return _written(request.get_json()["ref"]), 201

    def idem_form():
        return _written(request.form["ref"] + ":" + request.files["photo"].read().decode()), 201

    _route(demo, "/api/v1/_test/idem-json", idem_json)
    _route(demo, "/api/v1/_test/idem-form", idem_form)
    client = demo.test_client()
    first = client.post("/api/v1/_test/idem-json", json={"ref": "idem-a", "n": 1}, headers=KEY)
    again = client.post("/api/v1/_test/idem-json", json={"n": 1, "ref": "idem-a"}, headers=KEY)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json() == {"written": "idem-a"}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _rows(demo, "idem-a") == 1
    other = client.post("/api/v1/_test/idem-json", json={"ref": "idem-b"}, headers=KEY)
    assert other.status_code == 422 and other.get_json()["errors"][0]["code"] == "idempotency_mismatch"
    assert _rows(demo, "idem-b") == 0
    def form(photo: bytes) -> dict:
        return {"ref": "idem-f", "photo": (io.BytesIO(photo), "a.jpg")}

    # the same key on another route is another key; each send has its own multipart boundary
    sent = [client.post("/api/v1/_test/idem-form", data=form(b"one"), headers=KEY,
                        content_type="multipart/form-data") for _ in range(2)]
    assert [r.status_code for r in sent] == [201, 200]
    assert _rows(demo, "idem-f:one") == 1
    changed = client.post("/api/v1/_test/idem-form", data=form(b"two"), headers=KEY, content_type="multipart/form-data")
    assert changed.status_code == 422 and _rows(demo, "idem-f:two") == 0


def test_anonymous_keys_are_the_addresss_and_errors_keep_none(demo):
    def idem_anon():
        return _written(request.get_json()["ref"]), 201

    def idem_refused():
        _written("idem-refused")
        return {"errors": [{"pointer": "/x", "message": "不行", "code": "no"}]}, 422

    _route(demo, "/api/v1/_test/idem-anon", idem_anon)
    _route(demo, "/api/v1/_test/idem-refused", idem_refused)
    client = demo.test_client()
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
        answer = client.post("/api/v1/_test/idem-anon", json={"ref": "idem-anon"}, headers=KEY,
                             environ_base={"REMOTE_ADDR": address})
        assert answer.status_code in (200, 201)
    assert _rows(demo, "idem-anon") == 2  # one per address
    kept = _keys(demo)
    for _ in range(2):
        refused = client.post("/api/v1/_test/idem-refused", json={}, headers=KEY)
        assert refused.status_code == 422 and refused.get_json()["errors"][0]["pointer"] == "/x"
    assert _rows(demo, "idem-refused") == 0 and _keys(demo) == kept
    too_long = client.post("/api/v1/_test/idem-anon", json={"ref": "x"}, headers={"Idempotency-Key": ""})
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["pointer"] == "/Idempotency-Key"


def test_old_keys_are_pruned(demo):
    with demo.app_context():
        db.add_all([IdempotencyKey(scope="s" * 64, key="old", request_hash="h" * 64, status=201, body="{}",
                                   created_at=utcnow() - timedelta(days=31)),
                    IdempotencyKey(scope="s" * 64, key="new", request_hash="h" * 64, status=201, body="{}")])
        db.commit()
        assert prune_idempotency_keys() == 1
        db.commit()
        assert db.scalars(sa.select(IdempotencyKey.key)).all() == ["new"]
