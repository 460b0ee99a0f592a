"""保存的筛选 (issue 22 §2): save the queue's filter under a name, apply it (a chip: checked
again like any link), delete it; names and numbers are limited, and a filter is its owner's
alone (another user's id is 404), every write CSRF-protected."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from fengqiao.cases import saved_filters
from fengqiao.db import db
from fengqiao.exceptions import NotFound
from fengqiao.models import SavedQueueFilter, User
from fengqiao.testing.plugin import csrf_token, login

LANYUE, QIAODONG = "339901001001", "339901001002"
NOT_FOUND_MESSAGE = NotFound.default_message


def _rows(app, username: str) -> list[tuple[int, str, str]]:
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == username))
        return [(r.id, r.name, r.query) for r in db.scalars(
            sa.select(SavedQueueFilter).where(SavedQueueFilter.user_id == user.id).order_by(SavedQueueFilter.id))]


def _save(client, token, name, **filters):
    return client.post("/queues/filters", data={"csrf_token": token, "name": name, **filters})


@pytest.fixture
def shenli(client, demo):
    login(client, "shenli")
    return csrf_token(client, "/queues")


def test_save_apply_and_delete_a_filter(app, client, shenli):
    saved = _save(client, shenli, "揽月超期", view="overdue", org=LANYUE, sort="deadline", q=" 楼道 ",
                  cursor="MQ", page="3", limit="20")  # where one was is not part of a filter
    assert saved.status_code == 302
    assert saved.headers["Location"] == f"/queues?view=overdue&q=%E6%A5%BC%E9%81%93&org={LANYUE}&sort=deadline"
    [(filter_id, name, query)] = _rows(app, "shenli")
    assert name == "揽月超期" and query == f"view=overdue&q=%E6%A5%BC%E9%81%93&org={LANYUE}&sort=deadline"
    applied = client.get(saved.headers["Location"])
    html = applied.get_data(as_text=True)
    assert applied.status_code == 200 and "已保存筛选「揽月超期」" in html
    assert f'<li class="saved-chip is-current" data-filter="{filter_id}">' in html  # the one on screen
    assert 'aria-current="true">揽月超期</a>' in html
    elsewhere = client.get("/queues").get_data(as_text=True)
    chip = f'<a href="/queues?view=overdue&amp;q=%E6%A5%BC%E9%81%93&amp;org={LANYUE}&amp;sort=deadline">揽月超期</a>'
    assert chip in elsewhere and f'<li class="saved-chip" data-filter="{filter_id}">' in elsewhere
    gone = client.post(f"/queues/filters/{filter_id}/delete",
                       data={"csrf_token": shenli, "next": "/queues?view=mine"})
    assert gone.status_code == 302 and gone.headers["Location"] == "/queues?view=mine"
    assert _rows(app, "shenli") == []
    assert "已删除筛选「揽月超期」" in client.get("/queues").get_data(as_text=True)
    offsite = _save(client, shenli, "全部")
    assert offsite.headers["Location"] == "/queues"  # the default view: an empty query
    [(other_id, _n, query)] = _rows(app, "shenli")
    assert query == ""
    leave = client.post(f"/queues/filters/{other_id}/delete", data={"csrf_token": shenli, "next": "https://evil.example/"})
    assert urlsplit(leave.headers["Location"]).path == "/queues" and not urlsplit(leave.headers["Location"]).netloc


@pytest.mark.parametrize("name,filters,message", [
    ("", {}, "请填写筛选名称"),
    ("   ", {}, "请填写筛选名称"),
    ("一" * 21, {}, "筛选名称最多 20 个字"),
    ("坏单位", {"org": "999"}, "组织机构代码不存在或无权查看"),
    ("坏排序", {"sort": "title"}, "未知的排序方式"),
    ("坏视图", {"view": "later"}, "未知的队列"),
])
def test_bad_names_and_filters_are_422_in_chinese(app, client, shenli, name, filters, message):
    response = _save(client, shenli, name, **filters)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'name="csrf_token"' in html  # the form again, to correct
    assert _rows(app, "shenli") == []


def test_names_are_unique_per_user_and_at_most_twenty_filters(app, client, shenli):
    assert _save(client, shenli, "一" * 20, view="mine").status_code == 302  # 20 characters: fine
    twice = _save(client, shenli, "一" * 20, view="closed")
    assert twice.status_code == 422 and "已有名为" in twice.get_data(as_text=True)
    for i in range(1, saved_filters.MAX_FILTERS):
        assert _save(client, shenli, f"筛选{i}", q=str(i)).status_code == 302
    assert len(_rows(app, "shenli")) == 20
    page = client.get("/queues").get_data(as_text=True)
    assert "保存当前筛选" not in page and "最多保存 20 个筛选" in page
    over = _save(client, shenli, "第二十一个")
    assert over.status_code == 422 and "每人最多保存 20 个筛选" in over.get_data(as_text=True)
    assert len(_rows(app, "shenli")) == 20
    # another user may use the same name
    other = app.test_client()
    login(other, "hanzhiming")
    assert _save(other, csrf_token(other, "/queues"), "一" * 20).status_code == 302


def test_a_saved_filter_is_checked_again_when_applied(app, client, shenli):
    """A unit the user no longer sees (here: written straight in) gets the queue's own message."""
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == "shenli"))
        db.add(SavedQueueFilter(user_id=user.id, name="桥东", query=f"org={QIAODONG}"))
        db.commit()
    page = client.get("/queues").get_data(as_text=True)
    assert f'href="/queues?org={QIAODONG}">桥东</a>' in page
    applied = client.get(f"/queues?org={QIAODONG}")
    assert applied.status_code == 422 and "组织机构代码不存在或无权查看" in applied.get_data(as_text=True)


