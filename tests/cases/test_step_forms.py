"""Issue 20: a step's own form — photo and file fields (整改照片, 整改材料), required or not, the
须有附件 guard counting only what this step uploads, and what the step recorded shown in the
history (titles, thumbnails and download links through the checked attachment route)."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from case_helpers import act, act_ok, last_event, publish_version

from fengqiao.db import db
from fengqiao.models import Attachment, Case, Submission
from fengqiao.testing.plugin import png_bytes, submit_form, upload_photo

LANYUE, WATER = "339901001001", "339901906"
REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PHOTOS = {"type": "array", "title": "整改照片", "items": {"type": "string", "format": "attachment"}, "maxItems": 9}
PAPERS = {"type": "array", "title": "整改材料",
          "items": {"type": "string", "format": "attachment", "contentMediaType": "*/*"}, "maxItems": 9}


def _reply_with_files(required_photos: bool, guard: bool = True):
    """办结反馈 asks for 整改照片 (required or not) and 整改材料 (any type); 须有附件 if ``guard``."""
    def change(definition):
        reply = next(t for t in definition["workflow"]["transitions"] if t["name"] == "reply")
        photos = {**PHOTOS, "minItems": 1} if required_photos else dict(PHOTOS)
        reply["fields"]["properties"].update(rectify_photos=photos, papers=PAPERS)
        if required_photos:
            reply["fields"]["required"] = [*reply["fields"]["required"], "rectify_photos"]
        if guard:
            reply["guards"] = [*reply.get("guards", []), "attachment_required"]
    return change


def _handling_case(client, bearer) -> str:
    """A request filed at 揽月社区, dispatched by the street to 水务集团, which signed for it."""
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    act_ok(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    act_ok(client, bearer("shuiwu"), number, "acknowledge")
    return number


def _attach_report_photo(app, number) -> None:
    """The report's own photo, as the fill page stores it (linked to the submission)."""
    with app.app_context():
        submission = db.scalar(sa.select(Submission.id).join(Case, Submission.case_id == Case.id)
                               .where(Case.number == number))
        db.add(Attachment(id="att_reportphoto1111111111", filename="现场.png", content_type="image/png", size=10,
                          sha256="0" * 64, storage_key="re/att_reportphoto1111111111", submission_id=submission))
        db.commit()


def _upload_file(client, number, headers, data: bytes, name: str, kind: str = "files"):
    return client.post(f"/api/v1/cases/{number}/{kind}", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name)})


def test_attachment_required_is_not_satisfied_by_the_reports_photo(app, client, bearer):
    """Regression: 须有附件 used to count every file of the case, so the resident's report photo
    let 办结反馈 through with no 整改 evidence at all."""
    publish_version(app, "livelihood_request", _reply_with_files(required_photos=False))
    number = _handling_case(client, bearer)
    _attach_report_photo(app, number)
    water = bearer("shuiwu")
    bare = act(client, water, number, "reply", comment="已修复", fields={"reply": "管道已修复"})
    assert bare.status_code == 422, bare.get_json()
    problem = bare.get_json()["errors"][0]
    assert problem["message"] == "此步骤须上传照片或附件" and problem["pointer"] == "/fields/rectify_photos"
    # the report's photo named as this step's is refused too (not a fresh upload of this user)
    reused = act(client, water, number, "reply", comment="已修复",
                 fields={"reply": "管道已修复", "rectify_photos": ["att_reportphoto1111111111"]})
    assert reused.status_code == 422 and "照片无效" in reused.get_json()["errors"][0]["message"]
    # a document through the file field satisfies it
    paper = _upload_file(client, number, water, PDF, "验收单.pdf")
    assert paper.status_code == 201, paper.get_json()
    done = act(client, water, number, "reply", comment="已修复",
               fields={"reply": "管道已修复", "papers": [paper.get_json()["id"]]})
    assert done.status_code == 200, done.get_json()
    assert last_event(app, number, "reply").changes["papers"] == [paper.get_json()["id"]]


