"""Files in and out: certificate PDFs and QR codes, Excel exports, uploaded tables and pictures.

The heavy libraries (fpdf, qrcode, openpyxl, Pillow) load on the first call, not on import.
"""

from __future__ import annotations

from fengqiao.documents import Certificate, FontMissing, certificate_pdf, qr_data_uri, qr_png
from fengqiao.exports import safe_cell, workbook_bytes, xlsx_response
from fengqiao.sdk.errors import plugin_errors
from fengqiao.tabular import read_table as _read_table

__all__ = [
    "Certificate", "FontMissing", "certificate_pdf", "qr_data_uri", "qr_png", "read_table", "safe_cell",
    "safe_image", "workbook_bytes", "xlsx_response",
]

read_table = plugin_errors(_read_table)


def safe_image(data: bytes) -> tuple[bytes, str] | None:
    """``(bytes, content_type)`` of an uploaded picture checked by its content (PNG/JPEG/GIF/WebP)
    and re-encoded without metadata or appended payloads, or ``None``."""
    from fengqiao.forms.uploads import safe_image as checked

    return checked(data)
