"""Store uploaded files safely: size and type limits, type sniffed from the content,
images decoded and re-encoded (metadata such as GPS positions dropped, anything appended
to the picture — a polyglot's second payload — discarded), random names under the instance
folder (never the web root), SHA-256 recorded."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import struct
import warnings
from pathlib import Path

from flask import current_app, g, has_request_context
from werkzeug.datastructures import FileStorage

from fengqiao.db import db
from fengqiao.exceptions import Problem
from fengqiao.models import Attachment

MAX_FILE_SIZE = 8 * 1024 * 1024
# New files in one request (each field's own ``maxItems`` applies too), counted before any
# is read: every picture costs a decode, so twenty in one POST are refused, not processed.
MAX_FILES_PER_REQUEST = 16
# Magic numbers of the types residents and staff actually attach.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]
OFFICE_ZIP = "application/vnd.openxmlformats-officedocument"
# Pixels Pillow would paint: width × height × frames. A phone photo is ~12 MP; more is a
# decompression bomb (an animation paints every frame onto the whole canvas, however small the
# frame in the file: 40 one-pixel frames on a 4000×4000 canvas are 640 MP from 1 KB).
MAX_IMAGE_PIXELS = 40_000_000
# An animation is converted and quantised frame by frame when written again: ~5× the cost of
# a still picture per pixel (measured: 10 frames of 2000×2000 took 6.8 s, a 40 MP JPEG 1.8 s).
MAX_ANIMATION_PIXELS = 8_000_000
MAX_FRAMES = 100  # an animated sticker has a few dozen
# All pictures of one request together (read from their headers before each is decoded): six
# 12 MP phone photos are 72 MP; sixteen 40 MP pictures would be over a minute of CPU.
MAX_REQUEST_PIXELS = 100_000_000
# Markup a browser could be tricked into rendering if the file were ever shown inline.
_MARKUP = (b"<!doctype", b"<html", b"<script", b"<svg", b"<iframe", b"<body", b"<?xml")
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


def sniff(head: bytes, filename: str) -> str | None:
    """The content type the bytes really are, or None when not an accepted type."""
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        lower = filename.lower()
        if lower.endswith(".docx"):
            return f"{OFFICE_ZIP}.wordprocessingml.document"
        if lower.endswith(".xlsx"):
            return f"{OFFICE_ZIP}.spreadsheetml.sheet"
    return None


def _pillow():
    """Pillow's Image module, its own bomb check set to our limit (a warning above it, which
    :func:`reencode_image` turns into a refusal; an error at twice it, for every caller)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    return Image


_GIF_BLOCK = re.compile(rb"[!,;]")


def _gif_frames(data: bytes) -> tuple[int, int, int]:
    """``(frames, width, height)`` of a GIF read from its block headers, no pixel decoded: the
    canvas is the largest extent over the logical screen and every frame's offset + size.
    Pillow grows its canvas to reach a frame placed beyond the screen and then paints every
    later frame onto it, so a 1×1 header with 1×1 frames at (6000, 6000) costs 36 MP a frame.
    The walk follows Pillow's parser (bytes between blocks skipped, sub-blocks up to a zero
    length, a truncated block ends it): it sees every frame Pillow plays."""
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    end = len(data)
    while pos < end:
        block = data[pos]
        if block not in b"!,;":  # Pillow steps over stray bytes one by one; jump to the next block
            found = _GIF_BLOCK.search(data, pos)
            if found is None:
                break
            pos, block = found.start(), data[found.start()]
        pos += 1
        if block == 0x3B:  # trailer
            break
        if block == 0x2C:  # image descriptor: left, top, width, height, flags
            if pos + 9 > end:
                break
            left, top, frame_width, frame_height, frame_flags = struct.unpack_from("<HHHHB", data, pos)
            frames += 1
            width, height = max(width, left + frame_width), max(height, top + frame_height)
            pos += 9 + (3 << ((frame_flags & 7) + 1) if frame_flags & 0x80 else 0) + 1  # + LZW size
        else:  # extension: its label, then sub-blocks
            pos += 1
        while pos < end and data[pos]:  # sub-blocks up to the zero-length terminator
            pos += 1 + data[pos]
        pos += 1
    return frames, width, height


def picture_cost(image, data: bytes | None = None) -> tuple[int, int]:
    """``(pixels, frames)`` decoding ``image`` (opened, not loaded) would paint: the canvas
    Pillow will actually use × frames, read from the headers before a pixel is decoded. For a
    GIF (``data`` its bytes) the canvas spans every frame's extent (:func:`_gif_frames`); APNG
    and WebP frames cannot reach beyond the declared canvas (Pillow and libwebp refuse them)."""
    frames = getattr(image, "n_frames", 1)  # GIF: walks the frame headers, decodes nothing
    width, height = image.size
    if image.format == "GIF":
        if data is None:
            raise ValueError("a GIF's cost needs its bytes")
        gif_frames, gif_width, gif_height = _gif_frames(data)
        frames = max(frames, gif_frames)
        width, height = max(width, gif_width), max(height, gif_height)
    return width * height * frames, frames


def too_costly(image, data: bytes | None = None) -> bool:
    """Whether decoding ``image`` (opened, not loaded; ``data`` its bytes) would paint more
    than the budget: read from the headers (canvas, every frame) before a pixel is decoded."""
    pixels, frames = picture_cost(image, data)
    budget = MAX_IMAGE_PIXELS if frames == 1 else MAX_ANIMATION_PIXELS
    return frames > MAX_FRAMES or pixels > budget


