"""A comment residents will read (a transition whose ``public_note`` shows ``{comment}``, like
民生诉求 即时答复) says so on the staff form; working notes do not."""

from __future__ import annotations

import re

from fengqiao.testing.plugin import login, submit_form

REQUEST = {"request_type": "help", "summary": "揽月花园5幢路灯不亮", "content": "5幢门口路灯坏了一周。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
HINT = "此内容将作为答复展示给群众"


def _form(page: str, action: str) -> str:
    found = re.search(rf'<form [^>]*data-action="{action}".*?</form>', page, re.S)
    assert found, action
    return found.group(0)


def test_the_public_reply_is_marked_on_the_staff_form(client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login(client, "shenli")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert HINT in _form(page, "answer")  # 即时答复: its comment is the public reply
    assert HINT not in _form(page, "dispatch")  # 派单: a working note
