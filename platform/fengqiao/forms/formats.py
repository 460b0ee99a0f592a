"""The format checker every schema is validated with, and each format's Chinese message.

:data:`FORMAT_CHECKER` is jsonschema's Draft 2020-12 checker plus Fengqiao's formats for
Chinese identifiers: ``cn-id-card``, ``cn-mobile``, ``cn-uscc``, ``cn-postcode`` and
``attachment``. :mod:`fengqiao.validation` and the form-definition checks use it; the plain
predicates are exported too, for code that checks a value outside a schema.

All checks are strict about the stored form of a value: ASCII digits and upper-case letters
only, no surrounding whitespace. Normalisation (NFC, trimming, upper-casing a trailing ``x``
of an ID-card number) happens before validation, in the submission pipeline, so that what
is validated is exactly what is stored. As jsonschema expects, a format check passes for
non-string values; the ``type`` keyword is what rejects those.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from operator import mul
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from fengqiao.db import LOCAL_TZ

# The 2020-12 checkers, copied so our own formats are added to this checker only.
# ``FormatChecker()`` would mix drafts: its ``time`` is draft 3's.
FORMAT_CHECKER = FormatChecker(())
FORMAT_CHECKER.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)

FORMAT_MESSAGES = {
    "email": "请输入有效的电子邮箱地址",
    "date": "请输入有效的日期（如 2026-01-31）",
    "date-time": "请输入有效的日期时间",
    "time": "请输入有效的时间",
    "uri": "请输入有效的网址",
    "cn-id-card": "身份证号码格式不正确",
    "cn-mobile": "请输入 11 位手机号码",
    "cn-uscc": "统一社会信用代码不正确",
    "cn-postcode": "邮政编码应为 6 位数字",
    "attachment": "附件无效，请重新上传",
}

# Birth dates are judged against the calendar where the people live, not the server's clock.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# GB 11643-1999: weights for the first 17 digits; the sum mod 11 indexes the check table.
ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CARD_CHECK_CHARS = "10X98765432"
_ZEROS = ord("0") * sum(ID_CARD_WEIGHTS)
_DIGITS17 = re.compile(r"[0-9]{17}")

# GB 32100-2015: 31 characters (no I, O, S, V, Z) and the weights of the first 17 positions.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# ``re.fullmatch`` with explicit ASCII classes: ``$`` would accept a trailing newline and
# ``\d`` would accept full-width and other Unicode digits.
_ID_CARD_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_USCC_SHAPE = re.compile(f"[{USCC_CHARSET}]{{18}}")
_POSTCODE = re.compile(r"[0-9]{6}")
_ATTACHMENT = re.compile(r"att_[A-Za-z0-9_-]{16,64}")

ID_CARD_LENGTH_MESSAGE = "身份证号码应为 18 位"
ID_CARD_DATE_MESSAGE = "身份证号码中的出生日期无效"
ID_CARD_CHECKSUM_MESSAGE = "身份证号码校验位不正确"


def id_card_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID-card number."""
    if _DIGITS17.fullmatch(first17) is None:
        raise ValueError(f"{len(ID_CARD_WEIGHTS)} ASCII digits expected")
    # the bytes less b"0" each: five times faster than int() per digit (imports check 10,000s)
    total = sum(map(mul, first17.encode(), ID_CARD_WEIGHTS)) - _ZEROS
    return ID_CARD_CHECK_CHARS[total % 11]


def _birth_date(value: str) -> date | None:
    """The birth date at positions 7–14, or None when it is not a plausible one."""
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    today = datetime.now(LOCAL_TZ).date()
    return born if EARLIEST_BIRTH_DATE <= born <= today else None


def id_card_problem(value: Any) -> str | None:
    """The specific Chinese message for an invalid ID-card number, None when it is valid.

    Judged in order: shape (18 characters, 17 ASCII digits then a digit or upper-case X),
    then the birth date, then the check character, so the message names the first thing
    the user has to fix. Non-strings are not this format's business (None).
    """
    if not isinstance(value, str):
        return None
    if not _ID_CARD_SHAPE.fullmatch(value):
        return ID_CARD_LENGTH_MESSAGE
    if _birth_date(value) is None:
        return ID_CARD_DATE_MESSAGE
    if id_card_check_char(value[:17]) != value[17]:
        return ID_CARD_CHECKSUM_MESSAGE
    return None


