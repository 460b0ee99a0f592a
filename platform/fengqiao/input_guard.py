"""Refuse input no view can handle, once, before any view sees it.

PostgreSQL rejects NUL (``\\x00``) in text and UTF-8 cannot encode lone surrogates (``"\\ud800"``
in JSON); either would surface as a 500 from deep inside a query. Every path parameter, query
parameter, form field and JSON string is checked here instead: 400 with a Chinese message.

``NaN``, ``Infinity`` and overflowing literals (``1e999``), which Python's JSON parser reads
as floats, are refused too (400 ``invalid_number``): NaN passes every ``minimum``/``maximum``
and PostgreSQL's json type refuses both.

JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused the same way (400 ``too_deep``),
counted on the raw body without parsing it (:func:`json_depth`): Python's JSON parser, and
anything walking the result recursively, overflow the stack at ~1,000 levels, and no form or
API body needs more than a few. The walk over parsed values is iterative too.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from flask import Flask, request

from fengqiao.errors import APIError
from fengqiao.params import install_integer_converter

MESSAGE = "提交的内容包含无法保存的控制字符或无效编码，请删除后重试"
NUMBER_MESSAGE = "提交的数字无效（不支持 NaN、Infinity 或超出范围的数字）"
MAX_JSON_DEPTH = 64
DEPTH_MESSAGE = f"提交的数据嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）"
# A JSON string (an unterminated one runs to the end: the match never fails, so the scan stays
# linear), and everything that is not a bracket.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEPS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})


def json_depth(body: bytes | str) -> int:
    """How deeply arrays and objects nest in ``body``, counted outside strings without parsing
    or recursion (regular expressions and C iterators: ~50 ms a megabyte). Bytes are decoded
    as the JSON parser would (UTF-8, -16 or -32); undecodable bytes count as 0, the parser
    refuses them anyway."""
    if isinstance(body, bytes):
        if body.count(b"[") + body.count(b"{") == 0:
            return 0
        try:
            body = body.decode(json.detect_encoding(body), "surrogatepass")
        except (UnicodeDecodeError, LookupError):
            return 0
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", body))
    if not brackets:
        return 0
    steps = memoryview(brackets.translate(_STEPS).encode("latin-1")).cast("b")  # +1 / -1 each
    return max(0, max(accumulate(steps)))


def too_deep(body: bytes | str) -> bool:
    """Whether ``body`` nests deeper than :data:`MAX_JSON_DEPTH` (for JSON read elsewhere:
    cursors, definitions, spreadsheet cells)."""
    return json_depth(body) > MAX_JSON_DEPTH


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


def unstorable(value: Any) -> bool:
    """Whether ``value`` (or any string inside it) holds NUL or cannot be encoded as UTF-8."""
    pending = [value]  # an explicit stack: nesting depth never touches Python's
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def non_finite(value: Any) -> bool:
    """Whether ``value`` holds a float that is NaN or infinite (walked with a stack)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _request_is_unstorable() -> bool:
    if unstorable(dict(request.view_args or {})):
        return True
    if any(unstorable(k) or unstorable(v) for k, v in request.args.items(multi=True)):
        return True
    if request.method not in _WRITES:
        return False
    if request.is_json:
        return unstorable(request.get_json(silent=True))
    if request.mimetype in _FORM_TYPES:
        return any(unstorable(k) or unstorable(v) for k, v in request.form.items(multi=True))
    return False


def init_input_guard(app: Flask) -> None:
    install_integer_converter(app)  # before any blueprint: strict <int:…> on every route

    @app.before_request
    def _refuse_unstorable_text():
        if request.endpoint is None:
            return None  # 404/405 answer first
        if request.method in _WRITES and request.is_json and too_deep(request.get_data(cache=True)):
            raise APIError(400, [("", DEPTH_MESSAGE, "too_deep")])
        if _request_is_unstorable():
            raise APIError(400, [("", MESSAGE, "invalid_character")])
        if request.method in _WRITES and request.is_json and non_finite(request.get_json(silent=True)):
            raise APIError(400, [("", NUMBER_MESSAGE, "invalid_number")])
        return None
