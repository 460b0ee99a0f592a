"""One strict integer parser for everything a request carries: query, form, path, cursors.

``str.isdigit()`` is true for ``²`` (which ``int()`` then refuses: a 500), ``int()`` accepts
``٣``, ``１２３``, `` 1`` and ``1_000``, and a long enough number overflows a database column
or Python's 4,300-digit limit. Every integer from a request is read here instead: ASCII
digits only, within a PostgreSQL ``integer`` unless the caller says otherwise, so a bad value
is the caller's 4xx with a Chinese message. Plugins get the same through ``fengqiao.sdk``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TypeVar

from flask import Flask, request
from werkzeug.routing import IntegerConverter as _WerkzeugIntegerConverter

from fengqiao.errors import APIError

MAX_INT = 2**31 - 1  # PostgreSQL ``integer``; ids, versions and counts all fit
_INTEGER = re.compile(r"-?[0-9]{1,19}")
T = TypeVar("T")


def parse_int(raw: object, default: T = None, *, minimum: int = 0, maximum: int = MAX_INT) -> int | T:
    """``raw`` as an int when it is ASCII digits (``-`` only when ``minimum`` is negative)
    within ``minimum``–``maximum``; otherwise ``default``. Never raises."""
    if not isinstance(raw, str) or not _INTEGER.fullmatch(raw):
        return default
    value = int(raw)
    return value if minimum <= value <= maximum else default


def finite_float(text: str) -> float:
    """``float(text)``, but NaN and the infinities (``nan``, ``inf``, ``1e999``) are a
    ValueError like any other text that is not a number: no field can hold them."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def int_arg(name: str, default: T = None, *, minimum: int = 0, maximum: int = MAX_INT,
            source: Mapping[str, str] | None = None, status: int = 422, message: str | None = None,
            code: str = "type") -> int | T:
    """The query parameter ``name`` (or ``source[name]``, e.g. ``request.form``) as an int;
    ``default`` when absent or blank, and ``status`` (JSON on the API, a Chinese page
    otherwise) when it is anything but an integer in range."""
    raw = (request.args if source is None else source).get(name)
    if raw is None or not raw.strip():
        return default
    value = parse_int(raw.strip(), minimum=minimum, maximum=maximum)
    if value is None:
        if message is None:
            bounds = f"{minimum}–{maximum} 之间的整数" if maximum < MAX_INT else f"不小于 {minimum} 的整数"
            message = f"参数 {name} 应为{bounds}"
        raise APIError(status, [(f"/{name}", message, code)])
    return value


def page_limit(default: int = 50, maximum: int = 200) -> int:
    """The ``limit`` query parameter of a paged list (API lists and the queue page)."""
    return int_arg("limit", default, minimum=1, maximum=maximum, message=f"limit 应为 1–{maximum} 的整数", code="range")


class IntegerConverter(_WerkzeugIntegerConverter):
    """``<int:…>`` path parameters: ASCII digits up to :data:`MAX_INT` (Werkzeug's matches
    any Unicode digit and any length). Anything else does not match: 404. Same name as
    Werkzeug's, as it replaces it for every route."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 (werkzeug's names)
                 max: int | None = MAX_INT, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


def install_integer_converter(app: Flask) -> None:
    """Make ``<int:…>`` strict; must run before any blueprint is registered."""
    app.url_map.converters["int"] = IntegerConverter