# GB/T 2260: the first two digits of an area code name a province-level unit.
PROVINCE_CODES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
                            "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
                            "63", "64", "65", "71", "81", "82"})
# 港澳台居民居住证 numbers have the same form, with these area codes of their own.
RESIDENCE_PERMIT_AREAS = frozenset({"810000", "820000", "830000"})
ID_CARD_REGION_MESSAGE = "身份证号码前 6 位地区码无效"


def id_card_region_problem(value: Any) -> str | None:
    """The message for an area code whose province part is no province (``00…``, ``99…``) or
    that names a whole province; only the shape of the code is judged (prefecture and county
    codes change over time). The residence permits' 810000, 820000 and 830000 pass."""
    if not isinstance(value, str) or len(value) < 6:
        return None
    if value[:6] in RESIDENCE_PERMIT_AREAS:
        return None
    return None if value[:2] in PROVINCE_CODES and value[2:6] != "0000" else ID_CARD_REGION_MESSAGE


@FORMAT_CHECKER.checks("cn-id-card")
def is_cn_id_card(value: Any) -> bool:
    """18-character resident ID-card number (GB 11643) with a real, past birth date."""
    return id_card_problem(value) is None


@FORMAT_CHECKER.checks("cn-mobile")
def is_cn_mobile(value: Any) -> bool:
    """Mainland mobile number: 11 digits starting 13–19."""
    return not isinstance(value, str) or _MOBILE.fullmatch(value) is not None


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    total = sum(
        USCC_CHARSET.index(char) * weight
        for char, weight in zip(first17, USCC_WEIGHTS, strict=True)
    )
    return USCC_CHARSET[(31 - total % 31) % 31]


USCC_SHAPE_MESSAGE = "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）"
USCC_CHECKSUM_MESSAGE = "统一社会信用代码校验位不正确"


def uscc_problem(value: Any) -> str | None:
    """The specific Chinese message for an invalid credit code (shape, then check character),
    None when it is valid or not a string."""
    if not isinstance(value, str):
        return None
    if _USCC_SHAPE.fullmatch(value) is None:
        return USCC_SHAPE_MESSAGE
    if uscc_check_char(value[:17]) != value[17]:
        return USCC_CHECKSUM_MESSAGE
    return None


@FORMAT_CHECKER.checks("cn-uscc")
def is_cn_uscc(value: Any) -> bool:
    """Unified social credit code (统一社会信用代码, GB 32100-2015) with a valid check character."""
    return uscc_problem(value) is None


@FORMAT_CHECKER.checks("cn-postcode")
def is_cn_postcode(value: Any) -> bool:
    """Postal code: exactly 6 ASCII digits."""
    return not isinstance(value, str) or _POSTCODE.fullmatch(value) is not None


@FORMAT_CHECKER.checks("attachment")
def is_attachment(value: Any) -> bool:
    """The id of an uploaded file (``att_`` + 16–64 URL-safe characters).

    Only the shape is checked here; whether the upload exists and belongs to the submitter
    is the submission pipeline's job, since it needs the database.
    """
    return not isinstance(value, str) or _ATTACHMENT.fullmatch(value) is not None


# Per-format hooks giving a more specific message for a failing value (None: use
# FORMAT_MESSAGES): an ID-card number says whether its length, date or check digit is wrong.
FORMAT_DETAIL: dict[str, Callable[[Any], str | None]] = {"cn-id-card": id_card_problem}


def format_message(name: str, value: Any) -> str:
    """The Chinese message for ``value`` failing the format ``name``."""
    detail = FORMAT_DETAIL.get(name)
    return (detail(value) if detail is not None else None) or FORMAT_MESSAGES.get(name, "格式不正确")
