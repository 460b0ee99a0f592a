"""Health and plugin facts."""

from __future__ import annotations

from flask import jsonify

from fengqiao.access import requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document
from fengqiao.plugins.loader import plugin_report


@api_bp.get("/plugins")
@requires("plugins.manage")
def list_plugins():
    return jsonify(plugin_report())


document("/plugins", "get", "已安装插件及其状态", responses={200: "[{name,version,api_version,state,reason}]",
                                                        401: "未登录", 403: "无权限"})
