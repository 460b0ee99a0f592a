"""Image bombs and file floods on anonymous public forms: refused from the picture's header
(pixels × frames, frame count) and from the number of files, before anything is decoded.

The bomb is the one reported in issue 17: 940 bytes, 40 one-pixel frames on a 4000×4000
canvas. Pillow paints every frame onto the whole canvas, so decoding and re-encoding it took
~20-40 s of CPU before the header check existed.
"""

from __future__ import annotations

import io
import struct
import time

import sqlalchemy as sa
from PIL import Image
from security_world import png_bytes

from fengqiao import sdk
from fengqiao.forms import uploads
from fengqiao.forms.uploads import reencode_image

QUICK = 2.0  # seconds: the acceptance bound for refusing a bomb
URL = "/forms/livelihood-request"


def gif_bomb(frames: int = 40, width: int = 4000, height: int = 4000) -> bytes:
    """A GIF whose logical screen is ``width × height`` holding ``frames`` 1×1 frames (~1 KB)."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = (b"\x21\xf9\x04\x00" + struct.pack("<H", 1) + b"\x00\x00"  # graphic control: 10 ms
             + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)  # a 1×1 image at the corner
             + b"\x02\x02\x44\x01\x00")  # LZW: clear, pixel 0, end
    return head + frame * frames + b"\x3b"


BOMB = gif_bomb()


def test_the_bomb_is_what_the_report_describes():
    assert len(BOMB) < 1024
    with Image.open(io.BytesIO(BOMB)) as image:  # Pillow reads it as the attacker meant
        assert image.size == (4000, 4000) and image.n_frames == 40


def _timed(func, *args):
    # CPU time of this process (the request runs in it): what the refusal cost, not how long
    # other test processes kept the CPU busy
    started = time.process_time()
    result = func(*args)
    return result, time.process_time() - started


def test_reencode_and_the_sdk_refuse_the_bomb_from_its_header():
    result, seconds = _timed(reencode_image, BOMB, "image/gif")
    assert result is None and seconds < QUICK, seconds
    result, seconds = _timed(sdk.safe_image, BOMB)  # what plugins (积分超市 photos) call
    assert result is None and seconds < QUICK, seconds


def test_too_many_frames_are_refused_even_when_small():
    many = gif_bomb(frames=uploads.MAX_FRAMES + 1, width=8, height=8)
    assert reencode_image(many, "image/gif") is None
    few = gif_bomb(frames=3, width=8, height=8)
    assert reencode_image(few, "image/gif") is not None  # an ordinary small animation passes


def test_pixels_times_frames_is_the_budget():
    # each frame alone is within the per-picture limit; together they are not
    side = int((uploads.MAX_IMAGE_PIXELS // 2) ** 0.5) + 1
    assert side * side <= uploads.MAX_IMAGE_PIXELS
    result, seconds = _timed(reencode_image, gif_bomb(frames=2, width=side, height=side), "image/gif")
    assert result is None and seconds < QUICK, seconds
    # animations are re-encoded frame by frame (several times a still's cost): a smaller budget
    side = int((uploads.MAX_ANIMATION_PIXELS // 10) ** 0.5) + 10
    result, seconds = _timed(reencode_image, gif_bomb(frames=10, width=side, height=side), "image/gif")
    assert result is None and seconds < QUICK, seconds
    assert reencode_image(gif_bomb(frames=1, width=2000, height=2000), "image/gif") is not None


def _attachments(world) -> int:
    from fengqiao.db import db
    from fengqiao.models import Attachment

    with world.app.app_context():
        return db.scalar(sa.select(sa.func.count(Attachment.id)))


def _post(client, photos, **fields):
    data = {"fq_version": "1", "request_type": "help", "caller_name": "陈德福", **fields,
            "photos": [(io.BytesIO(body), name) for body, name in photos]}
    return client.post(URL, content_type="multipart/form-data", data=data)


def test_the_bomb_posted_to_a_public_form_is_refused_quickly(world):
    before = _attachments(world)
    response, seconds = _timed(_post, world.app.test_client(), [(BOMB, "现场.gif")])
    assert response.status_code == 422 and seconds < QUICK, (response.status_code, seconds)
    assert "不是有效的图片" in response.get_data(as_text=True)
    assert _attachments(world) == before


def test_the_api_takes_no_files(world):
    """The API path accepts JSON only: a multipart body carrying the bomb is 415 at once."""
    started = time.process_time()
    response = world.app.test_client().post(
        "/api/v1/forms/livelihood-request/submissions", content_type="multipart/form-data",
        data={"photos": [(io.BytesIO(BOMB), "现场.gif")]})
    assert response.status_code == 415 and time.process_time() - started < QUICK
    assert response.get_json()["errors"][0]["code"] == "unsupported_media_type"


def test_files_are_counted_before_any_is_decoded(world, monkeypatch):
    decoded = []
    real = uploads.reencode_image
    monkeypatch.setattr(uploads, "reencode_image", lambda data, kind: decoded.append(kind) or real(data, kind))
    before = _attachments(world)
    twenty = [(png_bytes(), f"{i}.png") for i in range(20)]
    response = _post(world.app.test_client(), twenty)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "最多上传 6 个文件" in html
    assert decoded == [] and _attachments(world) == before  # nothing decoded, nothing stored
    # within the field's limit the files are decoded and kept as before
    response = _post(world.app.test_client(), twenty[:2])
    assert response.status_code == 422 and len(decoded) == 2 and _attachments(world) == before + 2


def test_kept_files_count_towards_the_field_limit(world):
    first = _post(world.app.test_client(), [(png_bytes(), f"{i}.png") for i in range(5)])
    kept = [part.split('"')[0] for part in first.get_data(as_text=True).split('name="photos__kept" value="')[1:]]
    assert len(kept) == 5
    response = _post(world.app.test_client(), [(png_bytes(), "a.png"), (png_bytes(), "b.png")],
                     photos__kept=kept)
    assert response.status_code == 422 and "最多上传 6 个文件" in response.get_data(as_text=True)


def test_one_request_has_a_pixel_budget(world):
    """Pictures each within the limit, together over MAX_REQUEST_PIXELS: the ones past the
    budget are refused from their headers (not decoded), the earlier ones kept."""
    side = int((uploads.MAX_IMAGE_PIXELS * 0.9) ** 0.5)  # 36 MP each, a flat one-frame GIF
    count = uploads.MAX_REQUEST_PIXELS // (side * side) + 1
    assert count <= 6  # within the field's maxItems: only the pixel budget refuses
    before = _attachments(world)
    response = _post(world.app.test_client(), [(gif_bomb(1, side, side), f"{i}.gif") for i in range(count)])
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and html.count("图片总像素过大") == 1
    assert _attachments(world) == before + count - 1


def gif_offset_bomb(frames: int = 40, offset: int = 6000) -> bytes:
    """A GIF whose header says 1×1 (screen and first frame) but whose frames 2… are 1×1 images
    placed at ``(offset, offset)``: Pillow grows the canvas to reach them, so every later frame
    is painted on an ``(offset+1)²`` canvas (reported after issue 17: 959 bytes, 95 s)."""
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"

    def frame(x: int, y: int) -> bytes:
        return (b"\x21\xf9\x04\x00" + struct.pack("<H", 1) + b"\x00\x00"
                + b"\x2c" + struct.pack("<HHHHB", x, y, 1, 1, 0) + b"\x02\x02\x44\x01\x00")

    return head + frame(0, 0) + frame(offset, offset) * (frames - 1) + b"\x3b"


OFFSET_BOMB = gif_offset_bomb()


def test_frames_placed_beyond_the_declared_canvas_count_at_the_canvas_pillow_uses(world):
    assert len(OFFSET_BOMB) < 1024
    with Image.open(io.BytesIO(OFFSET_BOMB)) as image:  # the header claims a 1×1 picture
        assert image.size == (1, 1) and image.n_frames == 40
    result, seconds = _timed(reencode_image, OFFSET_BOMB, "image/gif")
    assert result is None and seconds < QUICK, seconds
    result, seconds = _timed(sdk.safe_image, OFFSET_BOMB)
    assert result is None and seconds < QUICK, seconds
    before = _attachments(world)
    response, seconds = _timed(_post, world.app.test_client(), [(OFFSET_BOMB, "现场.gif")])
    assert response.status_code == 422 and seconds < QUICK, (response.status_code, seconds)
    assert "不是有效的图片" in response.get_data(as_text=True)
    assert _attachments(world) == before
    # a small animation whose frames move within a canvas they stretch a little still passes
    assert reencode_image(gif_offset_bomb(frames=3, offset=20), "image/gif") is not None
