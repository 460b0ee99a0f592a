"""``create_app``: the only place that wires the parts together."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_babel import Babel

from fengqiao.access import enforce_access
from fengqiao.accounts.auth import init_auth
from fengqiao.caches import init_caches
from fengqiao.config import Settings, load_settings
from fengqiao.csrf import csrf
from fengqiao.db import Database, make_engine
from fengqiao.errors import register_error_handlers
from fengqiao.headers import init_security_headers
from fengqiao.input_guard import init_input_guard
from fengqiao.jobs.setup import init_jobs
from fengqiao.ratelimit import init_rate_limits
from fengqiao.themes import init_themes
from fengqiao.transaction import init_transactions

babel = Babel()


def create_app(config: dict[str, Any] | Settings | None = None) -> Flask:
    """Build an app from ``FENGQIAO_*`` settings; ``config`` overrides them (tests, demo)."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    app = Flask(
        "fengqiao",
        instance_path=str(settings.instance_path),
        instance_relative_config=True,
    )
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="fengqiao_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        JSON_AS_ASCII=False,
        TESTING=settings.mode == "testing",
    )
    app.json.ensure_ascii = False
    app.config.update({k.upper(): v for k, v in settings.extra.items()})
    app.extensions["fengqiao.settings"] = settings
    if settings.mode != "production":
        app.logger.setLevel(logging.INFO)
    if settings.mode == "testing":
        from fengqiao.accounts.passwords import use_fast_hashing

        use_fast_hashing()
    from fengqiao.logs import init_logging

    init_logging(app)  # first, so its request id exists before any other hook logs
    database = Database(make_engine(settings.database_url, settings.statement_timeout_seconds))
    database.init_app(app)
    init_caches(app)  # per-process caches checked against the database's stamps
    init_transactions(app)  # the request commits once at its end (fengqiao/transaction.py)
    init_jobs(app)
    init_auth(app)
    csrf.init_app(app)
    babel.init_app(app)
    init_themes(app, settings.theme)
    init_rate_limits(app)
    register_error_handlers(app)
    init_security_headers(app, settings.session_idle_minutes)
    init_input_guard(app)

    from fengqiao.api import init_api
    from fengqiao.web import init_web

    init_api(app)
    init_web(app)

    from fengqiao.plugins.loader import load_plugins

    load_plugins(app)
    from fengqiao.cases.workflow import init_case_types

    init_case_types(app)
    from fengqiao.cases.jobs import init_case_jobs

    init_case_jobs(app)
    enforce_access(app)
    return app


def settings_of(app: Flask) -> Settings:
    return app.extensions["fengqiao.settings"]
