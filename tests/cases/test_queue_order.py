"""Queue sorting and paging (issue 22 §2): ``sort`` on the page and the API list, cursors that
name their sort, numbered pages within the capped total, "共 N 件", and the sort headers."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from case_helpers import set_columns

from fengqiao.cases import queries
from fengqiao.db import utcnow
from fengqiao.testing.plugin import submit_form

LANYUE = "339901001001"
REQUEST = {"request_type": "help", "summary": "楼道灯坏了", "content": "三楼楼道灯不亮。",
           "caller_name": "陈德福", "caller_mobile": "13800138000", "id_card": "339901195203140111"}
NAMES = ("a", "b", "c", "d", "e", "f")


@pytest.fixture
def six(app, client, demo):
    """Six cases of 揽月社区 in submission order a…f, with submission times in another order
    (so a sort by 提交时间 is seen to read ``created_at``, not the id) and deadlines in a third,
    two of them without one."""
    now = utcnow()
    numbers = {n: submit_form(client, "livelihood-request", {**REQUEST, "summary": f"排序{n}",
                                                             "caller_mobile": f"1390000{i:04d}"},
                              org=LANYUE)["case_number"] for i, n in enumerate(NAMES)}
    created = {"a": 3, "b": 6, "c": 1, "d": 5, "e": 2, "f": 4}  # days ago
    deadline = {"a": 2, "b": None, "c": 5, "d": 1, "e": None, "f": 3}  # days ahead
    for n, number in numbers.items():
        set_columns(app, number, created_at=now - timedelta(days=created[n]),
                    deadline=None if deadline[n] is None else now + timedelta(days=deadline[n]))
    return numbers


def _list(client, headers, **params):
    response = client.get("/api/v1/cases", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _walk(client, headers, **params) -> list[str]:
    numbers, cursor = [], None
    while True:
        body = _list(client, headers, **params, **({"cursor": cursor} if cursor else {}))
        numbers += [c["number"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return numbers


def test_each_sort_orders_the_list_and_pages_walk_it_in_that_order(client, bearer, six):
    staff, n = bearer("shenli"), six
    expected = {
        "deadline": "dafcbe",  # by deadline, then the ones without one (by id)
        "-deadline": "cfadeb",  # latest deadline first, the ones without one still last
        "created": "bdfaec",  # oldest submission first
        "-created": "ceafdb",
        "number": "abcdef",
        "-number": "fedcba",
    }
    for sort, order in expected.items():
        want = [n[k] for k in order]
        assert [c["number"] for c in _list(client, staff, sort=sort)["items"]] == want, sort
        for limit in (1, 2, 4):  # page boundaries inside and at the end of the deadline segment
            assert _walk(client, staff, sort=sort, limit=limit) == want, (sort, limit)
    # no sort: the view's own order, as before (newest id first)
    assert _walk(client, staff, limit=4) == [n[k] for k in "fedcba"]


def test_sort_works_within_a_view_and_with_filters(app, client, bearer, six):
    staff, n = bearer("shenli"), six
    set_columns(app, n["a"], sla_status="due_soon")
    set_columns(app, n["f"], sla_status="due_soon")
    assert _walk(client, staff, view="due_soon") == [n["a"], n["f"]]  # the view's order: by deadline
    assert _walk(client, staff, view="due_soon", sort="-deadline", limit=1) == [n["f"], n["a"]]
    assert _walk(client, staff, view="unclaimed", sort="-created", q="排序", limit=5) == [n[k] for k in "ceafdb"]


def test_a_cursor_of_another_sort_or_a_forged_one_is_a_chinese_422(client, bearer, six):
    staff = bearer("shenli")
    cursor = _list(client, staff, sort="deadline", limit=2)["next_cursor"]
    assert cursor
    for params in ({"sort": "-created"}, {"sort": "-deadline"}, {}):
        response = client.get("/api/v1/cases", query_string={**params, "cursor": cursor}, headers=staff)
        assert response.status_code == 422, params
        error = response.get_json()["errors"][0]
        assert error["pointer"] == "/cursor" and "另一种排序" in error["message"], error
    def forged(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    for text in ("deadline|7|", "deadline|x|", "deadline", "deadline|1|!!!", "deadline|0|" + forged("[[[[")):
        response = client.get("/api/v1/cases", query_string={"sort": "deadline", "cursor": forged(text)},
                              headers=staff)
        assert response.status_code == 422, text
        assert response.get_json()["errors"][0]["pointer"] == "/cursor"
    unknown = client.get("/api/v1/cases?sort=title", headers=staff)
    assert unknown.status_code == 422
    error = unknown.get_json()["errors"][0]
    assert error["pointer"] == "/sort" and "未知的排序方式" in error["message"]


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _shown(html: str, six) -> list[str]:
    return [k for k, number in sorted(six.items(), key=lambda kv: html.find(kv[1])) if number in html]


def test_page_numbers_total_and_previous_next(client, six, login_as):
    login_as("shenli")
    first = _page(client, "/queues?sort=number&limit=2")
    assert "共 6 件" in first and _shown(first, six) == ["a", "b"]
    assert 'aria-current="page">1<' in first and 'aria-label="第 3 页">3<' in first
    assert "上一页" not in first
    following = re.search(r'href="(/queues\?view=all&amp;page=2&amp;sort=number&amp;limit=2)">下一页', first)
    assert following, "下一页 goes by number while numbers reach"
    second = _page(client, following.group(1).replace("&amp;", "&"))
    assert _shown(second, six) == ["c", "d"] and 'aria-current="page">2<' in second
    assert 'href="/queues?view=all&amp;sort=number&amp;limit=2">上一页' in second  # page 1 has no number
    third = _page(client, "/queues?sort=number&limit=2&page=3")
    assert _shown(third, six) == ["e", "f"] and "下一页" not in third
    # the deadline sort's segments under OFFSET: page 2 holds the last with a deadline and the first without
    mixed = _page(client, "/queues?sort=deadline&limit=3&page=2")
    assert _shown(mixed, six) == ["c", "b", "e"]


def test_a_page_number_past_the_end_is_an_empty_page_saying_so(client, six, login_as):
    login_as("shenli")
    past = _page(client, "/queues?sort=number&limit=2&page=9")
    assert not _shown(past, six)
    assert "第 9 页没有事项：共 3 页" in past and 'href="/queues?view=all&amp;page=3&amp;sort=number&amp;limit=2">上一页' in past
    for bad in ("page=0", "page=abc", "page=%C2%B2", "page=" + "9" * 30):
        response = client.get(f"/queues?{bad}")
        assert response.status_code == 422, bad
        assert "页码应为正整数" in response.get_data(as_text=True)
    both = client.get("/queues?page=2&cursor=MQ")
    assert both.status_code == 422 and "页码和翻页参数不能同时使用" in both.get_data(as_text=True)


def test_the_total_is_capped_and_past_the_cap_next_goes_on_by_cursor(client, six, login_as, monkeypatch):
    monkeypatch.setattr(queries, "TOTAL_CAP", 4)  # six cases: more than the cap
    login_as("shenli")
    first = _page(client, "/queues?sort=number&limit=2")
    assert "共 4+ 件" in first and 'aria-label="第 2 页">2<' in first and "第 3 页" not in first
    second = _page(client, "/queues?sort=number&limit=2&page=2")
    assert _shown(second, six) == ["c", "d"]
    more = re.search(r'href="(/queues\?view=all&amp;cursor=[^"]+)">更多（下一页）', second)
    assert more, "past the numbered pages, 下一页 follows the cursor"
    third = _page(client, more.group(1).replace("&amp;", "&"))
    assert _shown(third, six) == ["e", "f"] and "回到第一页" in third and "pager-current" not in third
    beyond = _page(client, "/queues?sort=number&limit=2&page=3")  # numbers stop at the cap: not an OFFSET past it
    assert not _shown(beyond, six) and "按页码最多翻到第 2 页" in beyond


def test_sort_headers_say_the_order_and_switch_it(client, six, login_as):
    login_as("shenli")
    html = _page(client, "/queues?sort=deadline&view=unclaimed")
    deadline = re.search(r'<th class="col-deadline"[^>]*>.*?</th>', html, re.S).group(0)
    assert 'aria-sort="ascending"' in deadline and "↑" in deadline
    assert 'href="/queues?view=unclaimed&amp;sort=-deadline"' in deadline  # a second click: the other way
    created = re.search(r'<th class="col-created"[^>]*>.*?</th>', html, re.S).group(0)
    assert "aria-sort" not in created and 'href="/queues?view=unclaimed&amp;sort=-created"' in created
    title = re.search(r'<th class="col-title"[^>]*>.*?</th>', html, re.S).group(0)
    assert "<a" not in title  # no index for titles: not sortable
    assert 'href="/queues?view=overdue&amp;sort=deadline"' in html  # the tabs keep the sort
    assert '<input type="hidden" name="sort" value="deadline">' in html  # and so does the filter form
    unknown = client.get("/queues?sort=-title")
    assert unknown.status_code == 422 and "未知的排序方式" in unknown.get_data(as_text=True)
    default = _page(client, "/queues?view=overdue")
    assert 'aria-sort="ascending"' in re.search(r'<th class="col-deadline"[^>]*>', default).group(0)
