"""Process logging: one stderr handler, text or JSON lines, and a log line per request.

``FENGQIAO_LOG_FORMAT=json`` makes every line one JSON object (``time``, ``level``,
``logger``, ``message``, and ``request_id``/``method``/``path``/``status`` inside a request,
``exc_info`` with a traceback) so a log collector can index them without parsing. Request
lines carry the path only, never the query string or body: those hold residents' data
(``/cases?q=李小明``). The access lines of Werkzeug (``fengqiao run``/``demo``) and gunicorn
(when an operator turns them on) have their query strings cut when the record is made.

Personal data never reaches a log line or an error report: every record's message,
traceback and stack have ID, mobile and landline numbers masked when the record is made
(:func:`install_scrubbing`, a log-record factory, so it holds for every logger and handler,
pytest's ``caplog`` included), and extra fields and JSON lines are scrubbed once more by the
handler's :class:`ScrubPersonalData` filter and the JSON formatter.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

from fengqiao.masking import mask_text

REQUEST_LOG = logging.getLogger("fengqiao.requests")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
QUIET_PATHS = ("/healthz", "/readyz", "/static/")  # load-balancer polls and assets: DEBUG only
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")  # one line per request, with the request line
_QUERY = re.compile(r"\?[^\s\"]*")  # from ? to the end of the URL (a space or a quote)


def strip_query_strings(message: str) -> str:
    """``"GET /cases?q=李小明 HTTP/1.1"`` → ``"GET /cases HTTP/1.1"`` (Referer URLs too)."""
    return _QUERY.sub("", message)


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


_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _scrub(value):
    """Strings with personal numbers masked, inside lists and dicts too."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the record's message (with its arguments), traceback and stack in place."""
    if getattr(record, "_fengqiao_scrubbed", False):
        return record
    if isinstance(record.msg, dict) and not record.args:  # structured (JSON) messages stay dicts
        record.msg = _scrub(record.msg)
    else:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it as usual
            return record
        if record.name in ACCESS_LOGGERS:
            message = strip_query_strings(message)
        record.msg, record.args = mask_text(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    record._fengqiao_scrubbed = True
    return record


def install_scrubbing() -> None:
    """Wrap the process's log-record factory once so every record is scrubbed when made."""
    current = logging.getLogRecordFactory()
    if getattr(current, "fengqiao_scrubbing", False):
        return

    def factory(*args, **kwargs):
        return scrub_record(current(*args, **kwargs))

    factory.fengqiao_scrubbing = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class ScrubPersonalData(logging.Filter):
    """Mask personal numbers in the message and in extra fields (``extra={…}``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        fields = vars(record)
        for key in fields.keys() - _STANDARD:  # the extra fields (a set difference: no loop over the rest)
            value = fields[key]
            if not key.startswith("_") and isinstance(value, (str, dict, list, tuple)):
                fields[key] = _scrub(value)
        return True


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
            return _scrub(log_data)  # every JSON field, the traceback included

    return _Json("{levelname}{name}{message}", style="{", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)


def make_handler(log_format: str) -> logging.Handler:
    handler = _Stderr()
    handler.set_name("fengqiao")
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestContext())
    handler.addFilter(ScrubPersonalData())
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
    install_scrubbing()
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
        context = g._get_current_object()  # one context lookup, not one per attribute
        request_id = context.get("request_id") or uuid.uuid4().hex
        response.headers.setdefault("X-Request-Id", request_id)
        started = context.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        status = response.status_code
        method, path = request.method, request.path
        if status >= 500:
            level = logging.WARNING
        elif path.startswith(QUIET_PATHS):
            level = logging.DEBUG
        else:
            level = logging.INFO
        if REQUEST_LOG.isEnabledFor(level):  # the filters find method and path here, not in the request
            REQUEST_LOG.log(level, "%s %s %s %sms", method, path, status, duration_ms,
                            extra={"request_id": request_id, "status": status, "duration_ms": duration_ms,
                                   "method": method, "path": path})
        return response
