"""Helpers of the webhook tests (a unique module name: ``conftest`` is taken by other folders).

A real webhook receiver: an HTTP server on 127.0.0.1 (a free port) in a
thread, that checks every delivery with ``fengqiao.webhooks.signing.verify`` the way an
integrator would, records it, and answers with the statuses a test plans."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.webhooks.signing import VerificationError, verify


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    verified: bool
    problem: str = ""

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    base: str
    secrets: dict = field(default_factory=dict)  # path -> secret
    plans: dict = field(default_factory=dict)  # path -> deque of (status, body)
    received: list = field(default_factory=list)
    seen: dict = field(default_factory=dict)  # path -> event ids handled (each integrator its own)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def plan(self, path: str, *answers: tuple[int, str]) -> None:
        self.plans.setdefault(path, deque()).extend(answers)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def events(self, path: str) -> list[str]:
        return [r.json["type"] for r in self.at(path)]


@pytest.fixture
def receiver():
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            with state.lock:
                secret = state.secrets.get(self.path, "")
                answer = state.plans.get(self.path) and state.plans[self.path].popleft()
                try:
                    verify(secret, headers, body, seen=state.seen.setdefault(self.path, set()))
                    record = Received(self.path, headers, body, True)
                except VerificationError as err:
                    record = Received(self.path, headers, body, False, str(err))
                state.received.append(record)
            status, text = answer or (200, "ok")
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def make_endpoint(app, receiver: Receiver, path: str, org_code: str, events: list[str], personal: bool = False,
                  name: str | None = None) -> int:
    """An endpoint made through the service (as the admin page does), its secret known to the receiver."""
    from fengqiao.models import OrgUnit, User
    from fengqiao.webhooks import service

    with app.test_request_context():
        unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == org_code))
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        endpoint, secret = service.create(service.EndpointInput(name or path, unit, receiver.url(path), events,
                                                                personal), admin)
        db.commit()
        receiver.secrets[path] = secret
        return endpoint.id


def settle(app) -> None:
    """Wait for the sends the fan-out job queued (a job's own jobs run after it, unwaited)."""
    app.extensions["fengqiao.dispatcher"].flush()
