"""Local stand-ins for what the channels reach (nothing here calls the internet): a recording
HTTP server for the robots and the SMS gateway, and an aiosmtpd SMTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


class FakeServer:
    """Records every request (method, path, query, headers, JSON body) and answers from a
    programmable queue, then with ``default``. An answer is ``(status, body, headers)``; a
    dict body is sent as JSON; ``delay`` seconds make it slow."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: deque = deque()
        self.default: tuple = (200, {"errcode": 0, "errmsg": "ok"}, {})
        self.delay = 0.0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def answer(self, *replies: tuple, always: tuple | None = None) -> None:
        """Queue ``replies`` (each ``(status, body)`` or ``(status, body, headers)``); ``always``
        replaces the default answer."""
        self.replies.extend(replies)
        if always is not None:
            self.default = always

    def _next(self) -> tuple:
        with self._lock:
            reply = self.replies.popleft() if self.replies else self.default
        status, body, *rest = reply
        return status, body, (rest[0] if rest else {})

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = None
                parts = urlsplit(self.path)
                with fake._lock:
                    fake.requests.append({"method": "POST", "path": parts.path, "query": parse_qs(parts.query),
                                          "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "json": body, "at": time.time()})
                if fake.delay:
                    time.sleep(fake.delay)
                status, reply, headers = fake._next()
                data = (json.dumps(reply, ensure_ascii=False) if isinstance(reply, dict) else str(reply)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_server():
    server = FakeServer()
    server.thread.start()
    yield server
    server.close()


@pytest.fixture
def second_fake_server():
    server = FakeServer()
    server.thread.start()
    yield server
    server.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    return free_port()


class MailRecorder:
    """An aiosmtpd handler keeping each message; ``refuse`` maps an address to an RCPT reply."""

    def __init__(self):
        self.messages: list[dict] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "data": envelope.original_content or envelope.content})
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1; yields (recorder, port)."""
    from aiosmtpd.controller import Controller

    recorder = MailRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()
