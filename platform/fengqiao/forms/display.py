"""Show and export submitted data with the labels of the version it was submitted against.

Personal fields (ID numbers, mobiles) are always masked here; full values need a reveal.

A later version may rename, retype or drop a field; old submissions still read the way
they were filled in, because every label comes from the submission's own version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fengqiao.forms.schema_tools import FieldSpec, build_specs, sections
from fengqiao.masking import mask_value

BOOL_TEXT = {True: "是", False: "否"}


@dataclass
class DisplayRow:
    path: str
    label: str
    value: str


def _text(spec: FieldSpec, value: Any) -> str:
    if value is None:
        return ""
    value = mask_value(spec.schema, value)
    if isinstance(value, bool):
        return BOOL_TEXT[value]
    labels = dict(spec.choices)
    if isinstance(value, list):
        if spec.kind in ("file", "image"):
            return f"{len(value)} 个附件"
        return "、".join(str(labels.get(v, v)) for v in value)
    return str(labels.get(value, value))


def _rows(specs: list[FieldSpec], data: dict, label_prefix: str = "", path_prefix: str = "") -> list[DisplayRow]:
    """Leaf rows; group rows are numbered in both label (当事人2·姓名) and path (parties[2].name)."""
    rows: list[DisplayRow] = []
    for spec in specs:
        value = data.get(spec.name)
        label = f"{label_prefix}{spec.label}"
        path = f"{path_prefix}{spec.name}"
        if spec.kind == "object":
            rows += _rows(spec.children, value or {}, f"{label}·", f"{path}.")
        elif spec.kind == "group":
            for i, item in enumerate(value or [], start=1):
                rows += _rows(spec.children, item or {}, f"{label}{i}·", f"{path}[{i}].")
        else:
            rows.append(DisplayRow(path, label, _text(spec, value)))
    return rows


def display_sections(definition: dict, data: dict) -> list[tuple[str | None, list[DisplayRow]]]:
    """``[(section title, rows)]`` for a read-only view of ``data``."""
    return [(sec.title, _rows(sec.fields, data)) for sec in sections(definition)]


def flat_row(definition: dict, data: dict) -> dict[str, tuple[str, str]]:
    """``{path: (label, text)}``: one export row, labelled by this version."""
    specs = build_specs(definition["schema"], definition.get("ui", {}))
    return {r.path: (r.label, r.value) for r in _rows(specs, data)}
