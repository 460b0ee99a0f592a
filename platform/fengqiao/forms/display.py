"""Show and export submitted data with the labels of the version it was submitted against.

Personal fields (ID numbers, mobiles, fields marked ``x-personal``) are always masked here,
for every role, and numbers typed into free text too; full values need an audited reveal
(each row carries the JSON pointer the reveal takes, and whether it was masked).

A later version may rename, retype or drop a field; old submissions still read the way
they were filled in, because every label comes from the submission's own version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fengqiao.forms import store
from fengqiao.forms.schema_tools import FieldSpec, build_specs, sections
from fengqiao.masking import HIDDEN_KIND, marked_schema, mask_as, personal_kind

BOOL_TEXT = {True: "是", False: "否"}


@dataclass
class DisplayRow:
    path: str
    label: str
    value: str
    pointer: str = ""  # RFC 6901, for a reveal (``/parties/0/mobile``)
    masked: bool = False  # the value shown differs from the stored one
    hidden: bool = False  # withheld from this viewer (``ui.hidden_from_handler``): no reveal


def _text(spec: FieldSpec, value: Any, kind: str | None = None) -> str:
    if value is None:
        return ""
    value = mask_as(personal_kind(spec.schema) or kind, value)
    if isinstance(value, bool):
        return BOOL_TEXT[value]
    labels = dict(spec.choices)
    if isinstance(value, list):
        if spec.kind in ("file", "image"):
            return f"{len(value)} 个附件"
        return "、".join(str(labels.get(v, v)) for v in value)
    return str(labels.get(value, value))


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _rows(specs: list[FieldSpec], data: dict, label_prefix: str = "", path_prefix: str = "",
          pointer_prefix: str = "", kind: str | None = None) -> list[DisplayRow]:
    """Leaf rows; group rows are numbered in both label (当事人2·姓名) and path (parties[2].name)."""
    rows: list[DisplayRow] = []
    for spec in specs:
        value = data.get(spec.name) if isinstance(data, dict) else None
        label = f"{label_prefix}{spec.label}"
        path = f"{path_prefix}{spec.name}"
        pointer = f"{pointer_prefix}/{_escape(spec.name)}"
        inner = personal_kind(spec.schema) or kind
        if spec.kind == "object":
            rows += _rows(spec.children, value or {}, f"{label}·", f"{path}.", pointer, inner)
        elif spec.kind == "group":
            for i, item in enumerate(value or [], start=1):
                rows += _rows(spec.children, item or {}, f"{label}{i}·", f"{path}[{i}].", f"{pointer}/{i - 1}", inner)
        else:
            text = _text(spec, value, kind)
            masked = isinstance(value, str) and mask_as(personal_kind(spec.schema) or kind, value) != value
            hidden = (personal_kind(spec.schema) or kind) == HIDDEN_KIND
            rows.append(DisplayRow(path, label, text, pointer, masked, hidden))
    return rows


def with_marks(definition: dict, latest: dict | None = None) -> dict:
    """``definition`` with its schema carrying the personal marks of it and of ``latest``."""
    return {**definition, "schema": marked_schema(definition, latest)}


def masking_definition(form_key: str | None, number: int | None) -> dict | None:
    """The definition data submitted under version ``number`` is shown with: its own
    labels, the personal marks of it and of the form's latest version."""
    found = store.published(form_key, number) if form_key else None
    if not found or found[1] is None:
        return None
    latest = store.published(form_key)
    return with_marks(found[1].definition, latest[1].definition if latest and latest[1] else None)


def display_sections(definition: dict, data: dict, latest: dict | None = None) -> list[tuple[str | None, list[DisplayRow]]]:
    """``[(section title, rows)]`` for a read-only view of ``data``."""
    return [(sec.title, _rows(sec.fields, data)) for sec in sections(with_marks(definition, latest))]


def flat_row(definition: dict, data: dict, latest: dict | None = None, *,
             marked: bool = False) -> dict[str, tuple[str, str]]:
    """``{path: (label, text)}``: one export row, labelled by this version. Pass a definition
    already through :func:`with_marks` with ``marked=True`` (exports mark each version once)."""
    if not marked:
        definition = with_marks(definition, latest)
    specs = build_specs(definition["schema"], definition.get("ui", {}))
    return {r.path: (r.label, r.value) for r in _rows(specs, data)}
