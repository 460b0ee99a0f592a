"""Requests this server makes to other servers (webhooks, group robots, SMS gateways): one
JSON POST with a short timeout, no redirects, and never to a private or loopback address
unless the operator listed the host in ``FENGQIAO_WEBHOOK_ALLOW_HOSTS``.

The guard matters because admins type these URLs: without it a unit admin could make the
server call its own database port, the cloud metadata address or an intranet service and read
the answer back in the delivery log. A host is checked by every address it resolves to, when
the URL is saved and again before each request (DNS may have changed). Redirects are not
followed: a 3xx would let a checked URL send the message somewhere unchecked.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from flask import current_app

from fengqiao.notifications.protocol import Failed, RetryAfter
from fengqiao.params import parse_int

TIMEOUT = 5.0  # seconds per request: a slow receiver is retried later, never waited for
EXCERPT = 500  # characters of an answer kept in the delivery log
MAX_URL = 2000


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict | None:
        try:
            value = json.loads(self.text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def allowed_hosts() -> tuple[str, ...]:
    """``FENGQIAO_WEBHOOK_ALLOW_HOSTS``: hosts, addresses or networks (CIDR) on private or
    loopback addresses that may be called anyway (an intranet 12345 platform)."""
    return current_app.extensions["fengqiao.settings"].webhook_allow_hosts


def _listed(host: str, addresses: list[ipaddress._BaseAddress], allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        if entry.lower() == host.lower():
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if addresses and all(a in network for a in addresses):
            return True
    return False


def url_problem(url: object, *, resolve: bool = True, unresolved_ok: bool = False) -> str | None:
    """Why ``url`` may not be called, in Chinese, or None: an absolute http(s) URL with a host,
    no user name or password in it, resolving only to public addresses unless listed.
    ``unresolved_ok``: a host that does not resolve (yet) passes — when a URL is saved; the
    check before each request resolves it again."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL or any(c.isspace() for c in url):
        return "请填写以 http:// 或 https:// 开头的完整地址"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "地址格式不正确"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "请填写以 http:// 或 https:// 开头的完整地址"
    if parts.username or parts.password:
        return "地址中不能包含用户名或密码"
    if not resolve:
        return None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None if unresolved_ok else f"无法解析主机名 {host}"
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if all(a.is_global for a in addresses) or _listed(host, addresses, allowed_hosts()):
        return None
    return f"{host} 是内网或本机地址，未列入 FENGQIAO_WEBHOOK_ALLOW_HOSTS，不能作为推送地址"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: dict | bytes, headers: dict[str, str] | None = None,
              timeout: float | None = None) -> Answer | Failed | RetryAfter:
    """POST ``body`` (a dict as JSON, or bytes already encoded); the answer (any status),
    ``Failed`` for a URL the guard refuses, ``RetryAfter`` when no answer came (timeout,
    refused connection, DNS failure). Reasons never repeat the URL: robot URLs carry keys."""
    problem = url_problem(url)
    if problem is not None:
        return Failed(problem)
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "fengqiao", **(headers or {})})
    try:
        with _OPENER.open(request, timeout=timeout or TIMEOUT) as response:
            return Answer(response.status, _read(response), dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, _read(error), dict(error.headers.items()) if error.headers else {})
    except TimeoutError:
        return RetryAfter("连接超时")
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return RetryAfter("连接超时")
        return RetryAfter(f"无法连接：{error.reason.__class__.__name__}")
    except (OSError, ValueError) as error:  # reset mid-response, a malformed URL …
        return RetryAfter(f"无法连接：{error.__class__.__name__}")


def _read(response) -> str:
    try:
        return response.read(64 * 1024).decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    value = value.strip()
    seconds = parse_int(value)
    if seconds is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 1.0)


def http_failure(answer: Answer, who: str) -> Failed | RetryAfter | None:
    """The delivery outcome an HTTP status alone decides, or None for a 2xx (the body decides).
    429 and 5xx are transient; 3xx and other 4xx permanent (a wrong URL or rejected key)."""
    excerpt = answer.text[:EXCERPT]
    if 200 <= answer.status < 300:
        return None
    if answer.status == 429:
        return RetryAfter(f"{who}限流（HTTP 429）", retry_after_seconds(answer.headers), 429, excerpt)
    if answer.status >= 500:
        return RetryAfter(f"{who}暂时不可用（HTTP {answer.status}）", retry_after_seconds(answer.headers),
                          answer.status, excerpt)
    if answer.status in (401, 403):
        return Failed(f"{who}拒绝了凭据（HTTP {answer.status}）", answer.status, excerpt)
    return Failed(f"{who}拒绝了请求（HTTP {answer.status}）", answer.status, excerpt)
