"""Domain errors: what a service says went wrong, in the user's words, without HTTP.

Services (cases, forms, accounts, orgs, jobs …) raise these; they never know whether a web
page, the JSON API, a CLI command or a job called them. Only the web layer
(``fengqiao.errors``) turns one into a status code and the error shape
``{"errors": [{"pointer", "message", "code"}]}``; a command prints the message, a job
records it. Every error carries one or more problems ``(pointer, message, code)``: the
pointer names the field the user must fix ("" for the request as a whole), the message is
Chinese and shown as is, the code is stable for programs.
"""

from __future__ import annotations

from collections.abc import Iterable

Problem = tuple[str, str, str]  # (pointer, message, code)


class DomainError(Exception):
    """Something the user or caller can act on; subclasses name the kind."""

    default_message = "请求失败"
    default_code = "error"

    def __init__(self, message: str | None = None, *, code: str | None = None, pointer: str = ""):
        self.problems: list[Problem] = [(pointer, message or self.default_message, code or self.default_code)]
        super().__init__(self.problems[0][1])

    @property
    def message(self) -> str:
        return self.problems[0][1]

    @property
    def code(self) -> str:
        return self.problems[0][2]


class NotFound(DomainError):
    """No such object, or one the caller may not know exists (never says which)."""

    default_message = "未找到该页面或记录"
    default_code = "not_found"


class Unauthenticated(DomainError):
    """The caller must sign in (again) or present valid credentials."""

    default_message = "请先登录"
    default_code = "unauthorized"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    default_message = "没有权限执行此操作"
    default_code = "forbidden"


class Conflict(DomainError):
    """The object's state does not allow this now (someone acted first, already done …)."""

    default_message = "数据已被他人修改，请刷新后重试"
    default_code = "conflict"


class Gone(DomainError):
    """The object existed but no longer accepts this (an archived form)."""

    default_message = "该内容已停用"
    default_code = "gone"


class TooLarge(DomainError):
    """The input is bigger than the service accepts."""

    default_message = "提交内容过大"
    default_code = "too_large"


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one may succeed."""

    default_message = "请求过于频繁，请稍后再试"
    default_code = "rate_limited"

    def __init__(self, message: str | None = None, *, code: str | None = None, pointer: str = "",
                 retry_after: int | None = None):
        super().__init__(message, code=code, pointer=pointer)
        self.retry_after = retry_after


class Invalid(DomainError):
    """Invalid input: one problem per field, every one reported at once."""

    default_message = "提交的内容有误"
    default_code = "invalid"

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems) or [("", self.default_message, self.default_code)]
        Exception.__init__(self, self.problems[0][1])

    @classmethod
    def field(cls, pointer: str, message: str, code: str) -> Invalid:
        """One problem with one field: ``raise Invalid.field("/org", "…", "unknown_org")``."""
        return cls([(pointer, message, code)])

    def for_field(self, pointer: str) -> list[str]:
        """The messages about ``pointer`` (to show beside that field of a form)."""
        return [m for p, m, _ in self.problems if p == pointer]
