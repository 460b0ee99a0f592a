"""A worker told to stop (SIGTERM) stops at once, whatever its pub/sub listener was doing.

RQ's listener thread waits in a 60-second read. RQ unsubscribes and only then stops the
thread: when the unsubscribe reply reaches the thread first, it reads again and the worker's
exit waits for that read (seen as ``fengqiao.stack down`` killing a worker after 20 s).
"""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis
from rq import Queue

from fengqiao.jobs.worker import AppWorker, ForkingAppWorker


@pytest.mark.parametrize("worker_class", [AppWorker, ForkingAppWorker])
def test_unsubscribing_ends_the_listener_even_when_the_reply_comes_first(redis_server, worker_class):
    connection = Redis.from_url(redis_server.url)
    worker = worker_class([Queue("fengqiao-shutdown-test", connection=connection)], connection=connection)
    worker.subscribe()
    listener = worker.pubsub_thread
    time.sleep(0.2)  # the thread is inside its long read
    send = worker.pubsub.unsubscribe

    def unsubscribe_then_let_the_listener_read_the_reply(*args, **kwargs):
        result = send(*args, **kwargs)
        time.sleep(0.5)  # the reply arrives and is read before RQ stops the thread
        return result

    worker.pubsub.unsubscribe = unsubscribe_then_let_the_listener_read_the_reply
    done = threading.Event()
    stopper = threading.Thread(target=lambda: (worker.unsubscribe(), done.set()), daemon=True)
    started = time.monotonic()
    stopper.start()
    assert done.wait(10), "unsubscribe() still waiting for the listener after 10 s"
    assert time.monotonic() - started < 3
    listener.join(2)
    assert not listener.is_alive()
