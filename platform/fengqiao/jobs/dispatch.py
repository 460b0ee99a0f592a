"""Hand committed outbox rows to whatever runs them: RQ when Redis is configured, else a
background thread in this process (``fengqiao demo`` and laptops need no Redis)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable

from flask import Flask

log = logging.getLogger(__name__)
RQ_FUNC = "fengqiao.jobs.runner.run_from_rq"
FLUSH = -1  # a marker in the inline queue: everything before it has run


class RQDispatcher:
    """Push ids to RQ from a background thread, so a request never waits on Redis.

    A push that fails (Redis down) or never happens (the process died first) only delays the
    job: its row stays pending and the sweep dispatches it again.
    """

    backend = "redis"

    def __init__(self, redis_url: str):
        from redis import Redis

        self.connection = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._queues: dict = {}
        self._pending: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _queue(self, name: str):
        if name not in self._queues:
            from rq import Queue

            self._queues[name] = Queue(name, connection=self.connection)
        return self._queues[name]

    def dispatch(self, pending: Iterable[tuple[int, str]]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="fengqiao-rq-push", daemon=True)
                self._thread.start()
        self._pending.put(list(pending))

    def _loop(self) -> None:
        while True:
            batch = self._pending.get()
            if batch is None:
                self._pending.task_done()
                return
            while not self._pending.empty():  # push whatever piled up in one round trip
                more = self._pending.get_nowait()
                self._pending.task_done()
                if more is None:
                    self._pending.put(None)
                    break
                batch += more
            self.push(batch)
            self._pending.task_done()

    def push(self, pending: list[tuple[int, str]]) -> None:
        from redis.exceptions import RedisError

        try:
            with self.connection.pipeline() as pipe:
                for job_id, queue_name in pending:
                    self._queue(queue_name).enqueue_call(
                        RQ_FUNC, args=(job_id,), job_id=f"fq-{job_id}", pipeline=pipe,
                        result_ttl=600, failure_ttl=86400)
                pipe.execute()
        except RedisError as err:  # the rows stay pending: the sweep will try again
            log.warning("could not enqueue jobs on Redis (%s); the outbox sweep will retry", err)

    def flush(self, timeout: float = 10) -> None:
        """Wait until everything handed over so far was pushed (tests, shutdown)."""
        if self._thread is not None and self._thread.is_alive():
            done = threading.Event()
            threading.Thread(target=lambda: (self._pending.join(), done.set()), daemon=True).start()
            done.wait(timeout)

    def close(self) -> None:
        self.flush()
        self.connection.close()


class InlineDispatcher:
    """One daemon thread per app runs jobs in commit order, each in its own app context.

    With ``wait`` (tests) the committing thread blocks until its jobs ran, so a test sees
    their effects right after the request; a job that enqueues more never waits on itself.
    """

    backend = "inline"

    def __init__(self, app: Flask, wait: bool = False):
        self.app = app
        self.wait = wait
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="fengqiao-jobs", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        from fengqiao.jobs.runner import run_record

        while True:
            job_id, done = self._queue.get()
            if job_id is None:
                done.set()
                return
            if job_id == FLUSH:
                done.set()
                continue
            try:
                with self.app.app_context():
                    run_record(job_id)
            except Exception:  # run_record records failures; this guards the loop itself
                log.exception("inline job %s crashed", job_id)
            finally:
                done.set()

    def dispatch(self, pending: Iterable[tuple[int, str]]) -> None:
        self._ensure_thread()
        events = []
        for job_id, _queue_name in pending:
            done = threading.Event()
            self._queue.put((job_id, done))
            events.append(done)
        if self.wait and threading.current_thread() is not self._thread:
            for done in events:
                done.wait(timeout=120)

    def flush(self, timeout: float = 10) -> None:
        """Wait until the jobs handed over so far have run."""
        if self._thread is not None and self._thread.is_alive():
            marker = threading.Event()
            self._queue.put((FLUSH, marker))
            marker.wait(timeout)

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            done = threading.Event()
            self._queue.put((None, done))
            done.wait(timeout=10)


def init_dispatcher(app: Flask) -> None:
    settings = app.extensions["fengqiao.settings"]
    if settings.redis_url:
        dispatcher = RQDispatcher(settings.redis_url)
    else:
        dispatcher = InlineDispatcher(app, wait=app.config.get("JOBS_WAIT", app.testing))
    app.extensions["fengqiao.dispatcher"] = dispatcher