def test_a_required_photo_field_names_itself_and_takes_only_pictures(app, client, bearer):
    publish_version(app, "livelihood_request", _reply_with_files(required_photos=True))
    number = _handling_case(client, bearer)
    water = bearer("shuiwu")
    missing = act(client, water, number, "reply", comment="已修复", fields={"reply": "管道已修复"})
    assert missing.status_code == 422
    assert {"pointer": "/fields/rectify_photos", "message": "请上传整改照片"}.items() <= \
        missing.get_json()["errors"][0].items()
    # a photo field takes pictures only: a PDF (uploaded for the file field) is refused in it
    paper = _upload_file(client, number, water, PDF, "验收单.pdf").get_json()["id"]
    wrong = act(client, water, number, "reply", comment="已修复",
                fields={"reply": "管道已修复", "rectify_photos": [paper]})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["pointer"] == "/fields/rectify_photos/0"
    # the photo upload route stays pictures-only; a fake picture is refused by sniffing
    assert _upload_file(client, number, water, PDF, "x.pdf", "photos").status_code == 422
    assert _upload_file(client, number, water, b"not a picture at all", "x.png", "files").status_code == 422
    photo = upload_photo(client, number, water, "整改后.png")
    done = act(client, water, number, "reply", comment="已修复",
               fields={"reply": "管道已修复", "rectify_photos": [photo], "papers": [paper]})
    assert done.status_code == 200, done.get_json()


