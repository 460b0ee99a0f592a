"""The plugin's settings on /admin/plugins/channels: secrets (``writeOnly``) are never shown
back, and saving the form with a secret left blank keeps the saved one."""

from __future__ import annotations

import pytest
from fengqiao.sdk.plugin import plugin_settings
from fengqiao.sdk.testing import csrf_token

pytestmark = pytest.mark.plugins("channels")
PAGE = "/admin/plugins/channels"


def _save(client, **values):
    return client.post(PAGE, data={**values, "csrf_token": csrf_token(client, PAGE)})


def test_secrets_are_write_only_and_kept_when_left_blank(app, client, login_as):
    login_as("admin")
    saved = _save(client, smtp_host="smtp.fq.example.cn", smtp_port="587", smtp_starttls="on",
                  smtp_username="noreply", smtp_password="pw-Secret-1", smtp_from="noreply@fq.example.cn",
                  sms_url="https://sms.fq.example.cn/send", sms_api_key="key-Secret-2", sms_sign="【枫桥】")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = client.get(PAGE).get_data(as_text=True)
    assert "pw-Secret-1" not in page and "key-Secret-2" not in page
    assert 'type="password"' in page and "已设置，留空则不变" in page and "smtp.fq.example.cn" in page

    again = _save(client, smtp_host="mail.fq.example.cn", smtp_port="25", smtp_from="noreply@fq.example.cn",
                  sms_url="https://sms.fq.example.cn/send", sms_api_key="", smtp_password="")
    assert again.status_code == 302
    with app.test_request_context():
        settings = plugin_settings("channels")
    assert settings["smtp_host"] == "mail.fq.example.cn" and settings["smtp_port"] == 25
    assert settings["smtp_password"] == "pw-Secret-1" and settings["sms_api_key"] == "key-Secret-2"
    assert settings["smtp_starttls"] is False


def test_bad_settings_are_refused_per_field(client, login_as):
    login_as("admin")
    response = _save(client, smtp_port="70000", sms_url="ftp://sms.example.cn", smtp_from="not-an-address")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="error"') >= 3
