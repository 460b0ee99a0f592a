"""Read a definition's schema + ui into an ordered tree of field specs.

The tree drives rendering (WTForms), read-only display and exports, so all three agree on
labels, order, sections and conditions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

WIDGETS_FOR_FORMAT = {"date": "date", "date-time": "datetime", "time": "time"}


@dataclass
class Condition:
    """Show a field only while ``field`` has one of ``values`` (or not, when ``negate``)."""

    field: str
    values: list[Any]
    negate: bool = False

    def holds(self, data: dict) -> bool:
        present = data.get(self.field) in self.values
        return present != self.negate

    def to_json(self) -> dict:
        return {"field": self.field, "values": self.values, "negate": self.negate}


@dataclass
class FieldSpec:
    name: str
    path: str  # dotted for nested objects, ``name[].child`` inside repeatable groups
    label: str
    kind: str
    schema: dict
    required: bool = False
    help: str | None = None
    placeholder: str | None = None
    choices: list[tuple[Any, str]] = field(default_factory=list)
    children: list[FieldSpec] = field(default_factory=list)
    min_items: int = 0
    max_items: int | None = None
    condition: Condition | None = None
    required_when: str | None = None  # "condition" or the name whose filling requires it
    relevant: dict | None = None  # ``ui.relevant``: the page shows the field while this holds
    widget: str | None = None  # ``ui.widgets``' entry (``address``: the picker on a text field)

    @property
    def is_container(self) -> bool:
        return self.kind in ("object", "group")


@dataclass
class Section:
    title: str | None
    description: str | None
    fields: list[FieldSpec]


def choices_of(schema: dict) -> list[tuple[Any, str]]:
    if "enum" in schema:
        return [(v, str(v)) for v in schema["enum"]]
    if "oneOf" in schema and all("const" in o for o in schema["oneOf"]):
        return [(o["const"], o.get("title", str(o["const"]))) for o in schema["oneOf"]]
    return []


def _kind(schema: dict, widget: str | None) -> str:
    typ = schema.get("type")
    if widget == "hidden":
        return "hidden"
    if typ == "object":
        return "object"
    if typ == "array":
        items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        if items.get("type") == "object":
            return "group"
        if items.get("format") == "attachment":
            return "image" if widget == "image" else "file"
        return "checkboxes"
    if choices_of(schema):
        return "radio" if widget == "radio" else "select"
    if typ == "boolean":
        return "boolean"
    if typ in ("integer", "number"):
        return typ
    if typ == "string" and schema.get("format") in WIDGETS_FOR_FORMAT:
        return WIDGETS_FOR_FORMAT[schema["format"]]
    return "textarea" if widget == "textarea" else "text"


def _conditions(schema: dict) -> dict[str, tuple[Condition, bool]]:
    """Fields governed by top-level ``if``/``then``/``else`` → (condition, required there)."""
    blocks = [schema] + [s for s in schema.get("allOf", []) if isinstance(s, dict)]
    found: dict[str, tuple[Condition, bool]] = {}
    for block in blocks:
        test = block.get("if")
        if not isinstance(test, dict) or len(test.get("properties", {})) != 1:
            continue
        (name, rule), = test["properties"].items()
        values = [rule["const"]] if "const" in rule else list(rule.get("enum", []))
        if not values:
            continue
        for branch, negate in (("then", False), ("else", True)):
            sub = block.get(branch)
            if not isinstance(sub, dict):
                continue
            required = set(sub.get("required", []))
            for target in set(sub.get("properties", {})) | required:
                found[target] = (Condition(name, values, negate), target in required)
    return found


def _branch_required(schema: dict) -> set[str]:
    """Names some top-level ``then``/``else`` requires (a field with ``ui.relevant`` listed
    there is required while shown)."""
    blocks = [schema] + [s for s in schema.get("allOf", []) if isinstance(s, dict)]
    return {name for block in blocks for branch in ("then", "else") if isinstance(block.get(branch), dict)
            for name in block[branch].get("required", []) if isinstance(name, str)}


def build_specs(schema: dict, ui: dict, prefix: str = "", in_group: bool = False) -> list[FieldSpec]:
    """Field specs for an object schema's properties in ``ui.order`` (then schema order)."""
    props: dict = schema.get("properties", {})
    required = set(schema.get("required", []))
    conditions = _conditions(schema)
    dependents = {
        dep: trigger for trigger, deps in schema.get("dependentRequired", {}).items() for dep in deps
    }
    order = ui.get("order", []) if not prefix else []
    names = [n for n in order if n in props] + [n for n in props if n not in order]
    specs = []
    for name in names:
        sub = props[name]
        path = f"{prefix}{name}"
        widget = ui.get("widgets", {}).get(path)
        kind = _kind(sub, widget)
        spec = FieldSpec(
            name=name,
            path=path,
            label=sub.get("title", name),
            kind=kind,
            schema=sub,
            required=name in required,
            help=ui.get("help", {}).get(path) or sub.get("description"),
            placeholder=ui.get("placeholders", {}).get(path),
            choices=choices_of(sub.get("items", {}) if kind == "checkboxes" else sub),
            min_items=sub.get("minItems", 0),
            max_items=sub.get("maxItems"),
            widget=widget,
        )
        spec.relevant = (ui.get("relevant") or {}).get(path)
        if name in conditions:
            spec.condition, cond_required = conditions[name]
            if cond_required:
                spec.required_when = "condition"
        elif spec.relevant is not None and name in _branch_required(schema):
            spec.required_when = "condition"
        elif name in dependents:
            spec.required_when = dependents[name]
        if kind == "object":
            spec.children = build_specs(sub, ui, f"{path}.", in_group)
        elif kind == "group":
            spec.children = build_specs(sub.get("items", {}), ui, f"{path}[].", True)
        specs.append(spec)
    return specs


def sections(definition: dict) -> list[Section]:
    """The top-level specs grouped as ``ui.sections`` says; leftovers go in a last section."""
    ui = definition.get("ui", {})
    specs = build_specs(definition["schema"], ui)
    by_name = {s.name: s for s in specs}
    result, used = [], set()
    for sec in ui.get("sections", []):
        fields = [by_name[n] for n in sec.get("fields", []) if n in by_name and n not in used]
        used.update(f.name for f in fields)
        if fields:
            result.append(Section(sec.get("title"), sec.get("description"), fields))
    rest = [s for s in specs if s.name not in used]
    if rest:
        result.append(Section(None if not result else "其他", None, rest))
    return result


def iter_specs(specs: list[FieldSpec]) -> Iterator[FieldSpec]:
    for spec in specs:
        yield spec
        yield from iter_specs(spec.children)


def attachment_pointers(schema: dict, data: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """``(pointer, attachment id)`` for every value whose schema has ``format: attachment``."""
    if isinstance(data, str) and schema.get("format") == "attachment":
        yield pointer, data
    elif isinstance(data, dict):
        props = schema.get("properties", {})
        for key, value in data.items():
            yield from attachment_pointers(props.get(key, {}), value, f"{pointer}/{key}")
    elif isinstance(data, list):
        items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        for i, value in enumerate(data):
            yield from attachment_pointers(items, value, f"{pointer}/{i}")
