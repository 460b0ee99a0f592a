"""The bad-input battery on every public endpoint: SQL-injection strings, script tags, path
traversal, polyglot files, oversized bodies, malformed JSON, invalid UTF-8 and 4-byte
characters give a 4xx with a clear Chinese message (or are stored inertly and escaped when
shown) — never a 500, never live markup.

The generic sweep covers every public route of the app, the core's and each installed
plugin's; the targeted tests pin the exact answers of the core's public endpoints.
"""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from security_world import COMMUNITY_A, png_bytes

from fengqiao.access import access_of

SCRIPT = "<script>alert('fq')</script>"
ATTRIBUTE = "\"><img src=x onerror=alert('fq')>"
PAYLOADS = [
    "' OR '1'='1' --",
    "1; DROP TABLE cases; --",
    "\" OR 1=1 UNION SELECT password_hash FROM users --",
    SCRIPT,
    ATTRIBUTE,
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "😀🏠𠀀",  # 4-byte UTF-8: emoji and a CJK Extension B character
    "a\x00b",
    "x" * 5000,
]
LIVE_MARKUP = (SCRIPT, "<img src=x onerror=")
# Known and reported, owned elsewhere: themes.py's ``Path.is_file()`` raises ENAMETOOLONG
# (fix: ``os.path.isfile``). Pinned by test_theme_file_with_a_huge_name below.
KNOWN = {("theme_static", "x" * 5000)}
FORM_FIELDS = ("number", "code", "q", "serial", "reason", "rating", "username", "password", "summary", "name")


def _public_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        access = access_of(app, rule.endpoint)
        if access is not None and access.kind == "public" and rule.endpoint not in ("static", "theme_static"):
            yield rule
        elif rule.endpoint.endswith("_static") or rule.endpoint in ("static", "theme_static"):
            yield rule  # file routes: traversal attempts in the path


def _url(rule, payload: str) -> str:
    path = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        value = "1" if converter == "IntegerConverter" else quote(payload, safe="")
        path = path.replace(f"<{name}>", value)
        for prefix in ("int:", "path:", "string:"):
            path = path.replace(f"<{prefix}{name}>", value)
    return path


def _no_live_markup(response) -> bool:
    if response.mimetype != "text/html":
        return True  # JSON and files are never rendered as a page (nosniff on every response)
    text = response.get_data(as_text=True)
    return not any(marker in text for marker in LIVE_MARKUP)


def test_every_public_endpoint_survives_the_battery(world):
    """Each payload in every path parameter, query parameter and posted field: < 500, and no
    page reflects it as live markup."""
    client = world.app.test_client()
    failures = []
    rules = list(_public_rules(world.app))
    assert any(r.endpoint == "api.create_submission" for r in rules)
    for rule in rules:
        for payload in PAYLOADS:
            url = _url(rule, payload)
            query = "&".join(f"{name}={quote(payload, safe='')}" for name in FORM_FIELDS)
            attempts = []
            if "GET" in rule.methods:
                attempts.append(("GET", client.get(f"{url}?{query}")))
            if "POST" in rule.methods:
                fields = {name: payload for name in FORM_FIELDS}
                if url.startswith("/api/"):
                    attempts.append(("POST json", client.post(f"{url}?{query}", json=fields)))
                else:
                    attempts.append(("POST form", client.post(f"{url}?{query}", data=fields)))
            for how, response in attempts:
                if (rule.endpoint, payload) in KNOWN:
                    continue
                if response.status_code >= 500 or not _no_live_markup(response):
                    failures.append(f"{rule.endpoint} {how} {payload[:30]!r}: {response.status_code}")
        # invalid UTF-8 in the query string and in a form body
        bad = client.get(_url(rule, "x") + "?number=%FF%FE&code=%C3%28")
        if bad.status_code >= 500:
            failures.append(f"{rule.endpoint} GET invalid UTF-8: {bad.status_code}")
        if "POST" in rule.methods:
            raw = client.post(_url(rule, "x"), data=b"number=%FF%FE&reason=\xff\xfe",
                              content_type="application/x-www-form-urlencoded")
            if raw.status_code >= 500:
                failures.append(f"{rule.endpoint} POST invalid UTF-8: {raw.status_code}")
    assert not failures, "\n".join(failures)


def test_theme_file_with_a_huge_name(world):
    assert world.bare.get("/theme/" + "x" * 5000).status_code == 404


def _errors(response) -> list[dict]:
    body = response.get_json()
    assert body and "errors" in body, response.get_data(as_text=True)
    return body["errors"]


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


