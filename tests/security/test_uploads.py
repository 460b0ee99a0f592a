"""Upload safety: images decoded and re-encoded (metadata and appended payloads dropped,
bombs refused), markup in documents refused, files served only through the case's own
permission check, as downloads with a safe type."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from security_world import png_bytes
from werkzeug.datastructures import FileStorage

from fengqiao.forms.uploads import display_name, looks_like_markup, reencode_image, save_upload


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 20), "blue")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # orientation: rotate 90° when shown
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_jpeg_metadata_is_dropped_and_orientation_kept():
    original = _jpeg_with_gps()
    assert b"PhoneMaker" in original
    cleaned = reencode_image(original, "image/jpeg")
    assert cleaned is not None and b"PhoneMaker" not in cleaned and b"Exif" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.size == (20, 40)  # turned upright as the phone meant it
        assert not image.getexif()


def test_png_text_chunks_and_trailing_payload_are_dropped():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(out, "PNG", pnginfo=info)
    hostile = out.getvalue() + b"PK\x03\x04 a zip after the image"
    cleaned = reencode_image(hostile, "image/png")
    assert cleaned is not None and b"<script" not in cleaned and b"PK\x03\x04" not in cleaned


def test_decompression_bombs_and_wrong_types_are_refused():
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # ~20 kB on disk, 144 MP in memory
    assert len(out.getvalue()) < 200_000
    assert reencode_image(out.getvalue(), "image/png") is None
    assert reencode_image(png_bytes(), "image/jpeg") is None  # a PNG claiming to be a JPEG
    assert reencode_image(b"GIF89a" + b"\x00" * 20, "image/gif") is None


def test_animated_gif_keeps_its_frames():
    frames = [Image.new("RGB", (6, 6), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(out.getvalue())).n_frames == 3
    cleaned = reencode_image(out.getvalue(), "image/gif")
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.n_frames == 3


def test_markup_in_documents_is_refused(world):
    assert looks_like_markup(b"%PDF-1.7\n<html><script>x</script>")
    assert not looks_like_markup(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>")
    with world.app.test_request_context():
        problem = save_upload(FileStorage(io.BytesIO(b"%PDF-1.4\n<svg onload=alert(1)>"), "a.pdf"), "/f", False)
        assert isinstance(problem, tuple) and "内容可疑" in problem[1]
        kept = save_upload(FileStorage(io.BytesIO(b"%PDF-1.4\n1 0 obj\nendobj\n"), "证明.pdf"), "/f", False)
        assert kept.content_type == "application/pdf" and kept.filename == "证明.pdf"
        from fengqiao.db import db

        db.rollback()


@pytest.mark.parametrize(("raw", "shown"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\a\\照片.jpg", "照片.jpg"), ("..", "file"),
    ("a\x00\x1b[31mb.png", "a[31mb.png"), (None, "file"), ("/", "file"),
])
def test_display_names(raw, shown):
    assert display_name(raw) == shown


def test_files_live_outside_the_web_root(world):
    from pathlib import Path

    from fengqiao.db import db
    from fengqiao.models import Attachment

    with world.app.app_context():
        attachment = db.get(Attachment, world.attachment_a)
    stored = Path(world.app.instance_path) / "uploads" / attachment.storage_key
    assert stored.is_file()
    assert Path(world.app.static_folder) not in stored.parents
    assert world.bare.get(f"/static/../instance/uploads/{attachment.storage_key}").status_code == 404


def test_download_follows_the_case_permission(world):
    url = f"/cases/{world.case_a}/attachments/{world.attachment_a}"
    for persona in ("zhangmin", "shenli", "ducha", "lingdao"):
        response = world.clients[persona].get(url)
        assert response.status_code == 200, persona
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "no-store" in response.headers["Cache-Control"]
    for persona in ("hanzhiming", "zhifa"):
        assert world.clients[persona].get(url).status_code == 404, persona
    anonymous = world.clients["anonymous"].get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    # the file of case A asked for through case B: never served, even to the county
    crossed = world.clients["ducha"].get(f"/cases/{world.case_b}/attachments/{world.attachment_a}")
    assert crossed.status_code == 404
    assert world.clients["ducha"].get(f"/cases/{world.case_a}/attachments/att_nope").status_code == 404


def test_the_case_page_links_its_files(world):
    page = world.clients["shenli"].get(f"/cases/{world.case_a}").get_data(as_text=True)
    assert f'href="/cases/{world.case_a}/attachments/{world.attachment_a}"' in page
