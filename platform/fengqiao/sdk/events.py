"""Signals (what happened) and jobs (work to do after the commit).

Connect receivers with ``ctx.connect(signal, receiver)`` in ``setup()``: they run only while
the plugin is on, after the transaction holding the change has committed, as
``receiver(sender, **kwargs)``. A receiver's own writes are a new unit of work: it commits
them. Jobs are enqueued inside the transaction whose change they follow and run after it
commits (never for a change that rolled back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blinker import NamedSignal
from blinker import signal as blinker_signal

from fengqiao.signals import (
    calendar_changed,
    case_assigned,
    case_closed,
    case_created,
    case_escalated,
    case_notification,
    case_rated,
    case_transitioned,
    form_published,
    org_moved,
    org_renamed,
    submission_received,
    user_created,
)

__all__ = [
    "calendar_changed", "case_assigned", "case_closed", "case_created", "case_escalated", "case_notification",
    "case_rated", "case_transitioned", "current_job_id", "enqueue", "files_dir", "form_published", "org_moved",
    "org_renamed", "plugin_signal", "send_signal", "set_progress", "submission_received", "user_created",
]


def plugin_signal(name: str) -> NamedSignal:
    """A signal one plugin sends and others may receive, shared by name alone (plugins never
    import each other). Name it ``<plugin>.<event>``; document its kwargs in your README."""
    return blinker_signal(name)


def send_signal(signal: NamedSignal, **kwargs: Any) -> None:
    """Send a plugin signal to receivers connected with ``ctx.connect``, once the current
    transaction commits (at once when none is open; never when it rolls back)."""
    from fengqiao.signals import send
    from fengqiao.webhooks.events import watch

    watch(signal)  # plugin events reach webhooks as ``plugin.<signal name>``
    send(signal, **kwargs)


def enqueue(job_name: str, *, owner=None, dedupe_key: str | None = None, **kwargs: Any) -> int:
    """Add the job ``<plugin>.<job>`` to the current transaction (it runs after the commit);
    returns its id. ``dedupe_key`` adds it at most once; ``owner`` (a user) may watch it."""
    from fengqiao.jobs import enqueue as add

    return add(job_name, owner=owner, dedupe_key=dedupe_key, **kwargs)


def set_progress(done: int, total: int | None = None) -> None:
    """The running job's progress (shown at ``/jobs/<id>``)."""
    from fengqiao.jobs import set_progress as progress

    progress(done, total)


def current_job_id() -> int | None:
    """The id of the running job (``None`` outside jobs)."""
    from fengqiao.jobs import current_job_id as running

    return running()


def files_dir() -> Path:
    """Where a job leaves a file for download (return ``{"file": name, "filename": …}``)."""
    from fengqiao.jobs import files_dir as folder

    return folder()
