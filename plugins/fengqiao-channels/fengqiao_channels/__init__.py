"""fengqiao-channels (通知渠道): the message centre's deliveries beyond the inbox — e-mail,
企业微信 and 钉钉 group robots, SMS — as ``fengqiao.sdk.channels.Channel``s.

Imports only ``fengqiao.sdk`` from the core; the standard library does the sending (smtplib,
urllib) with a 5-second timeout. E-mail and SMS are set up once in the plugin's settings;
each unit's admin configures their own group robot (URL, 钉钉加签 secret) in the unit's
notification settings. Who hears of what, retries, quiet hours and the dead-letter list are
the core's (``fengqiao.notifications``).
"""

from __future__ import annotations

from fengqiao.sdk.plugin import Plugin

from fengqiao_channels.personal import EmailChannel, SmsChannel
from fengqiao_channels.robots import DingtalkChannel, WecomChannel

__all__ = ["ChannelsPlugin", "DingtalkChannel", "EmailChannel", "SmsChannel", "WecomChannel"]


class ChannelsPlugin(Plugin):
    name = "channels"
    title = "通知渠道"
    description = "把站内信同时发送到电子邮件、短信、企业微信群和钉钉群。"
    api_version = ">=1.7,<2"  # fengqiao.sdk.channels came with 1.7
    settings_schema = {
        "type": "object",
        "properties": {
            "smtp_host": {"type": "string", "title": "SMTP 服务器", "maxLength": 255},
            "smtp_port": {"type": "integer", "title": "SMTP 端口", "default": 25, "minimum": 1, "maximum": 65535},
            "smtp_starttls": {"type": "boolean", "title": "使用 STARTTLS 加密", "default": False},
            "smtp_username": {"type": "string", "title": "SMTP 用户名", "maxLength": 255},
            "smtp_password": {"type": "string", "title": "SMTP 密码", "maxLength": 255, "writeOnly": True},
            "smtp_from": {"type": "string", "title": "发件人地址", "maxLength": 254,
                          "pattern": r"^[^@\s<>]+@[^@\s<>]+$"},
            "sms_url": {"type": "string", "title": "短信网关地址", "maxLength": 2000,
                        "pattern": r"^https?://[^\s/?#]+[^\s]*$"},
            "sms_api_key": {"type": "string", "title": "短信网关 API 密钥", "maxLength": 500, "writeOnly": True},
            "sms_sign": {"type": "string", "title": "短信签名", "default": "【枫桥】", "maxLength": 20},
        },
        "additionalProperties": False,
    }

    def setup(self, ctx) -> None:
        for channel in (EmailChannel(), SmsChannel(), WecomChannel(), DingtalkChannel()):
            ctx.register_channel(channel)
