"""JSON Schema + ui → a WTForms form class, built once per published version and cached.

WTForms parses the posted fields and renders the widgets; the rules live in the JSON Schema
alone, so the HTML form and the API validate the same way (``forms.submit.clean``).
Problems come back as JSON pointers and are shown next to the field they name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from fengqiao.exceptions import Problem
from fengqiao.forms.schema_tools import FieldSpec, Section, build_specs, sections
from fengqiao.params import finite_float

INPUT_TYPES = {"date": "date", "datetime": "datetime-local", "time": "time"}
COERCE_MESSAGES = {"integer": "应填写整数", "number": "应填写数字"}
SHANGHAI_OFFSET = "+08:00"


def _render_kw(spec: FieldSpec) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if spec.placeholder:
        kw["placeholder"] = spec.placeholder
    if spec.kind in INPUT_TYPES:
        kw["type"] = INPUT_TYPES[spec.kind]
    if spec.kind == "integer":
        kw.update(type="text", inputmode="numeric")
    if spec.kind == "number":
        kw.update(type="text", inputmode="decimal")
    if spec.kind == "text":
        fmt = spec.schema.get("format")
        if fmt == "cn-mobile":
            kw.update(inputmode="tel", autocomplete="tel")
        elif fmt in ("cn-id-card", "cn-postcode"):
            kw["inputmode"] = "numeric" if fmt == "cn-postcode" else "text"
    if spec.kind in ("text", "textarea") and spec.schema.get("maxLength"):
        kw["maxlength"] = spec.schema["maxLength"]
    if spec.kind == "image":
        kw["accept"] = "image/*"
    return kw


def _choices(spec: FieldSpec, blank: bool) -> list[SelectChoice]:
    options = [SelectChoice(str(v), label) for v, label in spec.choices]
    return ([SelectChoice("", "请选择")] if blank else []) + options


def _make_field(spec: FieldSpec, builder: Callable[[list[FieldSpec]], type[Form]]):
    kw: dict[str, Any] = {"label": spec.label, "render_kw": _render_kw(spec)}
    if "default" in spec.schema and spec.kind not in ("object", "group", "file", "image"):
        default = spec.schema["default"]
        kw["default"] = default if isinstance(default, bool | list) else str(default)
    match spec.kind:
        case "textarea":
            return TextAreaField(**kw)
        case "boolean":
            return BooleanField(**kw)
        case "select":
            return SelectField(choices=_choices(spec, blank=True), validate_choice=False, **kw)
        case "radio":
            return RadioField(choices=_choices(spec, blank=False), validate_choice=False, **kw)
        case "checkboxes":
            return SelectMultipleField(
                choices=_choices(spec, blank=False), validate_choice=False,
                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(), **kw,
            )
        case "file" | "image":
            return MultipleFileField(**kw)
        case "hidden":
            return HiddenField(**kw)
        case "object":
            return FormField(builder(spec.children), label=spec.label)
        case "group":
            return FieldList(FormField(builder(spec.children)), label=spec.label,
                             min_entries=max(spec.min_items, 1))
        case _:
            return StringField(**kw)


def _subform_class(specs: list[FieldSpec]) -> type[Form]:
    attrs = {spec.name: _make_field(spec, _subform_class) for spec in specs}
    return type("SubForm", (Form,), attrs)


@dataclass
class CompiledForm:
    """A version's form class and its layout; immutable, shared by all requests."""

    form_class: type[FlaskForm]
    sections: list[Section]
    specs: list[FieldSpec]


def _compile(definition: dict) -> CompiledForm:
    specs = build_specs(definition["schema"], definition.get("ui", {}))
    attrs: dict[str, Any] = {spec.name: _make_field(spec, _subform_class) for spec in specs}
    attrs["fq_version"] = HiddenField()
    form_class = type("DefinedForm", (FlaskForm,), attrs)
    return CompiledForm(form_class, sections(definition), specs)


def compiled_form(version) -> CompiledForm:
    """The cached compiled form of a published version (versions never change).

    The cache belongs to the app (ids are only unique within its database).
    """
    cache = current_app.extensions.setdefault("fengqiao.compiled_forms", {})
    cached = cache.get(version.id)
    if cached is None:
        cached = cache[version.id] = _compile(version.definition)
    return cached


