"""Standard addresses as the platform's address book: the provider's search and resolve, the
public search API, a resident's case routed to the address's grid, and another plugin's look-up
through the sdk."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from grid_helpers import GRID_A1, GRID_A2, LANYUE

from fengqiao_grid.lookup import GridAddresses, address_by_code, resolve_label, search_labels
from fengqiao_grid.models import GridAddress

pytestmark = pytest.mark.plugins("grid")
SEARCH = "/api/v1/addresses/search"
ROOM = "幸福小区3幢1单元602室"
DISPATCH = "339901901"  # livelihood-request's accepting unit
REQUEST = {"request_type": "help", "summary": "楼道灯坏了", "content": "三楼楼道灯不亮一周了",
           "caller_name": "王秀英", "caller_mobile": "13800138000"}


def _add(grid: str, kind: str, code: str, label: str, parent: int | None = None) -> int:
    row = GridAddress(grid_code=grid, parent_id=parent, kind=kind, name=label[-3:], position=0, code=code,
                      label=label, keeper_name="", keeper_mobile="")
    db.add(row)
    db.flush()
    return row.id


def _switch(app, plugin: str, on: bool) -> None:
    from fengqiao.plugins.state import set_enabled

    with app.app_context():
        set_enabled(plugin, on, "admin")
        db.commit()


def _case_org(app, number: str) -> str:
    from fengqiao.models import Case, OrgUnit

    with app.app_context():
        return db.scalar(sa.select(OrgUnit.code).join(Case, Case.org_id == OrgUnit.id).where(Case.number == number))


def _submit(client, data: dict, query: str = "", headers: dict | None = None):
    return client.post(f"/api/v1/forms/livelihood-request/submissions{query}", json=data, headers=headers or {})


# --- the provider ---------------------------------------------------------------------


def test_search_matches_every_word_rooms_first(app, estate):
    with app.app_context():
        assert [a.label for a in search_labels("幸福 602")] == ["幸福小区3幢1单元602室", "幸福小区3幢2单元602室"]
        assert [a.label for a in search_labels("602 2单元 幸福")] == ["幸福小区3幢2单元602室"]  # any order
        found = search_labels("幸福小区", 10)  # the estate itself (the exact label), then rooms; bounded
        assert len(found) == 10 and [a.kind for a in found] == ["estate"] + ["room"] * 9
        assert [a.kind for a in search_labels("幸福 3幢", 10)] == ["room"] * 10  # rooms before the building
        exact = search_labels("幸福小区3幢", 5)  # the exact label first, then what lies in it
        assert exact[0].kind == "building" and [a.kind for a in exact[1:]] == ["room"] * 4
        assert search_labels("幸福 % _", 10) == []  # LIKE wildcards are text
        assert search_labels("   ") == [] and search_labels("幸福小区" * 60) == []


def test_resolve_by_label_or_code_only_when_unique(app, estate):
    with app.app_context():
        room = resolve_label(ROOM)
        assert room is not None and room.kind == "room" and room.grid_code == GRID_A1
        assert resolve_label(" 幸福小区 3幢 1单元 602室 ").id == room.id  # spaces people type are ignored
        assert address_by_code(room.code).id == room.id
        assert resolve_label("幸福小区3幢1单元602") is None  # a part is no address
        assert address_by_code("幸福小区") is None and resolve_label(None) is None
        # The same label in two grids: which grid would answer? Neither.
        _add(GRID_A2, "estate", f"{GRID_A2}-01", "幸福小区")
        assert resolve_label("幸福小区") is None
        assert GridAddresses().resolve("幸福小区") is None
        hit = GridAddresses().resolve(ROOM)
        assert (hit.code, hit.label, hit.org_code, hit.org_name) == (room.code, ROOM, GRID_A1, "揽月花园1–8幢网格")


def test_a_village_house_resolves_to_its_household(app, demo):
    """A village house's 号, 单元 and 户 carry one label: the most specific is the address."""
    with app.app_context():
        estate = _add(GRID_A2, "estate", f"{GRID_A2}-07", "竹坞村")
        building = _add(GRID_A2, "building", f"{GRID_A2}-07-5", "竹坞村5号", estate)
        entrance = _add(GRID_A2, "entrance", f"{GRID_A2}-07-5-1", "竹坞村5号", building)
        room = _add(GRID_A2, "room", f"{GRID_A2}-07-5-1-1", "竹坞村5号", entrance)
        assert resolve_label("竹坞村5号").id == room
        assert [a.id for a in search_labels("竹坞村5号")] == [room]  # one entry per label
        db.rollback()


def test_a_closed_grid_answers_nothing(app, estate):
    from fengqiao.models import OrgUnit

    with app.app_context():
        db.execute(sa.update(OrgUnit).where(OrgUnit.code == GRID_A1).values(active=False))
        assert GridAddresses().search("幸福 602", 10) == [] and GridAddresses().resolve(ROOM) is None
        db.rollback()


# --- the public search ----------------------------------------------------------------------


def test_public_search_gives_addresses_and_grids_only(client, estate):
    found = client.get(SEARCH, query_string={"q": "幸福 1单元 602"})
    assert found.status_code == 200
    assert found.get_json() == {"items": [{"code": f"{GRID_A1}-01-3-1-602", "label": ROOM,
                                           "org": {"code": GRID_A1, "name": "揽月花园1–8幢网格"}}]}
    many = client.get(SEARCH, query_string={"q": "幸福小区"}).get_json()["items"]
    assert len(many) == 10


