"""Health and plugin facts."""

from __future__ import annotations

from flask import jsonify

from fengqiao.access import requires
from fengqiao.api import api_bp
from fengqiao.plugins.loader import plugin_report


@api_bp.get("/plugins")
@requires("plugins.manage")
def list_plugins():
    return jsonify(plugin_report())
