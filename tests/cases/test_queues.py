"""Staff queues: each view, the filters and the search, scoped and keyset-paginated, on the
API list, the /queues page and the Excel export alike."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.models import Case, OrgUnit
from fengqiao.testing.plugin import login, submit_form

LANYUE, QIAODONG, STREET = "339901001001", "339901001002", "339901001"
REQUEST = {"request_type": "report", "summary": "湖滨路烧烤店夜间油烟扰民", "content": "每晚十点后油烟很大。",
           "caller_name": "陈德福", "caller_mobile": "13800138000", "id_card": "339901195203140111"}
INCIDENT = {"summary": "揽月花园3幢楼道堆物", "category": "安全隐患", "description": "楼道堆放纸箱。",
            "location": {"address": "揽月花园3幢"}}


def _submit(client, org=LANYUE, summary="夜间噪音扰民", mobile="13800138000", kind="help") -> str:
    """求助 by default: 投诉/举报 hide the caller (and their phone tail) from the community."""
    data = {**REQUEST, "summary": summary, "caller_mobile": mobile, "request_type": kind}
    return submit_form(client, "livelihood-request", data, org=org)["case_number"]


def _set(app, number, **values):
    """Clock and escalation columns are written by jobs elsewhere; tests place them directly."""
    with app.app_context():
        if "escalated_to" in values:
            code = values.pop("escalated_to")
            values["escalated_to_id"] = db.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))
        db.execute(sa.update(Case).where(Case.number == number).values(**values))
        db.commit()


def _list(client, headers, **params):
    response = client.get("/api/v1/cases", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _all(client, headers, **params) -> list[str]:
    """Every number a query yields, following next_cursor page by page."""
    numbers, cursor = [], None
    while True:
        body = _list(client, headers, **params, **({"cursor": cursor} if cursor else {}))
        numbers += [c["number"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return numbers


@pytest.fixture
def lanyue(app, client, bearer):
    """Seven cases of 揽月社区, one per view, and one of 桥东社区; deadlines placed by hand."""
    now = utcnow()
    far = now + timedelta(days=20)
    c = {name: _submit(client, summary=f"揽月{name}", mobile=f"1390000{i:04d}")
         for i, name in enumerate(["plain", "mine", "overdue", "soon", "flagged", "closed", "escalated"])}
    for number in c.values():
        _set(app, number, deadline=far, sla_status="on_track")
    staff = bearer("shenli")
    claimed = client.post(f"/api/v1/cases/{c['mine']}/actions/claim", json={"version": 1}, headers=staff)
    assert claimed.status_code == 200, claimed.get_json()
    _set(app, c["overdue"], deadline=now - timedelta(hours=2), sla_status="overdue")
    # 临期 is the clock's status (set on every write and by the minute's sweep), not a fixed window
    _set(app, c["soon"], deadline=now + timedelta(hours=3), sla_status="due_soon")
    _set(app, c["flagged"], deadline=now + timedelta(days=2), sla_status="due_soon")
    _set(app, c["closed"], state="closed", closed_at=now - timedelta(hours=1))
    _set(app, c["escalated"], escalated_to=STREET, escalation_level=1)
    c["other"] = _submit(client, org=QIAODONG, summary="桥东噪音", mobile="13900000000")
    _set(app, c["other"], deadline=now - timedelta(hours=5))  # overdue, but not 揽月's
    return c


def test_each_view_on_the_api(client, bearer, lanyue):
    c, staff = lanyue, bearer("shenli")
    assert _all(client, staff, view="mine") == [c["mine"]]
    assert _all(client, staff, view="unclaimed") == [  # oldest first, open only
        c[k] for k in ("plain", "overdue", "soon", "flagged", "escalated")]
    assert _all(client, staff, view="overdue") == [c["overdue"]]
    assert _all(client, staff, view="due_soon") == [c["soon"], c["flagged"]]  # by deadline
    assert _all(client, staff, view="closed") == [c["closed"]]
    assert _all(client, staff, view="escalated") == []  # escalated to the street, not to 揽月
    assert _all(client, bearer("luojia"), view="escalated") == [c["escalated"]]
    everything = _all(client, staff)
    assert set(everything) == {v for k, v in c.items() if k != "other"}
    assert everything == sorted(everything, reverse=True)  # newest first
    assert _all(client, staff, view="all") == everything
    assert _all(client, staff, assignee="me") == [c["mine"]]
    street = _all(client, bearer("luojia"), view="overdue")
    assert street == [c["other"], c["overdue"]]  # 桥东's is the more overdue one


def test_paused_cases_are_not_overdue(app, client, bearer, lanyue):
    _set(app, lanyue["overdue"], paused_at=utcnow())
    assert _all(client, bearer("shenli"), view="overdue") == []


def test_filters_type_state_org_priority(app, client, bearer, lanyue):
    c, county = lanyue, bearer("ducha")
    incident = submit_form(client, "grid-incident", {**INCIDENT, "urgency": "urgent"},
                           headers=bearer("zhangmin"))["case_number"]
    complaint = _submit(client, summary="投诉物业", kind="complaint")
    assert _all(client, county, type="grid_incident") == [incident]
    assert _all(client, county, priority="urgent") == [incident]
    assert _all(client, county, priority="complaint") == [complaint]
    assert _all(client, county, state="closed") == [c["closed"]]
    lanyue_only = set(_all(client, county, org=LANYUE))
    assert c["other"] not in lanyue_only and {incident, complaint, c["plain"]} <= lanyue_only
    assert _all(client, county, org=QIAODONG) == [c["other"]]
    assert _all(client, county, org=QIAODONG, view="overdue") == [c["other"]]
    assert _all(client, county, type="grid_incident", view="closed") == []


def test_search_by_number_title_and_phone_tail(client, bearer, lanyue):
    c, staff = lanyue, bearer("shenli")
    assert _all(client, staff, q=c["soon"]) == [c["soon"]]
    assert _all(client, staff, q=c["soon"].lower()) == [c["soon"]]
    prefix = c["soon"][:11]  # GD-20261127
    assert set(_all(client, staff, q=prefix)) == {v for k, v in c.items() if k != "other"}
    assert _all(client, staff, q="揽月soon") == [c["soon"]]
    assert _all(client, staff, q="揽月SOON") == [c["soon"]]  # case-insensitive
    assert _all(client, staff, q="0003") == [c["soon"]]  # 13900000003: the reporter's phone tail
    assert _all(client, staff, q="0003", view="closed") == []
    assert _all(client, staff, q="100%_") == []  # LIKE wildcards are literal
    assert _all(client, staff, q="不存在的标题") == []


def test_scope_another_community_never_sees_them(client, bearer, lanyue):
    c, other = lanyue, bearer("hanzhiming")  # 桥东社区
    for view in ("all", "mine", "unclaimed", "overdue", "due_soon", "escalated", "closed"):
        seen = set(_all(client, other, view=view))
        assert seen <= {c["other"]}, view
    for q in (c["soon"], c["soon"][:11], "揽月", "0003", "0000"):
        assert set(_all(client, other, q=q)) <= {c["other"]}, q
    assert _all(client, other, q="0000") == [c["other"]]  # its own reporter's tail
    refused = client.get(f"/api/v1/cases?org={LANYUE}", headers=other)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["pointer"] == "/org"
    assert _all(client, bearer("lingdao"), view="unclaimed") == []  # read-only: nothing to claim


def test_pagination_across_pages_without_duplicates(app, client, bearer, lanyue):
    staff, tie = bearer("shenli"), utcnow() - timedelta(minutes=30)
    for number in _all(client, staff):
        _set(app, number, deadline=tie)  # one tie for every case …
    expected = _all(client, staff, view="overdue")
    pages, cursor, seen = 0, None, []
    while True:  # … and pages of two must still walk them all once, in (deadline, id) order
        body = _list(client, staff, view="overdue", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [i["number"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 6 and seen == expected
    assert seen == sorted(seen)  # equal deadlines: by id
    first = _list(client, staff, limit=3)
    second = _list(client, staff, limit=3, cursor=first["next_cursor"])
    ids = [i["number"] for p in (first, second) for i in p["items"]]
    assert len(ids) == len(set(ids)) == 6 and ids == sorted(ids, reverse=True)


def test_bad_parameters_are_422_in_chinese(client, bearer, lanyue):
    staff = bearer("shenli")
    for params, pointer in (({"view": "later"}, "/view"), ({"q": "x" * 101}, "/q"),
                            ({"view": "overdue", "cursor": "bm90IGpzb24"}, "/cursor"),
                            ({"cursor": "!!!"}, "/cursor"), ({"assignee": "shenli"}, "/assignee"),
                            ({"org": "999"}, "/org")):
        response = client.get("/api/v1/cases", query_string=params, headers=staff)
        assert response.status_code == 422, params
        error = response.get_json()["errors"][0]
        assert error["pointer"] == pointer and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])


def test_queue_page_tabs_badges_and_filters(client, lanyue):
    c = lanyue
    login(client, "shenli")
    page = client.get("/queues?view=due_soon").get_data(as_text=True)
    assert c["soon"] in page and c["flagged"] in page and c["plain"] not in page
    assert page.count('class="badge badge-warn sla-due-soon">临期<') == 2
    overdue = client.get("/queues?view=overdue").get_data(as_text=True)
    assert c["overdue"] in overdue and 'sla-overdue">已超期<' in overdue
    assert '>已超期<span class="count" title="共 1 件">1</span>' in overdue
    assert '>临期<span class="count" title="共 2 件">2</span>' in overdue
    assert '>待认领<span class="count" title="共 5 件">5</span>' in overdue
    searched = client.get("/queues", query_string={"q": "0003"}).get_data(as_text=True)
    assert c["soon"] in searched and c["plain"] not in searched
    assert "13900000003" not in searched
    assert 'href="/queues?view=overdue&amp;q=0003"' in searched  # tabs keep the filters
    assert '>临期<span class="count" title="共 1 件">1</span>' in searched  # badges count under them
    bad = client.get("/queues?view=later")
    assert bad.status_code == 422 and "未知的队列" in bad.get_data(as_text=True)
    garbled = client.get("/queues?cursor=!!!")
    assert garbled.status_code == 422 and "翻页参数无效" in garbled.get_data(as_text=True)


def test_queue_page_paginates_keeping_the_view(client, lanyue):
    c = lanyue
    login(client, "shenli")
    first = client.get("/queues?view=unclaimed&limit=2").get_data(as_text=True)
    assert c["plain"] in first and c["overdue"] in first and c["soon"] not in first  # oldest first
    link = re.search(r'href="(/queues\?view=unclaimed&amp;page=2[^"]*)">下一页', first)
    assert link, "a next-page link that keeps the view (by number while numbers reach: tests/cases/test_queue_order.py)"
    second = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert c["soon"] in second and c["flagged"] in second and c["plain"] not in second
    assert client.get("/queues?limit=0").status_code == 422


def test_export_applies_the_same_filters(client, bearer, lanyue):
    c, staff = lanyue, bearer("shenli")

    def exported(**params):
        response = client.get("/api/v1/cases/export.xlsx", query_string=params, headers=staff)
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        return {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}

    assert exported(view="overdue") == {c["overdue"]}
    assert exported(view="due_soon") == {c["soon"], c["flagged"]}
    assert exported(q="0003") == {c["soon"]}
    assert client.get("/api/v1/cases/export.xlsx?view=later", headers=staff).status_code == 422
