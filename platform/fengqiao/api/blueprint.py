"""The API's blueprint, which every route module under :mod:`fengqiao.api` adds to."""

from __future__ import annotations

from flask import Blueprint

from fengqiao.csrf import protect_cookie_writes

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
api_bp.before_request(protect_cookie_writes)  # cookie writes need X-CSRFToken (plugin APIs too)
