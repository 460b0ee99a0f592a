"""Issue 18 §6: a certificate refused automatically by the list never reads 已受理 — not on
the resident's receipt, not on /track, not in the staff history."""

from __future__ import annotations

import html
import re

import pytest
from certificates_testkit import request_certificate
from fengqiao.sdk.testing import login

pytestmark = pytest.mark.plugins("certificates")


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _main(page: str) -> str:
    found = re.search(r"<main.*?</main>", page, re.S)
    return _text(found.group(0) if found else page)


def test_an_auto_refused_certificate_is_not_shown_as_accepted(app, demo, client):
    sent = request_certificate(app, "开具亲属关系证明")  # must-not-issue: refused by the list at once
    number, code = sent["case_number"], sent["tracking_code"]

    with client.session_transaction() as session:  # the receipt page right after submitting
        session["last_submission"] = {"number": number, "code": code, "title": "证明申请"}
    receipt = _main(client.get("/forms/certificate-request/done").get_data(as_text=True))
    assert "已办结：不予出具" in receipt.replace(" ", "") and "已受理" not in receipt

    tracked = _main(client.get(f"/track?number={number}&code={code}").get_data(as_text=True))
    assert "不予出具" in tracked and "已受理" not in tracked

    login(client, "shenli")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    history = _text(re.search(r'<ol class="timeline">.*?</ol>', page, re.S).group(0))
    assert "不予出具" in history and "已受理" not in history
