"""Server-side checks of HTML form fields, one clear Chinese message per field."""

from __future__ import annotations

from fengqiao.sdk.web import MAX_INT, parse_int
from flask import request


class Fields:
    """Reads ``request.form`` and collects per-field errors (``errors[name] = message``)."""

    def __init__(self, source=None):
        self.source = request.form if source is None else source
        self.errors: dict[str, str] = {}
        self.values: dict[str, str] = {k: v for k, v in self.source.items() if k != "csrf_token"}

    def text(self, name: str, label: str, *, required: bool = True, min_len: int = 1,
             max_len: int = 100) -> str:
        value = (self.source.get(name) or "").strip()
        if not value:
            if required:
                self.errors[name] = f"请填写{label}"
            return ""
        if len(value) < min_len:
            self.errors[name] = f"{label}至少 {min_len} 个字"
        elif len(value) > max_len:
            self.errors[name] = f"{label}不能超过 {max_len} 个字"
        return value

    def integer(self, name: str, label: str, *, minimum: int, maximum: int, required: bool = True,
                nonzero: bool = False) -> int | None:
        raw = (self.source.get(name) or "").strip()
        if not raw:
            if required:
                self.errors[name] = f"请填写{label}"
            return None
        value = parse_int(raw, minimum=-MAX_INT)  # ASCII digits only: int() takes ² no, ١٢ and １２ yes
        if value is None:
            self.errors[name] = f"{label}应为整数"
            return None
        if not minimum <= value <= maximum:
            self.errors[name] = f"{label}应在 {minimum} 到 {maximum} 之间"
            return None
        if nonzero and value == 0:
            self.errors[name] = f"{label}不能为 0"
            return None
        return value

    def choice(self, name: str, label: str, options: dict, *, required: bool = True) -> str | None:
        value = (self.source.get(name) or "").strip()
        if not value and not required:
            return None
        if value not in options:
            self.errors[name] = f"请选择{label}"
            return None
        return value

    @property
    def ok(self) -> bool:
        return not self.errors
