"""The installable app (issue 24 §1): manifest, service worker, 待上传 and the upload route the
offline queue sends photos through. The queue itself runs in the browser
(tests/browser/test_offline_forms.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.headers import CONTENT_SECURITY_POLICY
from fengqiao.models import Attachment, Case
from fengqiao.testing.plugin import csrf_token, png_bytes

STATIC = Path(__file__).resolve().parents[2] / "platform" / "fengqiao" / "static"
INCIDENT = {"summary": "楼道堆放杂物", "category": "安全隐患", "description": "3 幢 2 单元楼道堆满纸箱。",
            "location": {"address": "揽月花园 3 幢 2 单元"}}


def test_manifest_is_installable(client, demo):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    body = response.get_json()
    assert body["short_name"] == "枫桥" and body["display"] == "standalone"
    assert body["start_url"] == "/" and body["scope"] == "/"
    sizes = {icon["sizes"]: icon for icon in body["icons"]}
    assert set(sizes) == {"192x192", "512x512"}
    for size, icon in sizes.items():
        assert icon["type"] == "image/png"
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
        from PIL import Image

        assert "x".join(map(str, Image.open(io.BytesIO(image.data)).size)) == size


def test_service_worker_served_at_root_scope(client, demo):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    assert 'importScripts("/static/offline-queue.js")' in text
    # every file the worker keeps for offline use exists (a 404 would leave a hole offline)
    for url in re.findall(r'"/static/([^"]+)"', text):
        assert (STATIC / url).is_file(), url
    # the CSP is the same strict one (no inline script; the worker is a same-origin file)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY.split("script-src")[1].split(";")[0]


def test_pages_link_the_manifest_and_register_from_static_files(client, login_as):
    login_as("zhangmin")
    html = client.get("/forms/grid-incident").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert 'src="/static/offline.js"' in html and 'src="/static/offline-forms.js"' in html
    assert re.search(r'data-offline-user="\d+"', html)
    assert "<script>" not in html  # everything in static files (CSP)
    nav = client.get("/").get_data(as_text=True)
    assert 'href="/outbox"' in nav and "待上传" in nav


def test_outbox_page_is_a_shell_for_the_signed_in(client, demo, login_as):
    assert client.get("/outbox").status_code == 302  # to the login page
    login_as("zhangmin")
    response = client.get("/outbox")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "待上传" in html
    assert re.search(r'data-outbox-user="\d+"', html)  # the queue's owner, for the script
    assert re.search(r'name="csrf_token" value="[^"]+"', html)  # the queue sends with it
    assert response.headers["Cache-Control"] == "no-store"


def test_logout_lands_on_a_page_that_clears_the_caches(client, login_as):
    login_as("zhangmin")
    token = csrf_token(client, "/outbox")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.request.path == "/login"
    # offline.js without a user deletes the cached pages and form definitions
    assert '<script src="/static/offline.js" data-user="" defer></script>' in html
    assert 'rel="manifest"' not in html
    script = (STATIC / "offline.js").read_text()
    assert 'caches.delete("fq-pages")' in script and 'caches.delete("fq-api")' in script


def test_worker_caches_no_personal_api_data():
    """Only the form list and definitions of the API are kept; every other API path passes by."""
    text = (STATIC / "sw.js").read_text()
    assert "var FORM_API = /^\\/api\\/v1\\/forms(\\/[^/]+)?$/;" in text
    assert "/api/v1/cases" not in text
    assert 'request.method !== "GET"' in text  # submissions never go through a cache


def _upload(client, key="grid-incident", pointer="/photos", data=None, query="?version=1", signed_in=True):
    files = {"pointer": pointer, "file": (io.BytesIO(data if data is not None else png_bytes()), "现场.png")}
    headers = {"X-CSRFToken": csrf_token(client, "/outbox")} if signed_in else {}
    return client.post(f"/api/v1/forms/{key}/uploads{query}", data=files, headers=headers,
                       content_type="multipart/form-data")


def test_queued_photos_upload_then_one_case_per_key(app, client, login_as):
    """What the offline queue does: upload the photo, then submit twice with one key."""
    login_as("zhangmin")
    uploaded = _upload(client)
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    photo = uploaded.get_json()["id"]
    token = csrf_token(client, "/outbox")
    headers = {"Idempotency-Key": "0f6b1d3e-offline-1", "X-CSRFToken": token}
    body = dict(INCIDENT, photos=[photo])
    first = client.post("/api/v1/forms/grid-incident/submissions?version=1", json=body, headers=headers)
    again = client.post("/api/v1/forms/grid-incident/submissions?version=1", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["case_number"] == again.get_json()["case_number"]
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count(Case.id)).where(Case.title == "楼道堆放杂物")) == 1
        assert db.get(Attachment, photo).submission_id is not None


def test_upload_refusals_are_422_in_chinese(client, demo, login_as):
    assert _upload(client, signed_in=False).status_code == 401  # a staff form: sign in first
    login_as("zhangmin")
    not_a_file = _upload(client, pointer="/summary")
    assert not_a_file.status_code == 422
    assert not_a_file.get_json()["errors"][0]["pointer"] == "/pointer"
    fake = _upload(client, data=b"not a picture at all")
    assert fake.status_code == 422
    error = fake.get_json()["errors"][0]
    assert error["pointer"] == "/photos" and "类型不支持" in error["message"]
    assert _upload(client, query="?version=x").status_code == 422
    assert _upload(client, key="no-such-form").status_code == 404
    assert _upload(client, pointer="/photos/../x").status_code == 422


def test_upload_needs_the_csrf_header_with_a_cookie(client, login_as):
    login_as("zhangmin")
    response = client.post("/api/v1/forms/grid-incident/uploads?version=1", content_type="multipart/form-data",
                           data={"pointer": "/photos", "file": (io.BytesIO(png_bytes()), "a.png")})
    assert response.status_code == 400
