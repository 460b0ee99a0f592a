"""Filling a published form in HTML, without JavaScript: errors keep input, files survive."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import Attachment, Case
from fengqiao.testing.plugin import csrf_token


def _png() -> bytes:
    """A real picture: uploads are decoded and re-encoded, so a bare PNG signature is refused."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


PNG = _png()


def _errors(html: str) -> list[str]:
    return re.findall(r'class="error" role="alert">([^<]+)<', html)


def _case_count(app) -> int:
    with app.app_context():
        return db.scalar(sa.select(sa.func.count(Case.id)))


def test_resident_fills_a_public_form(client, demo):
    page = client.get("/forms/livelihood-request").get_data(as_text=True)
    assert "民生诉求" in page and "诉求类型" in page and 'name="csrf_token"' in page
    token = csrf_token(client, "/forms/livelihood-request")
    base = {"csrf_token": token, "fq_version": "1", "request_type": "help", "summary": "独居老人家中停水",
            "content": "揽月花园3幢陈德福家停水一天。", "caller_name": "陈德福"}
    bad = client.post("/forms/livelihood-request", data={**base, "caller_mobile": "138001380"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "请输入 11 位手机号码" in _errors(html)
    assert "独居老人家中停水" in html and "揽月花园3幢陈德福家停水一天。" in html  # nothing lost
    assert _case_count(demo) == 0
    ok = client.post("/forms/livelihood-request?org=339901001001", data={**base, "caller_mobile": "13800138000"})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/forms/livelihood-request/done")
    done = client.get(ok.headers["Location"]).get_data(as_text=True)
    number = re.search(r'class="case-number">([^<]+)<', done).group(1)
    assert number.startswith("GD-") and re.search(r'class="tracking-code">[2-9A-Z]{8}<', done)
    with demo.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        assert case.org.code == "339901001001" and case.data["caller_mobile"] == "13800138000"


def test_unreadable_numbers_are_reported_with_everything_else(client, login_as):
    login_as("zhangmin")
    token = csrf_token(client, "/forms/grid-incident")
    response = client.post("/forms/grid-incident", data={
        "csrf_token": token, "fq_version": "1", "summary": "楼道堆物", "people_involved": "三个",
        "handled_on_spot": "y"})
    errors = _errors(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "应填写整数" in errors and errors.count("此项为必填项") >= 3


def test_staff_form_redirects_anonymous_to_login(client, demo):
    response = client.get("/forms/grid-incident")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_repeatable_group_rows_without_javascript(client, login_as):
    login_as("fengguoping")
    token = csrf_token(client, "/forms/dispute-registration")
    page = client.get("/forms/dispute-registration").get_data(as_text=True)
    assert 'name="parties-1-name"' in page  # minItems 2 → two rows to start with
    added = client.post("/forms/dispute-registration", data={
        "csrf_token": token, "fq_version": "1", "parties-0-name": "钱芳", "parties-0-role": "申请人",
        "parties-1-name": "李志刚", "_row": "add:parties"})
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and 'name="parties-2-name"' in html and "钱芳" in html
    removed = client.post("/forms/dispute-registration", data={
        "csrf_token": token, "fq_version": "1", "parties-0-name": "钱芳", "parties-1-name": "李志刚",
        "parties-2-name": "王五", "_row": "remove:parties-1"})
    html = removed.get_data(as_text=True)
    assert "李志刚" not in html and "王五" in html and "钱芳" in html
    assert _case_count(client.application) == 0


def test_uploads_survive_a_validation_error(client, demo):
    token = csrf_token(client, "/forms/livelihood-request")
    first = client.post("/forms/livelihood-request", content_type="multipart/form-data", data={
        "csrf_token": token, "fq_version": "1", "request_type": "help", "caller_name": "陈德福",
        "photos": [(io.BytesIO(PNG), "现场.png")]})
    html = first.get_data(as_text=True)
    assert first.status_code == 422 and "已上传：现场.png" in html
    kept = re.search(r'name="photos__kept" value="(att_[^"]+)"', html).group(1)
    second = client.post("/forms/livelihood-request?org=339901001001", data={
        "csrf_token": token, "fq_version": "1", "request_type": "help", "summary": "停水",
        "content": "停水一天", "caller_name": "陈德福", "caller_mobile": "13800138000", "photos__kept": kept})
    assert second.status_code == 303
    with client.application.app_context():
        attachment = db.get(Attachment, kept)
        assert attachment.submission_id is not None and attachment.content_type == "image/png"
        case = db.scalar(sa.select(Case))
        assert case.data["photos"] == [kept]


def test_wrong_file_types_are_refused_by_content(client, demo):
    token = csrf_token(client, "/forms/livelihood-request")
    response = client.post("/forms/livelihood-request", content_type="multipart/form-data", data={
        "csrf_token": token, "fq_version": "1", "photos": [(io.BytesIO(b"<script>alert(1)</script>"), "x.png")]})
    assert "类型不支持" in response.get_data(as_text=True)
    with client.application.app_context():
        assert db.scalar(sa.select(sa.func.count(Attachment.id))) == 0


def test_draft_save_and_resume(client, login_as):
    login_as("zhangmin")
    token = csrf_token(client, "/forms/grid-incident")
    saved = client.post("/forms/grid-incident", data={
        "csrf_token": token, "fq_version": "1", "summary": "窨井盖破损", "_action": "save_draft"})
    assert saved.status_code == 302 and "draft=1" in saved.headers["Location"]
    resumed = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'value="窨井盖破损"' in resumed and "草稿已保存" in resumed
    assert 'value="窨井盖破损"' in client.get("/forms/grid-incident").get_data(as_text=True)  # the form link reopens it
    assert "窨井盖破损" not in client.get("/forms/grid-incident?draft=0").get_data(as_text=True)  # 重新填写


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_expired_csrf_keeps_input(client, demo):
    response = client.post("/forms/livelihood-request", data={"fq_version": "1", "summary": "我的诉求"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "页面已过期" in html and "我的诉求" in html


def test_links_may_prefill_text_and_choice_fields(client, demo):
    """A poster or a plugin page links to a form with values filled in (still editable)."""
    html = client.get("/forms/livelihood-request?request_type=help&summary=<b>路灯</b>&fq_version=9"
                      "&csrf_token=x").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="request_type"[^>]*value="help"', html)
    assert 'value="&lt;b&gt;路灯&lt;/b&gt;"' in html  # escaped, never markup
    assert re.search(r'name="fq_version" type="hidden" value="1"', html)  # not from the query
    plain = client.get("/forms/livelihood-request").get_data(as_text=True)
    assert not re.search(r'<input checked[^>]*name="request_type"', plain)