def test_another_users_filter_is_404_and_stays(app, client, shenli):
    assert _save(client, shenli, "我的事项", view="mine").status_code == 302
    [(filter_id, _name, _query)] = _rows(app, "shenli")
    for username in ("hanzhiming", "ducha"):  # another community's secretary; the county above
        other = app.test_client()
        login(other, username)
        token = csrf_token(other, "/queues")
        refused = other.post(f"/queues/filters/{filter_id}/delete", data={"csrf_token": token})
        assert refused.status_code == 404, username
        assert NOT_FOUND_MESSAGE in refused.get_data(as_text=True)  # the one not-found message
        assert f'data-filter="{filter_id}"' not in other.get("/queues").get_data(as_text=True)  # nor shown
    assert len(_rows(app, "shenli")) == 1
    assert client.post("/queues/filters/987654/delete", data={"csrf_token": shenli}).status_code == 404


def test_writes_need_the_csrf_token(app, client, shenli):
    assert client.post("/queues/filters", data={"name": "无令牌"}).status_code == 400
    assert _rows(app, "shenli") == []
    assert _save(client, shenli, "有令牌").status_code == 302
    [(filter_id, _name, _query)] = _rows(app, "shenli")
    assert client.post(f"/queues/filters/{filter_id}/delete").status_code == 400
    assert len(_rows(app, "shenli")) == 1


def test_query_strings_are_canonical():
    assert saved_filters.query_of({"sort": "-created", "view": "all", "q": "  ", "type": "x", "page": "2"}) == \
        "type=x&sort=-created"
    assert saved_filters.query_of({"view": "mine", "q": "a&b=c"}) == "view=mine&q=a%26b%3Dc"


def test_the_api_lists_saves_and_deletes_the_callers_own(client, bearer, demo):
    staff, other = bearer("shenli"), bearer("hanzhiming")
    made = client.post("/api/v1/me/queue-filters", headers=staff,
                       json={"name": "临期", "filter": {"view": "due_soon", "sort": "-deadline"}})
    assert made.status_code == 201, made.get_json()
    item = made.get_json()
    assert item["name"] == "临期" and item["query"] == "view=due_soon&sort=-deadline"
    assert [i["id"] for i in client.get("/api/v1/me/queue-filters", headers=staff).get_json()["items"]] == [item["id"]]
    assert client.get("/api/v1/me/queue-filters", headers=other).get_json()["items"] == []
    for body, pointer in (({"name": "临期"}, "/name"), ({"name": "x", "filter": {"org": QIAODONG}}, "/org"),
                          ({"name": "x", "filter": {"sort": "title"}}, "/sort")):
        refused = client.post("/api/v1/me/queue-filters", headers=staff, json=body)
        assert refused.status_code == 422, body
        assert refused.get_json()["errors"][0]["pointer"] == pointer
    assert client.post("/api/v1/me/queue-filters", headers=staff, json={"name": "x", "filter": {"page": "2"}}).status_code == 422
    assert client.delete(f"/api/v1/me/queue-filters/{item['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/me/queue-filters/{item['id']}", headers=staff).status_code == 204
    assert client.get("/api/v1/me/queue-filters", headers=staff).get_json()["items"] == []


def test_a_cookie_session_needs_the_csrf_header_on_the_api(app, client, shenli):
    assert client.post("/api/v1/me/queue-filters", json={"name": "无令牌"}).status_code == 400
    assert _rows(app, "shenli") == []
    made = client.post("/api/v1/me/queue-filters", json={"name": "有令牌"}, headers={"X-CSRFToken": shenli})
    assert made.status_code == 201, made.get_json()
    assert client.delete(f"/api/v1/me/queue-filters/{made.get_json()['id']}").status_code == 400
    assert len(_rows(app, "shenli")) == 1
