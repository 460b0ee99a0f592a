"""Printable documents: QR codes and certificate PDFs with an embedded Chinese font.

Certificates leave the system (printed, mailed, shown on a phone), so their PDF embeds a
subset of a CJK font instead of naming a font the reader's viewer may lack. The font is
``FENGQIAO_PDF_FONT`` or the first CJK font found among the usual system locations
(Debian ``fonts-noto-cjk``, installed by ``make install``).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

FONT_ENV = "FENGQIAO_PDF_FONT"
# (path, index in the collection): Noto Sans CJK collections order JP, KR, SC, TC, HK.
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/adobe-source-han-sans/SourceHanSansCN-Regular.otf", 0),
)


class FontMissing(RuntimeError):
    """No CJK font to embed: PDFs would show empty boxes, so none is produced."""

    def __init__(self) -> None:
        super().__init__(f"未找到可嵌入的中文字体：请安装 fonts-noto-cjk，或以 {FONT_ENV} 指定字体文件")


def cjk_font() -> tuple[str, int]:
    """The font file (and its index in a collection) certificates embed."""
    configured = os.environ.get(FONT_ENV)
    if configured:
        if not Path(configured).is_file():
            raise FontMissing()
        return configured, 0
    for path, index in FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    raise FontMissing()


def qr_png(text: str, box_size: int = 6) -> bytes:
    """A QR code of ``text`` (a verification URL) as PNG bytes."""
    import qrcode  # deferred: importing fengqiao.documents stays cheap for whoever only names a type

    code = qrcode.QRCode(box_size=box_size, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()


def qr_data_uri(text: str, box_size: int = 6) -> str:
    """The QR code as a ``data:`` URI for an ``<img>`` on a page (公示 posters, print views)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text, box_size)).decode("ascii")


@dataclass
class Certificate:
    """What a certificate PDF says; ``rows`` are label/value lines, ``table`` an optional grid."""

    title: str
    serial: str
    issuer: str
    issued_on: date
    verify_url: str
    rows: Sequence[tuple[str, str]] = ()
    body: str = ""
    table: Sequence[Sequence[str]] = ()  # first row is the header
    note: str = "扫描二维码或访问下方网址可核验本证明真伪。"
    revoked: bool = False


def certificate_pdf(cert: Certificate) -> bytes:
    """An A4 certificate: title, fields, optional table, issuer and date, serial and QR code."""
    font_path, index = cjk_font()
    from fpdf import FPDF  # deferred, like qrcode: fpdf pulls in Pillow and fontTools
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_title(cert.title)
    pdf.set_creator("Fengqiao 枫桥")
    pdf.add_font("cjk", fname=font_path, collection_font_number=index)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("cjk", size=22)
    pdf.cell(0, 18, cert.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 6, f"编号：{cert.serial}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    for label, value in cert.rows:
        pdf.multi_cell(0, 8, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    if cert.body:
        pdf.ln(2)
        pdf.multi_cell(0, 8, cert.body, new_x="LMARGIN", new_y="NEXT")
    if cert.table:
        pdf.ln(3)
        pdf.set_font("cjk", size=10)
        headings = FontFace(emphasis=None, fill_color=(235, 235, 235))  # no bold face to embed
        with pdf.table(first_row_as_headings=True, headings_style=headings) as table:
            for row in cert.table:
                cells = table.row()
                for value in row:
                    cells.cell(str(value))
    pdf.ln(8)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, f"出具单位：{cert.issuer}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"出具日期：{cert.issued_on.year}年{cert.issued_on.month}月{cert.issued_on.day}日",
             align="R", new_x="LMARGIN", new_y="NEXT")
    if cert.revoked:
        pdf.set_text_color(200, 0, 0)
        pdf.cell(0, 10, "本证明已撤销", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(6)
    y = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(cert.verify_url)), x=pdf.l_margin, y=y, w=32, h=32)
    pdf.set_xy(pdf.l_margin + 36, y + 4)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, f"{cert.note}\n{cert.verify_url}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
