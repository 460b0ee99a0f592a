"""Production entry point: ``gunicorn fengqiao.wsgi:app``."""

from fengqiao.app import create_app
from fengqiao.jobs.sweep import start_inline_ticker

app = create_app()
start_inline_ticker(app, on_first_request=True)  # only without Redis: this process sweeps