def test_file_upload_only_when_a_step_asks_for_files(app, client, bearer):
    publish_version(app, "livelihood_request", _reply_with_files(required_photos=False, guard=False))
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    act_ok(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    water = bearer("shuiwu")
    early = _upload_file(client, number, water, PDF, "a.pdf")  # 签收 asks for no files
    assert early.status_code == 403
    act_ok(client, water, number, "acknowledge")
    assert _upload_file(client, number, water, PDF, "a.pdf").status_code == 201


def test_another_communitys_staff_gets_404_on_upload_and_step(app, client, bearer, login_as):
    publish_version(app, "livelihood_request", _reply_with_files(required_photos=False))
    number = _handling_case(client, bearer)
    other = bearer("hanzhiming")  # 桥东社区: not this case's community
    assert _upload_file(client, number, other, png_bytes(), "a.png", "photos").status_code == 404
    assert _upload_file(client, number, other, PDF, "a.pdf", "files").status_code == 404
    assert client.post(f"/api/v1/cases/{number}/actions/reply", headers=other,
                       json={"version": 3, "comment": "x", "fields": {"reply": "x"}}).status_code == 404
    page = login_as("hanzhiming")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/").get_data(as_text=True))
    posted = page.post(f"/cases/{number}", content_type="multipart/form-data", data={
        "csrf_token": token.group(1) if token else "", "version": "3", "action": "reply", "comment": "x",
        "field_reply": "x", "field_papers": (io.BytesIO(PDF), "a.pdf")})
    assert posted.status_code == 404


def _page_form(page, number) -> tuple[str, str, str]:
    html = page.get(f"/cases/{number}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    return html, token, version


def test_the_case_page_takes_photos_and_files_and_the_history_shows_them(app, client, bearer, login_as):
    """Without JavaScript: the step's form posts its files with the rest (multipart)."""
    publish_version(app, "livelihood_request", _reply_with_files(required_photos=True))
    number = _handling_case(client, bearer)
    page = login_as("shuiwu")
    html, token, version = _page_form(page, number)
    assert re.search(r'name="field_rectify_photos" type="file" accept="image/\*"[^>]*multiple', html)
    assert re.search(r'name="field_papers" type="file" accept="image/\*,\.pdf,\.docx,\.xlsx"[^>]*multiple', html)
    # the required photo left out: refused with the field's own message, nothing changes
    missing = page.post(f"/cases/{number}", content_type="multipart/form-data", data={
        "csrf_token": token, "version": version, "action": "reply", "comment": "已修复", "field_reply": "管道已修复"})
    assert missing.status_code == 422 and "请上传整改照片" in missing.get_data(as_text=True)
    # too many files for a field: refused before any is stored
    many = page.post(f"/cases/{number}", content_type="multipart/form-data", data={
        "csrf_token": token, "version": version, "action": "reply", "comment": "已修复", "field_reply": "管道已修复",
        "field_rectify_photos": [(io.BytesIO(png_bytes()), f"{i}.png") for i in range(10)]})
    assert many.status_code == 422 and "最多上传 9 个文件" in many.get_data(as_text=True)
    done = page.post(f"/cases/{number}", content_type="multipart/form-data", data={
        "csrf_token": token, "version": version, "action": "reply", "comment": "已修复，联系人 13800138000",
        "field_reply": "管道已修复",
        "field_rectify_photos": (io.BytesIO(png_bytes((10, 200, 10))), "整改后.png"),
        "field_papers": (io.BytesIO(PDF), "验收单.pdf")})
    assert done.status_code == 302, done.get_data(as_text=True)
    event = last_event(app, number, "reply")
    with app.app_context():
        files = {a.filename: a.id for a in db.scalars(sa.select(Attachment).where(
            Attachment.id.in_([*event.changes["rectify_photos"], *event.changes["papers"]])))}
    assert set(files) == {"整改后.png", "验收单.pdf"}
    html = page.get(f"/cases/{number}").get_data(as_text=True)
    row = html[html.index('data-action="reply"', html.index('class="timeline"')):]
    row = row.split("<li data-action=")[0]  # up to the next history row
    assert "答复内容：管道已修复" in row and "整改照片：1 个附件" in row and "整改材料：1 个附件" in row
    photo_url = f"/cases/{number}/attachments/{files['整改后.png']}"
    paper_url = f"/cases/{number}/attachments/{files['验收单.pdf']}"
    assert f'<img class="step-thumb" src="{photo_url}"' in row
    assert f'<a class="step-file" href="{paper_url}">验收单.pdf</a>' in row
    assert "13800138000" not in html  # personal data in the comment masked as elsewhere
    assert page.get(photo_url).status_code == 200 and page.get(paper_url).status_code == 200
    # the files are served through the checked route only: another community gets 404
    other = app.test_client()
    from fengqiao.testing.plugin import login
    login(other, "hanzhiming")
    assert other.get(photo_url).status_code == 404
    with app.app_context():
        assert db.scalar(sa.select(Case.state).where(Case.number == number)) == "replied"


def test_a_step_post_without_the_csrf_token_is_refused(app, client, bearer, login_as):
    publish_version(app, "livelihood_request", _reply_with_files(required_photos=False))
    number = _handling_case(client, bearer)
    page = login_as("shuiwu")
    _html, _token, version = _page_form(page, number)
    forged = page.post(f"/cases/{number}", content_type="multipart/form-data", data={
        "version": version, "action": "reply", "comment": "已修复", "field_reply": "管道已修复",
        "field_papers": (io.BytesIO(PDF), "验收单.pdf")})
    assert forged.status_code == 400
    with app.app_context():
        assert db.scalar(sa.select(Case.state).where(Case.number == number)) == "handling"
        assert db.scalar(sa.select(sa.func.count()).select_from(Attachment)
                         .where(Attachment.filename == "验收单.pdf")) == 0


def test_a_shipped_step_record_never_shows_file_ids(app, client, bearer, login_as):
    """办理登记 (steps.records) counts a step's files instead of listing their ids."""
    publish_version(app, "livelihood_request", _reply_with_files(required_photos=False))
    number = _handling_case(client, bearer)
    water = bearer("shuiwu")
    photo = upload_photo(client, number, water, "整改后.png")
    act_ok(client, water, number, "reply", comment="已修复", fields={"reply": "管道已修复", "rectify_photos": [photo]})
    html = login_as("luojia").get(f"/cases/{number}").get_data(as_text=True)
    records = html[html.index('class="card step-records"'):]
    records = records[:records.index("</section>")]
    assert "整改照片" in records and "1 个附件" in records and photo not in records
