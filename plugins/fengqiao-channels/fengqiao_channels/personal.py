"""Personal channels: e-mail (SMTP) and SMS (an HTTP gateway), set up once per install in the
plugin's settings (/admin/plugins/channels); each user gives their own address.

Both read the settings when they send, so a change applies to the next attempt. SMS waits
through a unit's quiet hours unless the matter is urgent, and may reach residents.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import replace
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from fengqiao.sdk.channels import (
    EXCERPT,
    Answer,
    Channel,
    Delivered,
    Failed,
    Message,
    Recipient,
    Result,
    RetryAfter,
    http_failure,
    post_json,
    url_problem,
)
from fengqiao.sdk.privacy import mask_text

SMTP_TIMEOUT = 5.0
SMS_MAX_CHARS = 300
EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")  # 中国大陆手机号

Settings = Callable[[], dict]


def plugin_settings_now() -> dict:
    """The settings the admin saved (read at send time, inside the job's app context)."""
    from fengqiao.sdk.plugin import plugin_settings

    return plugin_settings("channels")


class EmailChannel(Channel):
    name = "email"
    label = "电子邮件"
    audience = "personal"
    address_field = "email"

    def __init__(self, settings: Settings = plugin_settings_now):
        self.settings = settings

    def compose(self, address: str, message: Message, sender: str) -> EmailMessage:
        """Subject = title; a plain-text part and a simple HTML one, each with the link. The
        Message-ID derives from the event id, so a mail sent twice is recognisably the same."""
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = sender
        mail["To"] = address
        mail["Message-ID"] = make_msgid(idstring=re.sub(r"[^A-Za-z0-9.-]", "-", message.event_id)[:60],
                                        domain="fengqiao.local")
        mail["X-Fengqiao-Event"] = message.event_id
        lines = [message.title, "", message.text] if message.text else [message.title]
        if message.link:
            lines += ["", f"查看详情：{message.link}"]
        lines += ["", "—— 本邮件由枫桥平台自动发送，请勿直接回复。"]
        mail.set_content("\n".join(lines))
        link = (f'<p><a href="{html.escape(message.link)}">查看详情</a></p>' if message.link else "")
        text = "".join(f"<p>{html.escape(line)}</p>" for line in message.text.splitlines() if line.strip())
        mail.add_alternative(
            f"<!doctype html><html><body><h2>{html.escape(message.title)}</h2>{text}{link}"
            "<p style=\"color:#888\">本邮件由枫桥平台自动发送，请勿直接回复。</p></body></html>", subtype="html")
        return mail

    def send(self, recipient: Recipient, message: Message) -> Result:
        settings = self.settings()
        host, sender = settings.get("smtp_host") or "", settings.get("smtp_from") or ""
        if not host or not sender:
            return Failed("邮件服务器未配置（插件设置：SMTP 服务器、发件人）")
        if not EMAIL.match(recipient.address or ""):
            return Failed("邮箱地址无效")
        result = self._deliver(settings, host, self.compose(recipient.address, message,
                                                            formataddr(("枫桥平台", sender))))
        return _scrubbed(result, recipient.address)

    def _deliver(self, settings: dict, host: str, mail: EmailMessage) -> Result:
        try:
            with smtplib.SMTP(host, int(settings.get("smtp_port") or 25), timeout=SMTP_TIMEOUT) as smtp:
                if settings.get("smtp_starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                if settings.get("smtp_username"):
                    smtp.login(settings["smtp_username"], settings.get("smtp_password") or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as error:
            return Failed("邮件服务器拒绝了用户名或密码", error.smtp_code, _smtp_text(error.smtp_error))
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()), (None, b""))
            return _by_smtp_code(code, "邮件服务器拒收该地址", text)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            return _by_smtp_code(error.smtp_code, "邮件服务器拒收", error.smtp_error)
        except smtplib.SMTPNotSupportedError:
            return Failed("邮件服务器不支持 STARTTLS 或登录")
        except (smtplib.SMTPException, OSError) as error:  # timeouts, refused connections, disconnects
            return RetryAfter(f"邮件服务器暂不可用：{error.__class__.__name__}")
        if refused:
            code, text = next(iter(refused.values()))
            return _by_smtp_code(code, "邮件服务器拒收该地址", text)
        return Delivered(250, "")


def _scrubbed(result: Result, address: str) -> Result:
    """The result with the address masked out of its reason and excerpt (servers echo it)."""
    def clean(text: str) -> str:
        if "@" in address and address in text:
            name, _, domain = address.partition("@")
            text = text.replace(address, f"{name[:1]}***@{domain}")
        return mask_text(text)
    changes = {"excerpt": clean(result.excerpt)}
    if not isinstance(result, Delivered):
        changes["reason"] = clean(result.reason)
    return replace(result, **changes)


def _smtp_text(value) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or ""))[:EXCERPT]


def _by_smtp_code(code: int | None, reason: str, text) -> Failed | RetryAfter:
    """SMTP 4xx is transient (greylisting, a full mailbox queue), 5xx permanent."""
    excerpt = _smtp_text(text)
    if code is not None and 400 <= code < 500:
        return RetryAfter(f"{reason}（{code}，稍后重试）", None, code, excerpt)
    return Failed(f"{reason}（{code}）", code, excerpt)


def sms_content(message: Message, limit: int = SMS_MAX_CHARS) -> str:
    """Title, (masked) text and link in at most ``limit`` characters; the text gives way first."""
    head, tail = message.title, (f" {message.link}" if message.link else "")
    room = limit - len(head) - len(tail) - 1
    text = message.text.replace("\n", " ").strip()
    if room <= 0:
        return (head + tail)[:limit]
    if len(text) > room:
        text = text[:room - 1] + "…"
    return f"{head}：{text}{tail}" if text else head + tail


class SmsChannel(Channel):
    """A configurable HTTP gateway: ``POST {sms_url}`` with ``Authorization: Bearer <key>`` and
    ``{"mobile", "content", "sign", "event_id"}``; 2xx is sent."""

    name = "sms"
    label = "短信"
    audience = "personal"
    address_field = "mobile"
    quiet_hours = True
    reaches_residents = True

    def __init__(self, settings: Settings = plugin_settings_now):
        self.settings = settings

    def send(self, recipient: Recipient, message: Message) -> Result:
        settings = self.settings()
        url, key = settings.get("sms_url") or "", settings.get("sms_api_key") or ""
        if url_problem(url, resolve=False) or not key:
            return Failed("短信网关未配置（插件设置：网关地址、API 密钥）")
        mobile = (recipient.address or "").strip().removeprefix("+86")
        if not MOBILE.match(mobile):
            return Failed("手机号无效")
        answer = post_json(url, {"mobile": mobile, "content": sms_content(message),
                                 "sign": settings.get("sms_sign") or "", "event_id": message.event_id},
                           headers={"Authorization": f"Bearer {key}"})
        if not isinstance(answer, Answer):
            return answer
        failed = http_failure(answer, "短信网关")
        return _scrubbed(failed if failed is not None else Delivered(answer.status, answer.text[:EXCERPT]), mobile)
