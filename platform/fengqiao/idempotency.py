"""``Idempotency-Key`` for write routes other than form submissions (``fengqiao.sdk.web.idempotent``).

A phone's 待上传 queue (``static/offline-queue.js``) sends a plugin's JSON write again whenever
an answer was lost; the key makes the resend replay the first answer instead of writing twice.
The same rules as the form submissions (``forms/submit.py``): a key belongs to its caller and
route (an HMAC, so nobody is named in clear), the same key with another request is a 422
``idempotency_mismatch``, a refused request stores nothing (fix it and send it with the same
or a new key), and two concurrent sends of one key write once (the key row is claimed in a
SAVEPOINT with the route's writes: the loser's writes roll back and it replays the winner's).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from fengqiao.db import current_session, utcnow
from fengqiao.errors import APIError
from fengqiao.models import IdempotencyKey
from fengqiao.ratelimit import client_address

HEADER = "Idempotency-Key"
KEPT_DAYS = 30  # a phone may stay offline for days; older keys are pruned
TOO_LONG = ("/Idempotency-Key", "Idempotency-Key 长度应为 1–128", "maxLength")
BUSY = ("/Idempotency-Key", "使用该 Idempotency-Key 的请求正在处理，请稍后重试", "idempotency_busy")


class _NotKept(Exception):
    """A view's non-2xx answer: leave the SAVEPOINT (dropping the key) and answer it."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def _scope() -> str:
    """The route (method and rule, not the values in the path) and the caller, as an HMAC."""
    user = current_user
    caller = f"user:{user.id}" if getattr(user, "is_authenticated", False) else f"anon:{client_address()}"
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, f"route\0{request.method} {rule}\0{caller}".encode(), hashlib.sha256).hexdigest()


FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def _posted_form() -> bytes:
    """A posted form by content: its fields and each file's name and digest (the multipart
    boundary differs at every send)."""
    files = []
    for name, file in sorted(request.files.items(multi=True), key=lambda pair: (pair[0], pair[1].filename or "")):
        files.append([name, file.filename, hashlib.sha256(file.stream.read()).hexdigest()])
        file.stream.seek(0)
    fields = sorted(request.form.items(multi=True))
    return json.dumps({"form": fields, "files": files}, ensure_ascii=False).encode()


def _digest() -> str:
    """What was asked: the path with its query and the body (JSON and forms compared by content)."""
    data = request.get_json(silent=True, cache=True) if request.is_json else None
    if data is not None:
        body = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    elif request.mimetype in FORMS:
        body = _posted_form()
    else:
        body = request.get_data(cache=True)
    asked = hashlib.sha256(request.full_path.encode())
    asked.update(b"\0")
    asked.update(body)
    return asked.hexdigest()


def _replay(session, scope: str, key: str, digest: str) -> Response | None:
    row = session.execute(sa.select(IdempotencyKey.request_hash, IdempotencyKey.status, IdempotencyKey.content_type,
                                    IdempotencyKey.body)
                          .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)).first()
    if row is None:
        return None
    if not hmac.compare_digest(row.request_hash, digest):
        # the forms' message, loaded late: the sdk imports this module
        from fengqiao.forms.submit import MISMATCH

        raise APIError(422, [MISMATCH])
    if row.status is None:
        raise APIError(409, [BUSY])
    response = Response(row.body, status=200 if row.status == 201 else row.status, content_type=row.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour an ``Idempotency-Key`` header on a write route: the first success (2xx) is kept
    and replayed (201 as 200, header ``Idempotent-Replayed: true``) to a resend by the same
    caller to the same route; the same key with another path, query or body is 422; without
    the header the route runs as before."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 128:
            raise APIError(422, [TOO_LONG])
        session = current_session()
        scope, digest = _scope(), _digest()
        if (earlier := _replay(session, scope, key, digest)) is not None:
            return earlier
        try:
            with session.begin_nested():
                row = IdempotencyKey(scope=scope, key=key, request_hash=digest, created_at=utcnow())
                session.add(row)
                session.flush()  # claims the key: a concurrent twin waits here, then fails
                response = current_app.make_response(view(*args, **kwargs))
                if not 200 <= response.status_code < 300:
                    raise _NotKept(response)
                row.status = response.status_code
                row.content_type = response.content_type or "application/json"
                row.body = response.get_data(as_text=True)
                session.flush()
        except _NotKept as refused:
            return refused.response
        except IntegrityError:
            if (earlier := _replay(session, scope, key, digest)) is not None:
                return earlier  # a concurrent request with the same key won the race
            raise
        return response

    return wrapper


def prune_idempotency_keys(days: int = KEPT_DAYS) -> int:
    """Delete keys older than ``days`` (the caller commits); returns how many went."""
    result = current_session().execute(sa.delete(IdempotencyKey)
                                       .where(IdempotencyKey.created_at < utcnow() - timedelta(days=days)))
    return result.rowcount or 0
