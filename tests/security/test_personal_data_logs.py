"""No full ID or phone number reaches a log line or an error report (issue 11 item 7)."""

from __future__ import annotations

import json
import logging
import re

import pytest

from fengqiao.testing.plugin import submit_form

ID, MOBILE = "339901195203140111", "13800138000"
REQUEST = {"request_type": "complaint", "summary": f"油烟扰民 请回电{MOBILE}", "content": f"身份证 {ID}，电话 {MOBILE}。",
           "caller_name": "陈德福", "caller_mobile": MOBILE, "id_card": ID}
FULL = re.compile(rf"{ID}|{MOBILE}")


def _clean(text: str) -> None:
    assert not FULL.search(text), FULL.search(text)


@pytest.fixture
def boom(app):
    """A route that fails with personal data in the exception (a careless error message)."""
    from fengqiao.access import public

    @public
    def _boom():
        raise ValueError(f"could not parse caller {MOBILE} / {ID}")

    app.add_url_rule("/test-boom", "test_boom", _boom)
    return app


def test_a_submission_with_id_and_phone_leaves_no_full_number_in_the_logs(client, bearer, caplog):
    caplog.set_level(logging.DEBUG)
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    headers = bearer("shenli")
    version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"]
    client.post(f"/api/v1/cases/{number}/actions/answer",
                json={"version": version, "comment": f"已电话答复 {MOBILE}"}, headers=headers)
    client.get(f"/api/v1/track?number={number}&phone={MOBILE}")
    logging.getLogger("fengqiao.anything").warning("caller %s with id %s", MOBILE, ID)
    logging.getLogger("fengqiao.anything").error(f"inline {ID}", extra={"caller": {"mobile": MOBILE}})
    assert caplog.records, "nothing was logged?"
    _clean(caplog.text)
    _clean("\n".join(r.getMessage() for r in caplog.records))
    assert "138****8000" in caplog.text and "339901********0111" in caplog.text
    for record in caplog.records:  # extra fields too, once through the app's handler filter
        from fengqiao.logs import ScrubPersonalData

        ScrubPersonalData().filter(record)
        _clean(json.dumps({k: v for k, v in vars(record).items() if isinstance(v, (str, dict, list))},
                          ensure_ascii=False, default=str))


def test_error_reports_are_scrubbed_tracebacks_included(boom, caplog):
    caplog.set_level(logging.INFO)
    response = boom.test_client().get("/test-boom")
    assert response.status_code == 500
    _clean(response.get_data(as_text=True))
    errors = [r for r in caplog.records if r.exc_info or r.exc_text]
    assert errors, "the crash was not logged"
    _clean(caplog.text)
    assert "could not parse caller 138****8000" in caplog.text  # the traceback is there, masked


def test_json_log_lines_are_scrubbed(app, capsys):
    from fengqiao.logs import make_handler

    handler = make_handler("json")
    log = logging.getLogger("fengqiao.test_json_lines")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("lookup %s", MOBILE, extra={"resident": {"id_card": ID, "phones": [MOBILE]}})
        try:
            raise RuntimeError(f"id {ID}")
        except RuntimeError:
            log.exception("failed for %s", MOBILE)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert len(lines) == 2
    _clean(json.dumps(lines, ensure_ascii=False))
    assert lines[0]["resident"] == {"id_card": "339901********0111", "phones": ["138****8000"]}
    assert "339901********0111" in lines[1]["exc_info"]


def test_notifications_carry_masked_text(app, client, demo):
    """What channels (SMS, 政务微信 plugins) receive and what the outbox stores is masked."""
    import sqlalchemy as sa

    from fengqiao import signals
    from fengqiao.cases.jobs import notify, notify_later
    from fengqiao.db import db
    from fengqiao.models import Case, JobRecord

    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    sent = []
    signals.case_notification.connect(lambda sender, **kw: sent.append(kw["message"]), sender=app, weak=False)
    with app.app_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        notify_later(case, 1, "reply", f"请回电 {MOBILE}（身份证 {ID}）", ["shenli"])
        db.commit()
        stored = [j.args for j in db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.notify"))]
        assert notify(number, "reply", f"请回电 {MOBILE}", ["shenli"]) == {"recipients": 1}
        db.commit()  # as the job runner does: the signal goes out after the job's commit
    _clean(json.dumps(stored, ensure_ascii=False))
    assert stored[-1]["message"] == "请回电 138****8000（身份证 339901********0111）"
    assert sent and sent[-1] == "请回电 138****8000"
