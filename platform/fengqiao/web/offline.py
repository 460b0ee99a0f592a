"""The installable app (issue 24 §1): the web app manifest, the service worker and 待上传.

The service worker must be served from the site root to control every page (a script under
``/static/`` may only control ``/static/``), so ``/sw.js`` is a route that sends the static
file with ``Service-Worker-Allowed: /`` and ``no-cache`` (a new worker reaches phones at their
next visit, not after a day of HTTP caching). The queue itself lives in the browser
(IndexedDB, ``static/offline-queue.js``): 待上传 is a shell the script fills, so the server
never sees, and never caches, what waits on the phone.
"""

from __future__ import annotations

from flask import current_app, jsonify, render_template, send_from_directory, url_for

from fengqiao.access import login_required, public
from fengqiao.web.blueprint import web_bp

# What the phone shows for the installed app (the icons are PNG files under static/icons/).
MANIFEST = {
    "name": "枫桥基层治理平台",
    "short_name": "枫桥",
    "lang": "zh-CN",
    "dir": "ltr",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#b4442f",
}


@web_bp.get("/manifest.webmanifest")
@public
def web_manifest():
    """The manifest that makes the staff pages installable (start: the 工作台)."""
    body = dict(MANIFEST, id="/", start_url=url_for("web.dashboard"), scope="/", icons=[
        {"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
         "type": "image/png", "purpose": "any"}
        for size in (192, 512)
    ])
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@web_bp.get("/sw.js")
@public
def service_worker():
    """The service worker, with the root as its scope (see the module docstring)."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@web_bp.get("/outbox")
@login_required
def outbox():
    """待上传: the submissions this phone keeps for the signed-in user until they are sent."""
    return render_template("outbox.html")
