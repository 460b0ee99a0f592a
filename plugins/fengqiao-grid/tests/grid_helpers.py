"""Synthetic identifiers for the grid plugin's tests: valid-checksum numbers of the fictitious
云澜县 (area code 339901; prefecture 99 is unassigned), never real ones. The check characters
are computed here independently of the code under test."""

from __future__ import annotations

LANYUE, QIAODONG = "339901001001", "339901001002"
GRID_A1, GRID_A2, GRID_B1 = "339901001001001", "339901001001002", "339901001002001"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_card(seq: int = 1, born: str = "19800101", region: str = "339901") -> str:
    """A valid fictitious ID number; ``seq`` (1–999) odd for men, even for women."""
    first17 = f"{region}{born}{seq:03d}"
    return first17 + id_check(first17)


def id_card_ending_x(born: str = "19800101") -> str:
    """A valid fictitious ID number whose check character is X."""
    for seq in range(1, 1000):
        number = id_card(seq, born)
        if number.endswith("X"):
            return number
    raise AssertionError("no X check character found")


def with_wrong_check(number: str) -> str:
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong


def credit_code(body: str = "91339901MA2C3D4E5") -> str:
    """A valid 统一社会信用代码 for the 17 characters ``body``."""
    total = sum(_USCC.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC[(31 - total % 31) % 31]
