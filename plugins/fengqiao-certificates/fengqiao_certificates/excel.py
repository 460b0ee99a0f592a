"""Lists as Excel: export a version, import a sheet into a draft (all rows valid or none)."""

from __future__ import annotations

from fengqiao.sdk.errors import ValidationFailed
from fengqiao.sdk.files import read_table, workbook_bytes
from fengqiao.sdk.models import db

from fengqiao_certificates.lists import MAX_ITEMS, clean_item, normalise
from fengqiao_certificates.models import KINDS, CertificateItem, CertificateList

HEADERS = ("类别", "证明名称", "申请人", "所需材料", "办理时限（工作日，0=当场）", "出具模板", "不应出具原因", "替代办理途径")
KEYS = ("kind", "name", "applicants", "materials", "time_limit_days", "template", "reason", "referral")
KIND_BY_LABEL = {label: key for key, label in KINDS.items()}
READ_ROWS = MAX_ITEMS * 2 + 20  # a title, a header, blank lines between groups


def export_list(listing: CertificateList) -> bytes:
    rows = [[KINDS[i.kind], i.name, i.applicants, i.materials,
             "" if i.time_limit_days is None else i.time_limit_days, i.template, i.reason, i.referral]
            for i in listing.items]
    return workbook_bytes(f"{listing.title or '证明事项清单'} 第{listing.version}版", HEADERS, rows)


def _header_row(rows: list[tuple[int, list]]) -> int:
    for index, (_number, row) in enumerate(rows[:5]):
        if "证明名称" in [str(c or "").strip() for c in row]:
            return index
    raise ValidationFailed([("/file", "未找到表头：第一行或第二行应包含“类别”“证明名称”等列（可先导出一份作为模板）", "format")])


def read_items(content: bytes, filename: str = "清单.xlsx") -> list[dict]:
    """Rows of the first sheet as cleaned items; every bad cell is reported by row and column.

    Read within limits (``read_table``: a forged sheet size is refused at once) and before
    anything is written, so no transaction is open while a file is parsed."""
    try:
        rows = read_table(content, filename, rows=READ_ROWS, columns=len(HEADERS) + 20, seconds=5.0)
    except ValidationFailed as refused:
        if refused.problems[0][2] == "format":
            raise ValidationFailed([("/file", "无法读取该文件，请上传 .xlsx 格式的 Excel 文件", "format")]) from None
        raise
    head = _header_row(rows)
    columns = {str(c or "").strip(): i for i, c in enumerate(rows[head][1])}
    index = {key: columns.get(label) for key, label in zip(KEYS, HEADERS, strict=True)}
    if index["kind"] is None:
        raise ValidationFailed([("/file", "缺少“类别”列", "format")])
    items, errors, seen = [], [], set()
    for number, row in rows[head + 1:]:
        data = {k: (row[i] if i is not None and i < len(row) and row[i] is not None else "") for k, i in index.items()}
        label = str(data["kind"]).strip()
        data["kind"] = KIND_BY_LABEL.get(label, label)
        if isinstance(data["time_limit_days"], float) and data["time_limit_days"].is_integer():
            data["time_limit_days"] = int(data["time_limit_days"])
        try:
            item = clean_item(data)
        except ValidationFailed as exc:
            errors += [(f"/rows/{number}{p}", f"第 {number} 行：{m}", c) for p, m, c in exc.problems]
            continue
        if normalise(item["name"]) in seen:
            errors.append((f"/rows/{number}/name", f"第 {number} 行：证明名称与前面的行重复", "duplicate"))
        seen.add(normalise(item["name"]))
        items.append(item)
    if not items and not errors:
        errors.append(("/file", "表格中没有证明事项", "minItems"))
    if len(items) > MAX_ITEMS:
        errors.append(("/file", f"一份清单最多 {MAX_ITEMS} 项", "maxItems"))
    if errors:
        raise ValidationFailed(errors[:50])
    return items


def import_items(draft: CertificateList, items: list[dict]) -> int:
    """Replace the draft's items with ``items`` (from :func:`read_items`, read beforehand)."""
    draft.items.clear()
    db.flush()
    draft.items.extend(CertificateItem(position=i, **item) for i, item in enumerate(items))
    db.flush()
    return len(items)
