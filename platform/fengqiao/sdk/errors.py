"""Errors a plugin raises and catches, and the one answer for a missing object.

Two families, both answered in the one JSON error shape ``{"errors":[{"pointer","message",
"code"}]}`` on the API and as the Chinese error page on pages:

- the domain errors (``NotFound``, ``Forbidden``, ``Conflict``, ``Invalid``, base
  ``DomainError``) for a plugin's own services: they say what went wrong, never an HTTP status;
  the core maps them (404, 403, 409, 422);
- ``APIError(status, problems)`` for what only HTTP knows, and ``ValidationFailed(problems)``
  (422). Every sdk function raises these two (``err.status``, ``err.problems``), whatever the
  core raises inside: plugin code written for API 1.x that catches ``APIError`` keeps working.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from fengqiao.errors import APIError, http_status
from fengqiao.exceptions import Conflict, DomainError, Forbidden, Invalid, NotFound, Problem

__all__ = [
    "APIError", "Conflict", "DomainError", "Forbidden", "Invalid", "NOT_FOUND_MESSAGE", "NotFound",
    "Problem", "ValidationFailed", "not_found",
]


class ValidationFailed(APIError, Invalid):
    """Invalid input: 422 with one ``(pointer, message, code)`` per field; both an ``APIError``
    (``status`` 422) and an ``Invalid`` (``for_field(pointer)``)."""

    def __init__(self, problems):
        self.status = 422
        Invalid.__init__(self, problems)


NOT_FOUND_MESSAGE = NotFound.default_message
"""「未找到该页面或记录」: the one answer for an object that is missing or outside the caller's
scope. It names nothing about the object, so answers cannot be probed."""


def not_found(pointer: str = "") -> APIError:
    """The uniform 404 (``raise not_found()``; ``pointer`` names a body field that referred to it)."""
    return APIError(404, [(pointer, NOT_FOUND_MESSAGE, "not_found")])


def as_plugin_error(err: DomainError) -> APIError:
    """``err`` as the sdk promises it: an ``APIError`` with its status (``ValidationFailed`` for
    invalid input)."""
    if isinstance(err, APIError):
        return err
    if isinstance(err, Invalid):
        return ValidationFailed(err.problems)
    return APIError(http_status(err), err.problems)


P = ParamSpec("P")
R = TypeVar("R")


def plugin_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate an sdk function so the core's domain errors leave it as ``APIError``s."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except APIError:
            raise
        except DomainError as err:
            raise as_plugin_error(err) from err

    return wrapper
