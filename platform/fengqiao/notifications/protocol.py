"""What a notification channel is: the interface plugins implement (re-exported by
``fengqiao.sdk.channels``, API 1.7) and the core calls. See that module for the contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Message:
    """What to say: a title, masked text, an absolute link, and the event's id (the same on
    every retry, so a receiver can drop a duplicate)."""

    event_id: str
    kind: str
    title: str
    text: str
    link: str = ""
    case_number: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Recipient:
    """Whom to reach: a user (``address`` is their e-mail or mobile, per the channel's
    ``address_field``), a unit's group (``config`` is the unit's settings for the channel:
    robot URL, secret …) or a resident (``address`` is the mobile they left)."""

    kind: str  # "user" | "unit" | "resident"
    name: str
    address: str = ""
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivered:
    response_code: int | None = None
    excerpt: str = ""


@dataclass(frozen=True)
class Failed:
    """A permanent failure (bad address, rejected credentials): no retry."""

    reason: str
    response_code: int | None = None
    excerpt: str = ""


@dataclass(frozen=True)
class RetryAfter:
    """A transient failure (timeout, rate limit, 5xx): try again after ``seconds`` (None: the
    core's backoff)."""

    reason: str
    seconds: float | None = None
    response_code: int | None = None
    excerpt: str = ""


Result = Delivered | Failed | RetryAfter


class Channel:
    """A delivery channel. ``audience`` says whom it reaches: ``"personal"`` channels send to a
    user's (or resident's) address, ``"unit"`` channels to a unit's group, configured by that
    unit's admin with ``config_schema`` (a JSON Schema object; mark secrets with
    ``"writeOnly": true`` and they are never shown back)."""

    name: ClassVar[str] = ""  # stable key: "email", "sms", "wecom" …
    label: ClassVar[str] = ""  # shown to admins and users: 「电子邮件」
    audience: ClassVar[str] = "personal"  # "personal" | "unit"
    address_field: ClassVar[str | None] = None  # personal channels: "email" or "mobile"
    quiet_hours: ClassVar[bool] = False  # held during a unit's quiet hours unless urgent (SMS)
    reaches_residents: ClassVar[bool] = False  # may carry residents' case updates (SMS)
    config_schema: ClassVar[dict[str, Any]] = {}

    def send(self, recipient: Recipient, message: Message) -> Result:
        raise NotImplementedError