def picture_pixels(data: bytes, content_type: str) -> int | None:
    """Pixels × frames the picture's headers announce (the canvas Pillow will use); None when
    unreadable or over the per-picture limits (:func:`too_costly`). Decodes nothing."""
    Image = _pillow()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[content_type]]) as image:
                if too_costly(image, data):
                    return None
                return picture_cost(image, data)[0]
    except Exception:  # hostile input: any Pillow error means "not a picture"
        return None


def _within_request_budget(pixels: int) -> bool:
    """Spend ``pixels`` of this request's MAX_REQUEST_PIXELS; False (nothing spent) when over."""
    if not has_request_context():
        return True  # a command or job storing files is not a caller to limit
    spent = g.get("fq_upload_pixels", 0) + pixels
    if spent > MAX_REQUEST_PIXELS:
        return False
    g.fq_upload_pixels = spent
    return True


def reencode_image(data: bytes, content_type: str) -> bytes | None:
    """The picture decoded and written again in its own format, without metadata; None when
    the bytes are not a decodable image of that type (corrupt, truncated, a bomb)."""
    from PIL import ImageOps

    Image = _pillow()
    fmt = _PILLOW_FORMATS[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
                if too_costly(probe, data):
                    return None
                probe.verify()  # structure and checksums, before decoding any pixels
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                frames = getattr(image, "n_frames", 1)
                image.load()
                out = io.BytesIO()
                if fmt == "JPEG":
                    clean = ImageOps.exif_transpose(image)  # keep the orientation, drop the EXIF
                    if clean.mode not in ("RGB", "L", "CMYK"):
                        clean = clean.convert("RGB")
                    clean.save(out, "JPEG", quality=90, optimize=True)
                elif fmt == "PNG":
                    image.save(out, "PNG", optimize=False)
                elif frames > 1:
                    image.save(out, fmt, save_all=True)
                else:
                    image.save(out, fmt)
    except Exception:  # Pillow raises many types for hostile input; all mean "not an image"
        return None
    return out.getvalue()


IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def safe_image(data: bytes) -> tuple[bytes, str] | None:
    """``(bytes, content type)`` of a picture checked by its content and re-encoded without
    metadata or trailing payloads; None when it is not a decodable PNG/JPEG/GIF/WebP."""
    content_type = sniff(data[:16], "")
    if content_type not in IMAGE_TYPES:
        return None
    clean = reencode_image(data, content_type)
    return (clean, content_type) if clean is not None else None


def looks_like_markup(data: bytes) -> bool:
    """Whether the start of a document carries HTML/SVG a browser might sniff and run."""
    head = data[:1024].lower()
    return any(tag in head for tag in _MARKUP)


def display_name(filename: str | None) -> str:
    """The name shown for a file: its last path part (``/`` or ``\\``), without control
    characters. Only shown, never used as a path: files are stored under random names."""
    last = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    last = "".join(ch for ch in last if ch.isprintable()).strip()[:200]
    return "file" if last in ("", ".", "..") else last


def upload_root() -> Path:
    root = Path(current_app.instance_path) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


def delete_stored(storage_keys: list[str]) -> int:
    """Remove stored files (after the transaction that dropped their rows committed); a key
    that resolves outside the upload folder is ignored. Returns how many were removed."""
    root = upload_root().resolve()
    removed = 0
    for key in storage_keys:
        path = (root / key).resolve()
        if root in path.parents and path.is_file():
            path.unlink()
            removed += 1
    return removed


def save_upload(file: FileStorage, pointer: str, images_only: bool, user=None) -> Attachment | Problem:
    """Store one file; returns the Attachment row, or the problem to show on the field."""
    data = file.read(MAX_FILE_SIZE + 1)
    name = display_name(file.filename)
    if len(data) > MAX_FILE_SIZE:
        return (pointer, f"文件「{name}」超过 {MAX_FILE_SIZE // 1024 // 1024} MB", "file_size")
    if not data:
        return (pointer, f"文件「{name}」是空文件", "file_type")
    content_type = sniff(data[:16], name)
    if content_type is None or (images_only and not content_type.startswith("image/")):
        allowed = "JPG、PNG、GIF、WebP 图片" if images_only else "图片、PDF、Word 或 Excel 文件"
        return (pointer, f"文件「{name}」类型不支持，请上传{allowed}", "file_type")
    if content_type in _PILLOW_FORMATS:
        pixels = picture_pixels(data, content_type)  # from the header, before any decoding
        if pixels is not None and not _within_request_budget(pixels):
            return (pointer, f"文件「{name}」：本次上传的图片总像素过大，请分几次上传", "file_size")
        cleaned = reencode_image(data, content_type) if pixels is not None else None
        if cleaned is None:
            return (pointer, f"文件「{name}」不是有效的图片或已损坏，请重新拍照或换一张图片", "file_type")
        data = cleaned
    elif looks_like_markup(data):
        return (pointer, f"文件「{name}」内容可疑（夹带网页代码），已拒绝", "file_type")
    attachment_id = "att_" + secrets.token_urlsafe(18)
    storage_key = f"{attachment_id[4:6]}/{attachment_id}"
    target = upload_root() / storage_key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    attachment = Attachment(
        id=attachment_id, filename=name, content_type=content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), storage_key=storage_key,
        uploaded_by_id=user.id if user is not None and getattr(user, "is_authenticated", False) else None,
    )
    db.add(attachment)
    return attachment
