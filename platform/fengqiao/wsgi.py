"""Production entry point: ``gunicorn fengqiao.wsgi:app``."""

from fengqiao.app import create_app
from fengqiao.gunicorn_conf import STATEMENT_TIMEOUT_SECONDS
from fengqiao.jobs.sweep import start_inline_ticker

app = create_app({"statement_timeout_seconds": STATEMENT_TIMEOUT_SECONDS})
start_inline_ticker(app, on_first_request=True)  # only without Redis: this process sweeps
