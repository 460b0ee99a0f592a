"""Form engine benchmarks (issue: form engine), each against a baseline in the same run.

(a) one API submission (HTTP handling, normalising, validation, case number, case +
    submission rows, commit) vs the raw baseline "cached validator + one INSERT + commit"
    on the same SQLite database — target ≤ 1.6×;
(b) rendering a 40-field form page vs plain WTForms + Jinja rendering the same fields —
    target ≤ 1.2×;
(c) building a Draft202012Validator per call vs the cached one — proves the cache is used.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import jsonschema
import report
import sqlalchemy as sa
from flask import render_template_string
from wtforms import Form, StringField

from fengqiao.app import create_app
from fengqiao.db import db
from fengqiao.demo_data import load_demo_data
from fengqiao.forms import store
from fengqiao.forms.render import compiled_form
from fengqiao.migrate import upgrade
from fengqiao.models import Submission
from fengqiao.validation import FORMAT_CHECKER, problems, validator_for

DATA = {"request_type": "complaint", "summary": "湖滨路烧烤店夜间油烟噪音扰民",
        "content": "每晚十点后油烟和噪音很大。", "caller_name": "陈德福",
        "caller_mobile": "13800138000", "id_card": "339901195203140111"}

FORTY = {
    "key": "forty-fields", "title": "四十项表单", "access": "public",
    "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
               "properties": {f"f{i:02d}": {"type": "string", "title": f"第{i}项", "maxLength": 100}
                              for i in range(40)},
               "additionalProperties": False},
    "ui": {"order": [f"f{i:02d}" for i in range(40)]},
}

PLAIN_TEMPLATE = """{% extends "base.html" %}{% block content %}
<form method="post">{{ form.csrf_token }}{% for field in form %}
<div class="field"><label for="{{ field.id }}">{{ field.label.text }}</label>{{ field() }}</div>
{% endfor %}<button class="btn">提交</button></form>{% endblock %}"""


def _median_ms(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app({"mode": "testing", "database_url": url, "instance_path": tmp, "plugins": [],
                          "rate_limits": {"public_submit": "1000000/minute"}})
        upgrade(app.extensions["fengqiao.db"].engine)
        with app.app_context():
            load_demo_data()
            store.publish(store.save_draft(FORTY))
            db.commit()
            version = store.get_version("livelihood-request")
            schema = version.definition["schema"]
            validator = validator_for(schema)
        client = app.test_client()

        # (a) submissions
        engine = app.extensions["fengqiao.db"].engine
        insert = sa.insert(Submission).values(form_version_id=version.id, data=DATA, channel="api",
                                              created_at=sa.func.current_timestamp())

        def raw():
            assert not problems(validator, DATA)
            with engine.begin() as conn:
                conn.execute(insert)

        def api():
            assert client.post("/api/v1/forms/livelihood-request/submissions", json=DATA).status_code == 201

        for fn in (raw, api):
            fn()
        raw_ms, api_ms = _median_ms(raw, 300), _median_ms(api, 300)
        print(f"(a) submission: API {api_ms:.2f} ms vs cached validator + INSERT {raw_ms:.2f} ms "
              f"-> {api_ms / raw_ms:.2f}x (target <= 1.6x)")
        report.record("forms", "API submission vs validator + INSERT", api_ms, raw_ms, api_ms / raw_ms,
                      "≤ 1.6×", report.at_most(api_ms / raw_ms, 1.6), unit=" ms")

        # (b) rendering 40 fields
        with app.app_context():
            compiled = compiled_form(store.get_version("forty-fields"))

        def ours():
            assert client.get("/forms/forty-fields").status_code == 200

        plain_class = type("Plain", (Form,), {f"f{i:02d}": StringField(f"第{i}项") for i in range(40)})

        def plain():
            with app.test_request_context("/forms/forty-fields"):
                form = plain_class()
                form.csrf_token = ""
                render_template_string(PLAIN_TEMPLATE, form=form)

        def ours_in_process():
            with app.test_request_context("/forms/forty-fields"):
                app.view_functions["web.form_fill"](key="forty-fields")

        for fn in (ours, plain, ours_in_process):
            fn()
        ours_ms, plain_ms = _median_ms(ours_in_process, 200), _median_ms(plain, 200)
        with app.app_context():
            reused = compiled is compiled_form(store.get_version("forty-fields"))
        print(f"(b) 40-field page: ours {ours_ms:.2f} ms vs plain WTForms+Jinja {plain_ms:.2f} ms "
              f"-> {ours_ms / plain_ms:.2f}x (target <= 1.2x); compiled class reused: {reused}")
        report.record("forms", "40-field page vs plain WTForms+Jinja", ours_ms, plain_ms, ours_ms / plain_ms,
                      "≤ 1.2×", report.at_most(ours_ms / plain_ms, 1.2), unit=" ms")

        # (c) validator cache
        def per_call():  # what jsonschema.validate() does on every call
            jsonschema.validate(DATA, schema, format_checker=FORMAT_CHECKER)

        def cached():
            validator.is_valid(DATA)

        per_ms, cached_ms = _median_ms(per_call, 300), _median_ms(cached, 300)
        print(f"(c) validator: built per call {per_ms:.3f} ms vs cached {cached_ms:.3f} ms "
              f"-> cache is {per_ms / cached_ms:.1f}x faster; same object each call: "
              f"{validator_for(schema) is validator}")
        report.record("forms", "validator per call vs cached", per_ms, cached_ms, per_ms / cached_ms,
                      "cache used (same object, faster)",
                      validator_for(schema) is validator and per_ms > cached_ms, unit=" ms")
        app.extensions["fengqiao.db"].dispose()


if __name__ == "__main__":
    main()
