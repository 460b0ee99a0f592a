"""Process logging: one stderr handler, text or JSON lines, and a log line per request.

``FENGQIAO_LOG_FORMAT=json`` makes every line one JSON object (``time``, ``level``,
``logger``, ``message``, and ``request_id``/``method``/``path``/``status`` inside a request,
``exc_info`` with a traceback) so a log collector can index them without parsing. Request
lines carry the path only, never the query string or body: those hold residents' data.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

REQUEST_LOG = logging.getLogger("fengqiao.requests")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
QUIET_PATHS = ("/healthz", "/readyz", "/static/")  # load-balancer polls and assets: DEBUG only
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class _Stderr(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is at the time (test runners and daemons swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class RequestContext(logging.Filter):
    """Stamp each record logged during a request with its id, method and path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(record, "request_id", None) or g.get("request_id", "-")
            record.method = getattr(record, "method", None) or request.method
            record.path = getattr(record, "path", None) or request.path
        elif not hasattr(record, "request_id"):
            record.request_id = "-"
        return True


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class _Json(JsonFormatter):
        def process_log_record(self, log_data):
            if log_data.get("request_id") == "-":  # only the text format needs a placeholder
                del log_data["request_id"]
            return log_data

    return _Json("{levelname}{name}{message}", style="{", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)


def make_handler(log_format: str) -> logging.Handler:
    handler = _Stderr()
    handler.set_name("fengqiao")
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestContext())
    return handler


def configure_process(log_format: str) -> None:
    """Put exactly one Fengqiao handler on the root logger (idempotent: a second app in the
    same process replaces it instead of doubling every line).

    Warnings and errors from everything, plus one INFO line per request; commands stay quiet.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "fengqiao"]:
        root.removeHandler(old)
    root.addHandler(make_handler(log_format))
    root.setLevel(logging.WARNING)
    REQUEST_LOG.setLevel(logging.INFO)


def init_logging(app: Flask) -> None:
    """Configure the process's logging (not under pytest's own capture unless JSON was asked
    for) and log every request with its id, status and duration."""
    settings = app.extensions["fengqiao.settings"]
    if settings.mode != "testing" or settings.log_format == "json":
        configure_process(settings.log_format)
        app.logger.removeHandler(default_handler)  # the root handler prints these lines now

    @app.before_request
    def _start_request() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers.setdefault("X-Request-Id", request_id)
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        status = response.status_code
        if status >= 500:
            level = logging.WARNING
        elif request.path.startswith(QUIET_PATHS):
            level = logging.DEBUG
        else:
            level = logging.INFO
        REQUEST_LOG.log(level, "%s %s %s %sms", request.method, request.path, status, duration_ms,
                        extra={"request_id": request_id, "status": status, "duration_ms": duration_ms})
        return response