SUBMIT = "/api/v1/forms/livelihood-request/submissions"
REQUEST = {"request_type": "complaint", "summary": "楼道堆物", "content": "三楼楼道堆放纸箱。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    (b'{"summary": "unterminated', "application/json", 400, "invalid_json"),
    (b'{"summary": "\xff\xfe bad utf-8"}', "application/json", 400, "invalid_json"),
    (b"summary=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"[1, 2, 3]", "application/json", 422, None),
    (b"x" * (3 * 1024 * 1024), "application/json", 413, "too_large"),
])
def test_submission_api_refuses_malformed_bodies(world, body, content_type, status, code):
    response = world.bare.post(SUBMIT, data=body, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    errors = _errors(response)
    assert all(_chinese(e["message"]) for e in errors)
    if code:
        assert errors[0]["code"] == code


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/track/X/reopen"])
def test_other_public_json_endpoints_refuse_malformed_json(world, path):
    for body in (b"{not json", b'{"username": "\xff"}'):
        response = world.bare.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code)
        assert _chinese(_errors(response)[0]["message"])


def test_script_and_emoji_are_stored_inertly_and_escaped_when_shown(world):
    data = {**REQUEST, "summary": f"{SCRIPT}😀", "content": f"{ATTRIBUTE} 𠀀 ' OR 1=1 --"}
    made = world.bare.post(f"{SUBMIT}?org={COMMUNITY_A}", json=data)
    assert made.status_code == 201, made.get_data(as_text=True)
    number, code = made.get_json()["case_number"], made.get_json()["tracking_code"]
    stored = world.bare.get(f"/api/v1/cases/{number}", headers=world.api_headers("shenli")).get_json()
    assert stored["data"]["summary"] == f"{SCRIPT}😀"  # kept exactly as typed: nothing lost
    assert stored["data"]["content"] == f"{ATTRIBUTE} 𠀀 ' OR 1=1 --"
    for page in (world.clients["shenli"].get(f"/cases/{number}"),
                 world.bare.get(f"/track?number={number}&code={code}"),
                 world.clients["shenli"].get("/queues")):
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert not any(marker in html for marker in LIVE_MARKUP)
    assert "&lt;script&gt;" in world.clients["shenli"].get(f"/cases/{number}").get_data(as_text=True)


def test_sql_injection_strings_are_plain_data(world):
    from fengqiao.db import db
    from fengqiao.models import Case

    with world.app.app_context():
        before = db.scalar(sa.select(sa.func.count()).select_from(Case))
    for probe in ("' OR '1'='1", f"{world.case_a}' --", "1; DROP TABLE cases; --"):
        track = world.bare.get(f"/api/v1/track/{quote(probe, safe='')}?code={quote(probe, safe='')}")
        assert track.status_code == 404 and _chinese(_errors(track)[0]["message"])
        page = world.bare.get(f"/track?number={quote(probe)}&code={quote(probe)}")
        text = page.get_data(as_text=True)
        assert page.status_code == 404 and ("未找到" in text or "不正确" in text)
        token = world.bare.post("/api/v1/auth/token", json={"username": probe, "password": probe})
        assert token.status_code == 401 and _errors(token)[0]["message"] == "用户名或密码错误"
        login = world.app.test_client().post("/login", data={"username": probe, "password": probe})
        assert login.status_code == 422 and "用户名或密码错误" in login.get_data(as_text=True)
    listing = world.bare.get("/api/v1/cases?q=" + quote("' OR 1=1 --"), headers=world.api_headers("ducha"))
    assert listing.status_code in (200, 422)
    with world.app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(Case)) == before


def test_four_byte_characters_in_login_and_tracking(world):
    login = world.app.test_client().post("/login", data={"username": "😀用户", "password": "𠀀" * 5})
    assert login.status_code == 422 and "用户名或密码错误" in login.get_data(as_text=True)
    track = world.bare.get("/api/v1/track/" + quote("😀") + "?code=" + quote("𠀀"))
    assert track.status_code == 404


# --- uploads through the public HTML form


