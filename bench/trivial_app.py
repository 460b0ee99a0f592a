"""The load test's baselines, served by the same gunicorn setup as Fengqiao.

``POST /submit`` does nothing: it answers the same HTTP shape as a form submission (a JSON
POST answered 201 with a small JSON body) so the ratio measures what Fengqiao does per
request, not HTTP or the driver. ``POST /floor`` is the least any durable submission must
do: validate the body against the form's schema (a compiled jsonschema-rs validator) and
INSERT it in its own transaction on the load database (``FENGQIAO_DATABASE_URL``, table
``bench_floor``, created by ``bench_load.py``) — no accounts, numbering, deadlines or history.
Run: ``gunicorn -w 2 --pythonpath bench trivial_app:app``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from flask import Flask, request

app = Flask("trivial")
FORM = Path(__file__).resolve().parents[1] / "form_definitions" / "livelihood-request.json"
FLOOR_TABLE = "bench_floor"


@app.post("/submit")
def submit():
    data = request.get_json(silent=True) or {}
    return {"case_number": "T", "fields": len(data)}, 201


@cache
def _floor():
    import jsonschema_rs
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB

    schema = json.loads(FORM.read_text(encoding="utf-8"))["schema"]
    engine = sa.create_engine(os.environ["FENGQIAO_DATABASE_URL"], pool_size=2)
    table = sa.table(FLOOR_TABLE, sa.column("id"), sa.column("data", JSONB))
    return jsonschema_rs.Draft202012Validator(schema), engine, table


@app.post("/floor")
def floor():
    validator, engine, table = _floor()
    data = request.get_json(silent=True)
    if not validator.is_valid(data):
        return {"errors": [{"message": "invalid"}]}, 422
    with engine.begin() as conn:
        row_id = conn.execute(table.insert().values(data=data).returning(table.c.id)).scalar_one()
    return {"case_number": str(row_id)}, 201


@app.get("/ping")
def ping():
    return {"ok": True}
