"""gunicorn settings: ``gunicorn -c python:fengqiao.gunicorn_conf fengqiao.wsgi:app``.

Command-line flags override any of these. No ``preload_app``: each worker builds its own app,
so no database connection opened in the master is ever shared across a fork. Access logs
are off because ``fengqiao.requests`` logs every request already, with its request id; turned
on (``--access-logfile -``), their format has the path without the query string and no
Referer (both carry residents' names and numbers), and ``fengqiao.logs`` strips a query
string from any access line a custom format lets through.
"""

from __future__ import annotations

import os

bind = os.environ.get("FENGQIAO_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 60  # a request still running after this is killed and its worker replaced
# Not a gunicorn setting: fengqiao.wsgi has PostgreSQL cancel a request's statement after this,
# so a worker killed at ``timeout`` never leaves its query computing on.
STATEMENT_TIMEOUT_SECONDS = timeout - 10
graceful_timeout = 30  # SIGTERM: finish the requests in flight, then exit
keepalive = 5  # behind nginx, which keeps upstream connections open
max_requests = 5000  # recycle workers now and then (bounded memory growth)
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("FENGQIAO_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%({x-request-id}i)s"'
errorlog = "-"

if os.environ.get("FENGQIAO_LOG_FORMAT", "text").strip().lower() == "json":
    # gunicorn's own lines ("Booting worker …") as JSON too; the app adds its handler to root.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "fengqiao.logs.json_formatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