def _fill(world, files: list[tuple[bytes, str]], **fields):
    client = world.app.test_client()
    data = {"fq_version": "1", **{k: v for k, v in REQUEST.items()}, **fields,
            "photos": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(f"/forms/livelihood-request?org={COMMUNITY_A}", data=data,
                       content_type="multipart/form-data")


def _attachment_of(world, number: str):
    from fengqiao.db import db
    from fengqiao.models import Attachment, Case, Submission

    with world.app.app_context():
        return db.scalars(
            sa.select(Attachment).join(Submission, Attachment.submission_id == Submission.id)
            .join(Case, Submission.case_id == Case.id).where(Case.number == number)).all()


def _submitted_number(world, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    from fengqiao.db import db
    from fengqiao.models import Case

    with world.app.app_context():
        return db.scalar(sa.select(Case.number).order_by(Case.id.desc()).limit(1))


def test_path_traversal_in_a_file_name_is_only_a_label(world):
    response = _fill(world, [(png_bytes(), "../../../../etc/passwd.png")])
    number = _submitted_number(world, response)
    [attachment] = _attachment_of(world, number)
    assert attachment.filename == "passwd.png"
    assert ".." not in attachment.storage_key and attachment.storage_key.endswith(attachment.id)
    stored = world.app.instance_path + "/uploads/" + attachment.storage_key
    with open(stored, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_polyglot_image_is_re_encoded_without_its_payload(world):
    payload = b"<html><script>alert('fq')</script></html>"
    response = _fill(world, [(png_bytes() + payload, "poster.png")])
    number = _submitted_number(world, response)
    [attachment] = _attachment_of(world, number)
    with open(world.app.instance_path + "/uploads/" + attachment.storage_key, "rb") as fh:
        kept = fh.read()
    assert b"<script" not in kept and kept.startswith(b"\x89PNG")
    download = world.clients["shenli"].get(f"/cases/{number}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == kept
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "image/png" and download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"<html><script>alert(1)</script></html>", "photo.png", "类型不支持"),  # HTML named .png
    (b"GIF89a/*" + b"\x00" * 8 + b"*/=1;alert(1)//", "gif.gif", "不是有效的图片"),  # GIF/JS polyglot
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "不是有效的图片"),  # a PNG header, no image
    (b"\xff\xd8\xff\xe0" + b"<svg onload=alert(1)>", "x.jpg", "不是有效的图片"),
])
def test_disguised_and_polyglot_files_are_refused_with_a_message(world, content, name, message):
    response = _fill(world, [(content, name)])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and not any(marker in html for marker in LIVE_MARKUP)
    assert "陈德福" in html or "楼道堆物" in html  # what was typed is kept


def test_oversized_upload_is_413_with_a_chinese_page(world):
    response = _fill(world, [(b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024), "big.png")])
    assert response.status_code == 413
    assert "提交内容过大" in response.get_data(as_text=True)


def test_invalid_utf8_in_the_html_form_is_a_4xx_or_kept_as_text(world):
    client = world.app.test_client()
    body = (b"fq_version=1&request_type=complaint&summary=%FF%FE%E4%BD&content=x&caller_name=%C3%28"
            b"&caller_mobile=13800138000")
    response = client.post(f"/forms/livelihood-request?org={COMMUNITY_A}", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400, 422)
    if response.status_code != 303:
        assert _chinese(response.get_data(as_text=True))


def test_json_values_of_the_wrong_shape_get_field_messages(world):
    response = world.bare.post(SUBMIT, data=json.dumps({**REQUEST, "summary": {"$ne": 1},
                                                        "caller_mobile": ["13800138000"]}),
                               content_type="application/json")
    assert response.status_code == 422
    pointers = {e["pointer"] for e in _errors(response)}
    assert {"/summary", "/caller_mobile"} <= pointers
    assert all(_chinese(e["message"]) for e in _errors(response))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_text_postgresql_cannot_store_is_a_400_not_a_500(client, demo):
    """NUL and lone surrogates pass SQLite but make PostgreSQL (or UTF-8) fail: refused early."""
    from fengqiao.input_guard import MESSAGE
    from fengqiao.testing.plugin import csrf_token

    nul = {**REQUEST, "summary": "路灯\x00不亮"}
    attempts = [
        client.post(f"{SUBMIT}?org={COMMUNITY_A}", json=nul),
        client.post(f"{SUBMIT}?org={COMMUNITY_A}", data=b'{"summary": "\\ud800", "content": "x"}',
                    content_type="application/json"),
        client.post("/api/v1/auth/token", json={"username": "a\x00b", "password": "x\x00y"}),
        client.get("/api/v1/track/WG%00X?code=A%00B"),
        client.get("/api/v1/forms/livelihood-request?x=%00"),
        client.post("/api/v1/track/WG-1/reopen", json={"code": "\x00", "reason": "x"}),
    ]
    for response in attempts:
        assert response.status_code == 400, (response.request.path, response.status_code)
        assert _errors(response)[0] == {"pointer": "", "message": MESSAGE, "code": "invalid_character"}
    pages = [
        client.get("/track?number=WG%00X&code=A%00B"),
        client.post("/login", data={"username": "a\x00b", "password": "x", "csrf_token": csrf_token(client)}),
        client.post(f"/forms/livelihood-request?org={COMMUNITY_A}", data={
            **REQUEST, "fq_version": "1", "summary": "a\x00b",
            "csrf_token": csrf_token(client, "/forms/livelihood-request")}),
    ]
    for page in pages:
        assert page.status_code == 400 and MESSAGE in page.get_data(as_text=True)
    fine = client.post(f"{SUBMIT}?org={COMMUNITY_A}", json={**REQUEST, "summary": "路灯不亮😀𠀀"})
    assert fine.status_code == 201  # 4-byte characters are stored as they are
