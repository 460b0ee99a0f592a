"""Argon2id password hashing and the password policy."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this keeps login timing equal for unknown usernames.
_DUMMY_HASH = _hasher.hash("fengqiao-timing-equaliser")


def use_fast_hashing() -> None:
    """Cheap argon2 parameters for the test suite only (still argon2id, still verified)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = _hasher.hash("fengqiao-timing-equaliser")

MIN_LENGTH = 10
RULES_TEXT = "至少 10 位，包含至少两类字符（字母、数字、符号），不能包含用户名或使用常见密码"
MAX_LENGTH = 128
# The most guessed passwords that pass the length rule (lower-cased comparison), plus
# Chinese favourites; a real deployment can extend it through ``extra_common``.
COMMON_PASSWORDS = frozenset({
    "1234567890", "0123456789", "12345678910", "qwertyuiop", "1q2w3e4r5t", "1qaz2wsx3edc",
    "password1", "password12", "password123", "password1234", "passw0rd123", "p@ssw0rd123",
    "qwerty12345", "qwerty123456", "abcd123456", "abc1234567", "abc12345678", "a123456789",
    "aa123456789", "iloveyou123", "admin12345", "admin123456", "administrator", "welcome123",
    "woaini1314", "woaini520", "woaini123456", "5201314520", "zhang123456", "wang123456",
    "li123456789", "changeme123", "letmein123", "fengqiao123", "qazwsx123456",
})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def _classes(password: str) -> int:
    kinds = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z\d]")
    return sum(1 for pattern in kinds if re.search(pattern, password))


def policy_problem(password: str, username: str | None = None) -> str | None:
    """The Chinese reason a password is unacceptable, or None.

    At least 10 characters, at least two kinds of character (lower case, upper case, digits,
    symbols), not the username, not one of the most common passwords.
    """
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 位"
    if _classes(password) < 2:
        return "密码须包含至少两类字符（小写字母、大写字母、数字、符号）"
    lowered = password.lower()
    if username and username.strip() and username.strip().lower() in lowered:
        return "密码不能包含用户名"
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2:
        return "密码过于常见，容易被猜到，请换一个"
    return None
