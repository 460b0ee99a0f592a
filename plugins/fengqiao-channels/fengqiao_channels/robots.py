"""Unit channels: a unit's 企业微信 or 钉钉 group robot, configured by the unit's admin.

企业微信群机器人: POST ``{"msgtype": "markdown", "markdown": {"content": …}}`` to the robot's
webhook URL; the ``key`` in the URL is the only credential (there is no signing scheme).
Answers ``{"errcode": 0, "errmsg": "ok"}``; 45009 means the robot's limit (20 messages a
minute) was hit, -1 that the platform is busy.

钉钉自定义机器人: POST ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}`` to the
robot's URL; with 加签 the query also carries ``timestamp`` (ms) and
``sign = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))``. errcode 0 is ok,
130101 "send too fast" the rate limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

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

WECOM_MAX_BYTES = 4096  # the markdown content's limit
DINGTALK_MAX_BYTES = 5000  # kept well below what the platform accepts (about 20 000 bytes)
RATE_LIMIT_WAIT = 60.0  # seconds: both robots count their limit per minute


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes (on a character boundary), marked when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - len("…".encode())].decode("utf-8", "ignore") + "…"


def markdown_body(message: Message, limit: int) -> str:
    """Title, (masked) text and the link, as the robots' markdown subset shows them."""
    head = f"**{'【紧急】' if message.urgent else ''}{message.title}**"
    link = f"\n\n[查看详情]({message.link})" if message.link else ""
    room = limit - len((head + "\n\n" + link).encode("utf-8"))
    text = _clip(message.text, max(room, 0)) if message.text else ""
    return head + (f"\n\n{text}" if text else "") + link


def _url_schema(title: str, description: str) -> dict:
    """The robot's URL: its key or access token is the credential, so it is never shown back."""
    return {"type": "string", "title": title, "description": description, "maxLength": 2000,
            "pattern": r"^https?://[^\s/?#]+[^\s]*$", "writeOnly": True}


class RobotChannel(Channel):
    """What the two robots share: a configured URL, a JSON answer with ``errcode``."""

    audience = "unit"
    platform = ""
    rate_limited: frozenset[int] = frozenset()
    busy: frozenset[int] = frozenset({-1})

    def url_for(self, config: dict) -> str:
        return config["url"]

    def body(self, message: Message) -> dict:
        raise NotImplementedError

    def send(self, recipient: Recipient, message: Message) -> Result:
        config = recipient.config or {}
        if url_problem(config.get("url"), resolve=False):
            return Failed(f"{self.label}地址未配置或无效")
        answer = post_json(self.url_for(config), self.body(message))
        if not isinstance(answer, Answer):
            return answer
        failed = http_failure(answer, self.platform)
        if failed is not None:
            return failed
        excerpt = answer.text[:EXCERPT]
        reply = answer.json()
        if reply is None or not isinstance(reply.get("errcode"), int):
            return Failed(f"{self.platform}的应答无法识别", answer.status, excerpt)
        code, why = reply["errcode"], str(reply.get("errmsg", ""))[:200]
        if code == 0:
            return Delivered(answer.status, excerpt)
        if code in self.rate_limited:
            return RetryAfter(f"{self.platform}限流（errcode {code}）", RATE_LIMIT_WAIT, answer.status, excerpt)
        if code in self.busy:
            return RetryAfter(f"{self.platform}繁忙（errcode {code}）", None, answer.status, excerpt)
        return Failed(f"{self.platform}拒绝了消息（errcode {code}：{why}）", answer.status, excerpt)


class WecomChannel(RobotChannel):
    name = "wecom"
    label = "企业微信群机器人"
    platform = "企业微信"
    rate_limited = frozenset({45009})
    config_schema = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "enabled": {"type": "boolean", "title": "启用", "default": False},
            "url": _url_schema("Webhook 地址", "群设置 → 群机器人 → 复制 Webhook 地址"
                               "（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）；地址中的 key 即凭据，请勿外传"),
        },
        "additionalProperties": False,
    }

    def body(self, message: Message) -> dict:
        return {"msgtype": "markdown", "markdown": {"content": markdown_body(message, WECOM_MAX_BYTES)}}


def dingtalk_sign(secret: str, timestamp: int) -> str:
    """钉钉加签: the ``sign`` query value for ``timestamp`` (milliseconds)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


class DingtalkChannel(RobotChannel):
    name = "dingtalk"
    label = "钉钉群机器人"
    platform = "钉钉"
    rate_limited = frozenset({130101})
    config_schema = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "enabled": {"type": "boolean", "title": "启用", "default": False},
            "url": _url_schema("Webhook 地址", "机器人设置中的 Webhook（https://oapi.dingtalk.com/robot/send?access_token=…）"),
            "secret": {"type": "string", "title": "加签密钥", "description": "安全设置选「加签」时显示的 SEC 开头的字符串",
                       "maxLength": 200, "writeOnly": True},
        },
        "additionalProperties": False,
    }

    def url_for(self, config: dict) -> str:
        url, secret = config["url"], config.get("secret") or ""
        if not secret:
            return url
        timestamp = int(time.time() * 1000)
        return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"

    def body(self, message: Message) -> dict:
        return {"msgtype": "markdown",
                "markdown": {"title": message.title[:100], "text": markdown_body(message, DINGTALK_MAX_BYTES)}}
