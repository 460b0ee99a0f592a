"""Documented blinker signals of the core (importable by name from ``fengqiao.sdk``).

Each is sent after the change it reports has been committed. Receivers take ``**kwargs``;
every signal passes ``sender`` (the Flask app) and the identifiers listed in its docstring.
A receiver that raises is logged and never breaks the request nor loses the core's data.
"""

from __future__ import annotations

import logging

from blinker import Namespace
from flask import current_app

log = logging.getLogger(__name__)
_signals = Namespace()

form_published = _signals.signal(
    "form_published",
    doc="A form version was published. kwargs: form_key, version (int), breaking (bool).",
)
submission_received = _signals.signal(
    "submission_received",
    doc="A form was submitted and stored. kwargs: form_key, form_version, submission_id, "
    "case_number, channel ('web' | 'api').",
)
case_created = _signals.signal(
    "case_created",
    doc="A case was opened. kwargs: case_number, case_type, org (unit code), form_key.",
)

ALL = {s.name: s for s in (form_published, submission_received, case_created)}


def send(signal, **kwargs) -> None:
    """Send ``signal`` after commit; a failing receiver is logged, never propagated."""
    app = current_app._get_current_object()
    for receiver in signal.receivers_for(app):
        try:
            receiver(app, **kwargs)
        except Exception:  # a plugin's bug must not break the core's request
            log.exception("receiver %r of signal %s failed", receiver, signal.name)