@pytest.mark.parametrize("q", ["", "幸", " 幸 ", "幸" * 41])
def test_public_search_refuses_short_and_long_text(client, demo, q):
    refused = client.get(SEARCH, query_string={"q": q})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["pointer"] == "/q" and "2–40" in refused.get_json()["errors"][0]["message"]


def test_switched_off_the_search_is_empty(app, client, estate):
    assert client.get(SEARCH, query_string={"q": "幸福 602"}).get_json()["items"]
    _switch(app, "grid", False)
    assert client.get(SEARCH, query_string={"q": "幸福 602"}).get_json() == {"items": []}
    created = _submit(client, {**REQUEST, "address": ROOM})
    assert _case_org(app, created.get_json()["case_number"]) == DISPATCH  # as before the picker


# --- a resident's case lands in the address's grid ---------------------------------------------


def test_a_standard_address_routes_the_case_to_its_grid(app, client, estate):
    created = _submit(client, {**REQUEST, "address": ROOM})
    assert created.status_code == 201, created.get_json()
    assert _case_org(app, created.get_json()["case_number"]) == GRID_A1
    by_code = _submit(client, {**REQUEST, "address": f"{GRID_A1}-01-3-2-101"})
    assert _case_org(app, by_code.get_json()["case_number"]) == GRID_A1


def test_an_explicit_org_wins_and_unknown_text_changes_nothing(app, client, estate):
    named = _submit(client, {**REQUEST, "address": ROOM}, f"?org={LANYUE}")
    assert _case_org(app, named.get_json()["case_number"]) == LANYUE
    unknown = _submit(client, {**REQUEST, "address": "湖滨路12号"})
    assert _case_org(app, unknown.get_json()["case_number"]) == DISPATCH
    partial = _submit(client, {**REQUEST, "address": "幸福小区3幢"})  # a building is an address too
    assert _case_org(app, partial.get_json()["case_number"]) == GRID_A1


def test_a_form_without_an_accepting_unit_needs_no_community_for_a_standard_address(app, client, estate):
    """代办服务 has no accepting unit: a resident names a community, or a standard address."""
    proxy = {"service_item": "居住证办理", "applicant_name": "林秀英", "applicant_id_card": "339901195203140111",
             "applicant_mobile": "13800138000", "address": "幸福小区3幢2单元101室"}
    created = client.post("/api/v1/forms/proxy-service/submissions", json=proxy)
    assert created.status_code == 201, created.get_json()
    assert _case_org(app, created.get_json()["case_number"]) == GRID_A1
    refused = client.post("/api/v1/forms/proxy-service/submissions", json={**proxy, "address": "揽月花园3幢"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["code"] == "org_required"


def test_a_resolved_address_beats_a_staff_members_own_unit(app, client, bearer):
    client.post("/api/v1/p/grid/addresses/bulk", headers=bearer("liuyang"), json={
        "grid": GRID_A2, "estate": "湖滨公寓", "buildings": [1], "units": 1, "floors": 1, "per_floor": 1})
    # 张敏 (grid A1) reports an address in 刘洋's grid A2: it lands where the address is.
    created = _submit(client, {**REQUEST, "address": "湖滨公寓1幢1单元101室"}, headers=bearer("zhangmin"))
    assert created.status_code == 201, created.get_json()
    assert _case_org(app, created.get_json()["case_number"]) == GRID_A2
    plain = _submit(client, {**REQUEST, "address": "别处"}, headers=bearer("zhangmin"))
    assert _case_org(app, plain.get_json()["case_number"]) == GRID_A1  # else still their own unit


def test_a_replay_with_the_same_key_is_the_same_case(app, client, estate):
    key = {"Idempotency-Key": "addr-replay-1"}
    first = _submit(client, {**REQUEST, "address": ROOM}, headers=key)
    again = _submit(client, {**REQUEST, "address": ROOM}, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["case_number"] == again.get_json()["case_number"]
    other = _submit(client, {**REQUEST, "address": "幸福小区3幢1单元601室"}, headers=key)
    assert other.status_code == 422  # another request under the same key


def test_the_form_page_offers_the_picker_while_the_plugin_is_on(app, client, estate):
    page = client.get("/forms/livelihood-request").get_data(as_text=True)
    assert f'data-address-search="{SEARCH}"' in page and 'autocomplete="off"' in page
    assert "/static/address-picker.js" in page
    _switch(app, "grid", False)
    plain = client.get("/forms/livelihood-request").get_data(as_text=True)
    assert "data-address-search" not in plain and 'name="address"' in plain


# --- another plugin looks addresses up through the sdk ---------------------------------------


def test_another_plugins_view_looks_addresses_up_through_the_sdk(app, estate):
    from fengqiao.sdk.addresses import AddressHit, resolve_address, search_addresses

    def where():  # what a plugin's view would do: only the sdk
        hit = resolve_address(ROOM)
        return {"grid": hit.org_code if isinstance(hit, AddressHit) else None,
                "hits": [h.label for h in search_addresses("幸福 602")]}

    with app.test_request_context("/p/another/where"):
        assert where() == {"grid": GRID_A1, "hits": ["幸福小区3幢1单元602室", "幸福小区3幢2单元602室"]}
    _switch(app, "grid", False)
    with app.test_request_context("/p/another/where"):
        assert where() == {"grid": None, "hits": []}
