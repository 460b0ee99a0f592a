"""The load test's baseline: a Flask app doing nothing, served by the same gunicorn setup.

It answers the same HTTP shape as a form submission (a JSON POST answered 201 with a small
JSON body) so the ratio measures what Fengqiao does per request, not HTTP or the driver.
Run: ``gunicorn -w 2 --pythonpath bench trivial_app:app``.
"""

from __future__ import annotations

from flask import Flask, request

app = Flask("trivial")


@app.post("/submit")
def submit():
    data = request.get_json(silent=True) or {}
    return {"case_number": "T", "fields": len(data)}, 201


@app.get("/ping")
def ping():
    return {"ok": True}
