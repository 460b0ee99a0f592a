"""The JSON API under ``/api/v1``: bearer tokens for integrations, one error shape.

The routes live in this package's modules, on the blueprint of :mod:`fengqiao.api.blueprint`;
:func:`init_api` loads them, so importing one module here does not load them all.
"""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    from fengqiao.api import (  # noqa: F401  (routes)
        addresses,
        auth,
        cases,
        form_uploads,
        forms,
        inbound,
        inbox,
        jobs,
        metrics,
        notification_settings,
        openapi,
        orgs,
        queue_filters,
        system,
        track,
        users,
        webhooks,
    )
    from fengqiao.api.blueprint import api_bp
    from fengqiao.csrf import csrf

    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie-authenticated writes
    app.register_blueprint(api_bp)