def compile_definition(definition: dict) -> CompiledForm:
    """Compile an unpublished definition (designer preview); not cached."""
    return _compile(definition)


# ---- posted fields → JSON instance -------------------------------------------------


@dataclass
class Extracted:
    data: dict
    problems: list[Problem] = field(default_factory=list)
    # For uploads: the field pointer → files to store once the rest is valid.
    files: dict[str, list] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)

    def data_ref(self, pointer: str) -> list:
        """The list in ``data`` that ``pointer`` (an upload field) names, created if needed."""
        tokens = pointer.strip("/").split("/")
        node: Any = self.data
        for token in tokens[:-1]:
            node = node[int(token)] if isinstance(node, list) else node.setdefault(token, {})
        return node.setdefault(tokens[-1], [])


def _typed(spec: FieldSpec, raw: Any, pointer: str, out: Extracted) -> Any:
    if spec.kind in ("integer", "number"):
        text = (raw or "").strip().replace("，", "").replace(",", "")
        if text == "":
            return None
        try:
            value = finite_float(text)
            if spec.kind == "integer":
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(value) if value.is_integer() and "." not in text else value
        except ValueError:
            out.problems.append((pointer, COERCE_MESSAGES[spec.kind], "type"))
            return None
    if spec.kind == "boolean":
        return bool(raw)
    if spec.kind in ("select", "radio"):
        lookup = {str(v): v for v, _ in spec.choices}
        return lookup.get(raw, raw) if raw not in (None, "") else None
    if spec.kind == "checkboxes":
        lookup = {str(v): v for v, _ in spec.choices}
        return [lookup.get(v, v) for v in raw or []]
    if spec.kind in ("datetime", "time") and raw:
        # The browser posts local wall-clock values (2026-12-01T08:30, 08:30); RFC 3339 wants
        # seconds and an offset, so China's is added.
        parse = datetime.fromisoformat if spec.kind == "datetime" else time.fromisoformat
        try:
            parsed = parse(raw)
        except ValueError:
            return raw  # the schema's format check reports it
        return parsed.isoformat() if parsed.tzinfo else parsed.isoformat(timespec="seconds") + SHANGHAI_OFFSET
    return raw


def _extract(specs: list[FieldSpec], form: Form, pointer: str, out: Extracted, kept_ids) -> dict:
    data: dict[str, Any] = {}
    for spec in specs:
        bound = form[spec.name]
        ptr = f"{pointer}/{spec.name}"
        if spec.kind == "object":
            data[spec.name] = _extract(spec.children, bound.form, ptr, out, kept_ids)
        elif spec.kind == "group":
            data[spec.name] = _extract_rows(spec, bound, ptr, out, kept_ids)
        elif spec.kind in ("file", "image"):
            kept = kept_ids(bound.name)
            new = [f for f in (bound.data or []) if getattr(f, "filename", "")]
            out.kept[ptr] = kept
            if new:
                out.files[ptr] = new
            data[spec.name] = list(kept)
        else:
            data[spec.name] = _typed(spec, bound.data, ptr, out)
    return data


def _extract_rows(spec: FieldSpec, bound: FieldList, ptr: str, out: Extracted, kept_ids) -> list:
    """Rows of a repeatable group; rows left completely empty are dropped (form and data)."""
    rows, entries = [], []
    for entry in bound.entries:
        scratch = Extracted({})
        row = _extract(spec.children, entry.form, f"{ptr}/{len(rows)}", scratch, kept_ids)
        if _filled(row) or scratch.problems or scratch.files:
            rows.append(row)
            entries.append(entry)
            out.problems += scratch.problems
            out.files.update(scratch.files)
            out.kept.update(scratch.kept)
    bound.entries = entries
    while len(bound.entries) < max(spec.min_items, 1):
        bound.append_entry()
    return rows


def extract(compiled: CompiledForm, form: FlaskForm, kept_ids: Callable[[str], list[str]]) -> Extracted:
    """The JSON instance a posted form stands for, plus coercion problems and new files."""
    out = Extracted({})
    out.data = _extract(compiled.specs, form, "", out, kept_ids)
    return out


def _filled(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_filled(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return value not in (None, "", False)


def errors_by_pointer(problems: list[Problem]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pointer, message, _code in problems:
        found.setdefault(pointer, []).append(message)
    return found
