"""Production entry point: ``gunicorn fengqiao.wsgi:app``."""

from fengqiao.app import create_app

app = create_app()
