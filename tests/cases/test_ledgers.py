"""Standard 台账 built by the ``cases.ledger`` job: rows, headers, local times, masking,
neutralised formulas, progress, scope, idempotency, and the form that queues them."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest
import sqlalchemy as sa

from fengqiao.cases import ledgers
from fengqiao.db import LOCAL_TZ, db
from fengqiao.errors import ValidationFailed
from fengqiao.models import Case, User
from fengqiao.testing.plugin import csrf_token, login, submit_form, walk_case

INCIDENT = {"summary": "楼道堆物", "category": "安全隐患", "description": "楼道堆放纸箱。",
            "location": {"address": "揽月花园3幢"}}
REQUEST = {"request_type": "complaint", "summary": "夜间噪音", "content": "广场舞音响太响。",
           "caller_name": "陈德福", "caller_mobile": "13800138000", "id_card": "339901195203140111"}
CASES_HEADERS = ["编号", "类型", "标题", "所属单位", "状态", "受理时间", "办结时间", "期限", "是否超期", "办理人", "满意度"]


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


def _set(app, number: str, **values) -> None:
    columns = {"responded_at": None, "closed_at": None, "rating": None, "rated_at": None, "paused_at": None}
    # the first clock metrics count (due_at, first_closed_at) follows the crafted clock
    values.setdefault("due_at", values.get("deadline"))
    values.setdefault("first_closed_at", values.get("closed_at"))
    with app.app_context():
        db.execute(sa.update(Case).where(Case.number == number).values(**{**columns, **values}))
        db.commit()


@pytest.fixture
def cases(app, client, bearer):
    lanyue, qiaodong = "339901001001", "339901001002"
    formula = submit_form(client, "livelihood-request", {
        **REQUEST, "summary": '=HYPERLINK("http://example.invalid","点我") 联系13800138000'}, org=lanyue)
    n = {
        "L1": formula["case_number"],
        "L2": submit_form(client, "livelihood-request", {**REQUEST, "request_type": "help"}, org=lanyue)["case_number"],
        "L3": submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"],
        "L4": submit_form(client, "livelihood-request", REQUEST, org=qiaodong)["case_number"],
        "L5": submit_form(client, "livelihood-request", REQUEST, org=lanyue)["case_number"],
    }
    walk_case(client, n["L1"], [("answer", {"comment": "已答复"})], bearer("shenli"))
    # closed a day late, satisfied
    _set(app, n["L1"], created_at=at(3, 2), closed_at=at(3, 4, 15), deadline=at(3, 3, 17, 30),
         rating="satisfied", rated_at=at(3, 5, 10))
    # open and overdue since 10 March
    _set(app, n["L2"], created_at=at(3, 5, 10), deadline=at(3, 10, 17, 30))
    # on time, but rated in April
    _set(app, n["L3"], created_at=at(3, 9), closed_at=at(3, 10, 11), deadline=at(3, 12, 17, 30),
         rating="dissatisfied", rated_at=at(4, 1, 10))
    # 桥东社区's, on time
    _set(app, n["L4"], created_at=at(3, 9), closed_at=at(3, 9, 16), deadline=at(3, 12, 17, 30))
    # received in February, rated in March
    _set(app, n["L5"], created_at=at(2, 24), closed_at=at(2, 26), deadline=at(3, 2, 17, 30),
         rating="basically_satisfied", rated_at=at(3, 2, 10))
    return n


def _sheet(data: bytes):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0][0], rows[1][0], list(rows[2]), [list(r) for r in rows[3:]]


def _queue(client, kind="cases", **fields):
    form = {"kind": kind, "preset": "custom", "start": "2026-03-01", "end": "2026-03-31", **fields}
    return client.post("/metrics/ledgers", data={"csrf_token": csrf_token(client, "/metrics/ledgers"), **form})


def test_case_ledger_from_the_page(app, client, cases, monkeypatch):
    monkeypatch.setattr(ledgers, "BATCH", 2)  # three rows: the keyset loop crosses batches
    login(client, "shenli")
    form = client.get("/metrics/ledgers").get_data(as_text=True)
    assert "事项台账" in form and "超期台账" in form and "满意度回访台账" in form and 'name="csrf_token"' in form
    response = _queue(client)
    assert response.status_code == 302
    job_url = response.headers["Location"]
    job_id = int(job_url.rstrip("/").rsplit("/", 1)[1])
    assert job_url.endswith(f"/jobs/{job_id}")
    status = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert status["status"] == "done" and status["progress"] == status["total"] == 3 and status["percent"] == 100
    assert status["filename"] == "事项台账-全部可见单位-2026-03-01至2026-03-31.xlsx"
    assert "下载" in client.get(job_url).get_data(as_text=True)
    download = client.get(f"{job_url}/download")
    assert download.status_code == 200
    title, note, headers, rows = _sheet(download.data)
    assert "事项台账" in title and "2026-03-01 至 2026-03-31" in title
    assert "个人信息已脱敏" in note and "北京时间" in note
    assert headers == CASES_HEADERS
    assert [r[0] for r in rows] == [cases["L1"], cases["L2"], cases["L3"]]  # not 桥东's, not February's
    first = dict(zip(headers, rows[0], strict=True))
    assert first["标题"].startswith("'=HYPERLINK")  # neutralised
    assert first["受理时间"] == datetime(2026, 3, 2, 9, 0)  # local time, as shown in China
    assert first["办结时间"] == datetime(2026, 3, 4, 15, 0)
    assert first["期限"] == datetime(2026, 3, 3, 17, 30)
    assert (first["类型"], first["所属单位"], first["满意度"]) == ("民生诉求", "揽月社区", "满意")
    assert [r[headers.index("是否超期")] for r in rows] == ["是", "是", "否"]
    assert [r[headers.index("满意度")] for r in rows] == ["满意", None, "不满意"]
    flat = " ".join(str(v) for r in rows for v in r)
    assert "13800138000" not in flat and "138****8000" in flat and "339901195203140111" not in flat


def test_overdue_ledger_through_the_api(client, bearer, cases):
    ducha = bearer("ducha")
    response = client.post("/api/v1/metrics/ledgers", headers=ducha,
                           json={"kind": "overdue", "from": "2026-03-01", "to": "2026-04-01"})
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    status = client.get(body["status_url"], headers=ducha).get_json()
    assert status["status"] == "done" and status["progress"] == status["total"] == 2
    title, _note, headers, rows = _sheet(client.get(f"/jobs/{body['job']}/download", headers=ducha).data)
    assert "超期台账" in title and "全部可见单位" in title
    assert headers[:8] == ["编号", "类型", "标题", "所属单位", "状态", "受理时间", "期限", "办结时间"]
    by_number = {r[0]: dict(zip(headers, r, strict=True)) for r in rows}
    assert set(by_number) == {cases["L1"], cases["L2"]}  # closed late, and open past its deadline
    assert by_number[cases["L1"]]["超期工作日"] == 1 and by_number[cases["L1"]]["超期自然日"] == 1
    assert by_number[cases["L2"]]["超期工作日"] > 100 and by_number[cases["L2"]]["办结时间"] is None
    other = client.get(f"/api/v1/jobs/{body['job']}", headers=bearer("shenli"))
    assert other.status_code == 404  # someone else's job


def test_ratings_ledger_uses_the_rating_date(client, cases):
    login(client, "shenli")
    job_url = _queue(client, "ratings").headers["Location"]
    _title, _note, headers, rows = _sheet(client.get(f"{job_url}/download").data)
    assert headers == ["编号", "类型", "标题", "所属单位", "受理时间", "办结时间", "评价时间", "满意度", "办理人"]
    assert {r[0]: r[headers.index("满意度")] for r in rows} == {cases["L1"]: "满意", cases["L5"]: "基本满意"}
    rated = {r[0]: r[headers.index("评价时间")] for r in rows}
    assert rated[cases["L5"]] == datetime(2026, 3, 2, 10, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_requests_are_explained(client, bearer, demo):
    shenli, zhangmin = bearer("shenli"), bearer("zhangmin")  # tokens first: then the browser session
    api = client.post("/api/v1/metrics/ledgers", headers=shenli, json={"kind": "cases", "from": "3月1日"})
    assert api.status_code == 422 and api.get_json()["errors"][0]["pointer"] == "/from"
    assert client.post("/api/v1/metrics/ledgers", headers=zhangmin, json={"kind": "cases"}).status_code == 403
    login(client, "shenli")
    bad_kind = _queue(client, "everything")
    assert bad_kind.status_code == 422 and ledgers.KIND_MESSAGE in bad_kind.get_data(as_text=True)
    backwards = _queue(client, start="2026-03-31", end="2026-03-01")
    assert backwards.status_code == 422 and "结束日期不能早于开始日期" in backwards.get_data(as_text=True)
    assert 'value="2026-03-31"' in backwards.get_data(as_text=True)  # what was typed is kept
    foreign = _queue(client, org="339901001002")
    assert foreign.status_code == 422 and "无权查看" in foreign.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_job_is_idempotent_and_rechecks_scope(app, cases):
    with app.test_request_context():
        shenli = db.scalar(sa.select(User).where(User.username == "shenli"))
        args = {"kind": "cases", "org": "", "start": "2026-03-01", "end": "2026-04-01", "user_id": shenli.id}
        first = ledgers.build_ledger(**args)
        data = (ledgers.files_dir() / first["file"]).read_bytes()
        again = ledgers.build_ledger(**args)
        assert again == first == {**first, "rows": 3}
        assert _sheet((ledgers.files_dir() / again["file"]).read_bytes())[3] == _sheet(data)[3]
        with pytest.raises(ValidationFailed) as refused:  # 桥东社区 is not shenli's
            ledgers.build_ledger(**{**args, "org": "339901001002"})
        assert refused.value.problems[0][0] == "/org"
