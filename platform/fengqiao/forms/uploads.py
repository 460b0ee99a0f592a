"""Store uploaded files safely: size and type limits, type sniffed from the content,
random names under the instance folder (never the web root), SHA-256 recorded."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from fengqiao.db import db
from fengqiao.errors import Problem
from fengqiao.models import Attachment

MAX_FILE_SIZE = 8 * 1024 * 1024
# Magic numbers of the types residents and staff actually attach.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]
OFFICE_ZIP = "application/vnd.openxmlformats-officedocument"


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


def upload_root() -> Path:
    root = Path(current_app.instance_path) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


def save_upload(file: FileStorage, pointer: str, images_only: bool, user=None) -> Attachment | Problem:
    """Store one file; returns the Attachment row, or the problem to show on the field."""
    data = file.read(MAX_FILE_SIZE + 1)
    name = Path(file.filename or "file").name[:200] or "file"
    if len(data) > MAX_FILE_SIZE:
        return (pointer, f"文件「{name}」超过 {MAX_FILE_SIZE // 1024 // 1024} MB", "file_size")
    if not data:
        return (pointer, f"文件「{name}」是空文件", "file_type")
    content_type = sniff(data[:16], name)
    if content_type is None or (images_only and not content_type.startswith("image/")):
        allowed = "JPG、PNG、GIF、WebP 图片" if images_only else "图片、PDF、Word 或 Excel 文件"
        return (pointer, f"文件「{name}」类型不支持，请上传{allowed}", "file_type")
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
