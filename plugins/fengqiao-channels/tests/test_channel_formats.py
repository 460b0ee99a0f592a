"""Each channel against a local stand-in: the documented request format, and how answers map
to Delivered / Failed / RetryAfter (``send`` touches no database; it runs inside the app, whose
testing mode lets outbound requests reach 127.0.0.1)."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import time
from email import policy
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from fengqiao import outbound
from fengqiao.sdk.channels import Delivered, Failed, Message, Recipient, RetryAfter
from fengqiao.sdk.testing import imports_outside_the_sdk

from fengqiao_channels.personal import EmailChannel, SmsChannel, sms_content
from fengqiao_channels.robots import WECOM_MAX_BYTES, DingtalkChannel, WecomChannel, dingtalk_sign

MESSAGE = Message(event_id="case-event:42", kind="summon", title="吹哨报到：事项 JS-20261207-0001",
                  text="请于 2 小时内到揽月花园地下车库报到，联系电话 138****5678。",
                  link="https://fq.example.cn/cases/JS-20261207-0001", case_number="JS-20261207-0001")
KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture(scope="module")
def _app(tmp_path_factory):
    from fengqiao.app import create_app
    from fengqiao.testing.plugin import app_settings_for_tests

    folder = tmp_path_factory.mktemp("channels")
    return create_app(app_settings_for_tests(f"sqlite:///{folder / 'channels.db'}", folder))


@pytest.fixture(autouse=True)
def _inside_the_app(_app):
    with _app.app_context():
        yield


def unit(config: dict) -> Recipient:
    return Recipient("unit", "区住建局", "", {"enabled": True, **config})


def test_the_package_imports_only_the_sdk():
    assert imports_outside_the_sdk(Path(__file__).resolve().parents[1] / "fengqiao_channels") == []


# ---- 企业微信 ----------------------------------------------------------------------------------


def test_wecom_posts_markdown_with_title_text_and_link(fake_server):
    result = WecomChannel().send(unit({"url": fake_server.url(f"/cgi-bin/webhook/send?key={KEY}")}), MESSAGE)
    assert isinstance(result, Delivered) and result.response_code == 200 and '"errcode": 0' in result.excerpt
    [request] = fake_server.requests
    assert request["path"] == "/cgi-bin/webhook/send" and request["query"] == {"key": [KEY]}
    assert request["headers"]["content-type"].startswith("application/json")
    assert set(request["json"]) == {"msgtype", "markdown"} and request["json"]["msgtype"] == "markdown"
    content = request["json"]["markdown"]["content"]
    assert content.startswith(f"**{MESSAGE.title}**") and MESSAGE.text in content
    assert content.endswith(f"[查看详情]({MESSAGE.link})")


def test_wecom_content_is_cut_to_4096_bytes_keeping_the_link(fake_server):
    long = Message(**{**MESSAGE.__dict__, "text": "渗水" * 3000, "urgent": True})
    WecomChannel().send(unit({"url": fake_server.url("/send?key=k")}), long)
    content = fake_server.requests[0]["json"]["markdown"]["content"]
    assert len(content.encode("utf-8")) <= WECOM_MAX_BYTES and content.endswith(f"({MESSAGE.link})")
    assert content.startswith("**【紧急】") and "…" in content


@pytest.mark.parametrize(("reply", "kind", "seconds"), [
    ((200, {"errcode": 45009, "errmsg": "api freq out of limit"}), RetryAfter, 60),
    ((200, {"errcode": -1, "errmsg": "system busy"}), RetryAfter, None),
    ((200, {"errcode": 93000, "errmsg": "invalid webhook url"}), Failed, None),
    ((200, "<html>portal</html>"), Failed, None),
    ((500, "oops"), RetryAfter, None),
    ((503, "busy", {"Retry-After": "120"}), RetryAfter, 120),
    ((429, "slow down", {"Retry-After": "7"}), RetryAfter, 7),
    ((404, "no such robot"), Failed, None),
    ((302, "", {"Location": "http://127.0.0.1:9/elsewhere"}), Failed, None),
])
def test_wecom_maps_answers(fake_server, reply, kind, seconds):
    fake_server.answer(reply)
    result = WecomChannel().send(unit({"url": fake_server.url("/send?key=k")}), MESSAGE)
    assert isinstance(result, kind), result
    assert getattr(result, "seconds", None) == seconds
    assert result.response_code == reply[0] and result.reason
    assert len(fake_server.requests) == 1  # a redirect is not followed


def test_wecom_without_a_valid_url_fails_without_sending(fake_server):
    for config in ({}, {"url": "ftp://127.0.0.1/x"}, {"url": "not a url"}):
        result = WecomChannel().send(unit(config), MESSAGE)
        assert isinstance(result, Failed) and "地址" in result.reason
    assert fake_server.requests == []


def test_a_slow_or_absent_receiver_is_retried_later(fake_server, closed_port, monkeypatch):
    monkeypatch.setattr(outbound, "TIMEOUT", 0.3)
    fake_server.delay = 1.5
    started = time.monotonic()
    slow = WecomChannel().send(unit({"url": fake_server.url("/send?key=k")}), MESSAGE)
    assert isinstance(slow, RetryAfter) and slow.reason == "连接超时" and time.monotonic() - started < 1.4
    closed = WecomChannel().send(unit({"url": f"http://127.0.0.1:{closed_port}/send?key=k"}), MESSAGE)
    assert isinstance(closed, RetryAfter) and closed.reason.startswith("无法连接") and "key" not in closed.reason


# ---- 钉钉 ----------------------------------------------------------------------------------------


def test_dingtalk_signs_the_request_and_posts_markdown(fake_server):
    secret = "SEC0123456789abcdef"
    before = int(time.time() * 1000)
    result = DingtalkChannel().send(
        unit({"url": fake_server.url("/robot/send?access_token=tok"), "secret": secret}), MESSAGE)
    assert isinstance(result, Delivered)
    [request] = fake_server.requests
    query = request["query"]  # parse_qs decoded the url-encoding once
    assert query["access_token"] == ["tok"] and set(query) == {"access_token", "timestamp", "sign"}
    timestamp = int(query["timestamp"][0])
    assert before <= timestamp <= int(time.time() * 1000)
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected]
    assert dingtalk_sign(secret, timestamp) == quote_plus(expected)
    assert request["json"]["msgtype"] == "markdown"
    assert request["json"]["markdown"]["title"] == MESSAGE.title
    text = request["json"]["markdown"]["text"]
    assert MESSAGE.text in text and f"[查看详情]({MESSAGE.link})" in text


def test_dingtalk_without_a_secret_sends_the_url_as_configured(fake_server):
    DingtalkChannel().send(unit({"url": fake_server.url("/robot/send?access_token=tok")}), MESSAGE)
    assert fake_server.requests[0]["query"] == {"access_token": ["tok"]}


@pytest.mark.parametrize(("errcode", "kind"), [(130101, RetryAfter), (-1, RetryAfter), (310000, Failed),
                                               (300001, Failed)])
def test_dingtalk_maps_error_codes(fake_server, errcode, kind):
    fake_server.answer((200, {"errcode": errcode, "errmsg": "x"}))
    result = DingtalkChannel().send(unit({"url": fake_server.url("/robot/send?access_token=t"), "secret": "s"}),
                                    MESSAGE)
    assert isinstance(result, kind) and str(errcode) in result.reason
    if errcode == 130101:
        assert result.seconds == 60


# ---- SMS ---------------------------------------------------------------------------------------


def sms(server, **extra) -> SmsChannel:
    settings = {"sms_url": server.url("/sms/send"), "sms_api_key": "k-123", "sms_sign": "【枫桥】", **extra}
    return SmsChannel(settings=lambda: settings)


def test_sms_posts_mobile_content_sign_and_event_id_with_the_bearer_key(fake_server):
    fake_server.answer(always=(200, {"id": "m-1", "to": "13812345678"}))
    result = sms(fake_server).send(Recipient("user", "张敏", "13812345678"), MESSAGE)
    assert isinstance(result, Delivered) and result.response_code == 200
    assert "13812345678" not in result.excerpt and "138****5678" in result.excerpt  # the gateway's echo, masked
    [request] = fake_server.requests
    assert request["headers"]["authorization"] == "Bearer k-123"
    assert request["json"] == {"mobile": "13812345678", "content": sms_content(MESSAGE), "sign": "【枫桥】",
                               "event_id": "case-event:42"}
    content = request["json"]["content"]
    assert content.startswith(MESSAGE.title) and MESSAGE.text in content and content.endswith(MESSAGE.link)


def test_sms_content_stays_within_300_characters_and_keeps_the_link():
    long = Message(**{**MESSAGE.__dict__, "text": "车库顶板渗水。" * 100})
    content = sms_content(long)
    assert len(content) <= 300 and content.endswith(MESSAGE.link) and content.startswith(MESSAGE.title)


@pytest.mark.parametrize(("reply", "kind"), [((429, "", {"Retry-After": "30"}), RetryAfter), ((502, ""), RetryAfter),
                                             ((401, "bad key"), Failed), ((400, "bad mobile"), Failed),
                                             ((202, "queued"), Delivered)])
def test_sms_maps_statuses(fake_server, reply, kind):
    fake_server.answer(reply)
    result = sms(fake_server).send(Recipient("user", "张敏", "13812345678"), MESSAGE)
    assert isinstance(result, kind) and result.response_code == reply[0]


def test_sms_refuses_a_bad_mobile_or_a_missing_gateway_without_sending(fake_server):
    assert isinstance(sms(fake_server).send(Recipient("user", "张敏", "12345"), MESSAGE), Failed)
    unset = SmsChannel(settings=lambda: {"sms_url": "", "sms_api_key": ""})
    assert isinstance(unset.send(Recipient("user", "张敏", "13812345678"), MESSAGE), Failed)
    assert fake_server.requests == []


# ---- e-mail ------------------------------------------------------------------------------------


def mailer(port: int, **extra) -> EmailChannel:
    settings = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "noreply@fq.example.cn", **extra}
    return EmailChannel(settings=lambda: settings)


def test_email_sends_plain_text_and_html_with_the_title_as_subject(smtp_server):
    recorder, port = smtp_server
    result = mailer(port).send(Recipient("user", "张敏", "zhangmin@fq.example.cn"), MESSAGE)
    assert isinstance(result, Delivered), result
    [sent] = recorder.messages
    assert sent["to"] == ["zhangmin@fq.example.cn"] and sent["from"] == "noreply@fq.example.cn"
    mail = email.message_from_bytes(sent["data"], policy=policy.default)
    assert mail["Subject"] == MESSAGE.title and mail["X-Fengqiao-Event"] == "case-event:42"
    assert "case-event-42" in mail["Message-ID"]
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert MESSAGE.text in plain and MESSAGE.link in plain
    assert MESSAGE.text in html and f'href="{MESSAGE.link}"' in html


def test_email_maps_refusals_and_an_absent_server(smtp_server, closed_port):
    recorder, port = smtp_server
    recorder.refuse = {"gone@fq.example.cn": "550 5.1.1 <gone@fq.example.cn> no such user",
                       "later@fq.example.cn": "451 4.7.1 greylisted, try later"}
    gone = mailer(port).send(Recipient("user", "甲", "gone@fq.example.cn"), MESSAGE)
    assert isinstance(gone, Failed) and gone.response_code == 550
    assert "gone@fq.example.cn" not in gone.excerpt and "g***@fq.example.cn" in gone.excerpt
    later = mailer(port).send(Recipient("user", "乙", "later@fq.example.cn"), MESSAGE)
    assert isinstance(later, RetryAfter) and later.response_code == 451
    assert isinstance(mailer(port).send(Recipient("user", "丙", "not-an-address"), MESSAGE), Failed)
    assert recorder.messages == []
    absent = mailer(closed_port).send(Recipient("user", "丁", "ding@fq.example.cn"), MESSAGE)
    assert isinstance(absent, RetryAfter)
    unset = EmailChannel(settings=lambda: {}).send(Recipient("user", "丁", "ding@fq.example.cn"), MESSAGE)
    assert isinstance(unset, Failed) and "未配置" in unset.reason
