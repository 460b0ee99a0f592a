"""Create, rename, move and deactivate org units; subtree paths stay consistent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.errors import ValidationFailed
from fengqiao.models import OrgUnit
from fengqiao.orgs import service
from fengqiao.testing.plugin import csrf_token


def _unit(code):
    return db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def test_move_rewrites_the_whole_subtree(demo):
    with demo.app_context():
        community = _unit("339901001002")  # 桥东社区 under 澄湖街道
        service.move_unit(community, _unit("339901100"))  # to 石溪镇
        db.commit()
        moved = {u.code: u for u in db.scalars(sa.select(OrgUnit).where(OrgUnit.path.like("%/339901001002/%")))}
        assert set(moved) == {"339901001002", "339901001002001", "339901001002002"}
        assert moved["339901001002001"].path == "/339901/339901100/339901001002/339901001002001/"
        assert moved["339901001002"].parent.code == "339901100"
        town = service.subtree_of(_unit("339901100"))
        assert {u.code for u in db.scalars(service.units_in(town))} >= set(moved)


def test_cannot_move_under_own_descendant_or_break_levels(demo):
    with demo.app_context():
        street = _unit("339901001")
        with pytest.raises(ValidationFailed) as err:
            service.move_unit(street, _unit("339901001001"))
        assert err.value.problems[0][2] == "hierarchy"
        with pytest.raises(ValidationFailed) as err:
            service.move_unit(_unit("339901001001"), _unit("339901100201"))  # community under village
        assert "不能隶属于" in err.value.problems[0][1]


def test_create_checks_every_field(demo):
    with demo.app_context():
        with pytest.raises(ValidationFailed) as err:
            service.create_unit("339901", "", "galaxy", "nope")
        pointers = {p for p, _m, _c in err.value.problems}
        assert pointers == {"/code", "/name", "/level", "/parent"}
        with pytest.raises(ValidationFailed) as err:
            service.create_unit("339901001001009", "新网格", "street", "339901001001")
        assert err.value.problems[0][0] == "/level"


def test_deactivate_needs_children_deactivated_first(demo):
    with demo.app_context():
        with pytest.raises(ValidationFailed):
            service.set_active(_unit("339901001001"), False)
        # Every child, whatever the demo county puts under 揽月社区 (its two grids, the property
        # company 揽月花园物业服务中心): the rule is about children, not about grids.
        children = db.scalars(sa.select(OrgUnit).where(OrgUnit.parent == _unit("339901001001"))).all()
        assert {"339901001001001", "339901001001002"} <= {c.code for c in children}
        for child in children:
            service.set_active(child, False)
        service.set_active(_unit("339901001001"), False)
        db.commit()
        assert not _unit("339901001001").active  # still there: units are never deleted


def test_admin_pages_create_rename_move_deactivate(client, login_as):
    login_as("admin")
    token = csrf_token(client, "/admin/orgs/new")
    created = client.post("/admin/orgs/new", data={
        "csrf_token": token, "code": "339901001003", "name": "新湖社区", "level": "community",
        "kind": "territorial", "parent": "339901001"})
    assert created.status_code == 302
    assert "新湖社区" in client.get("/admin/orgs").get_data(as_text=True)

    duplicate = client.post("/admin/orgs/new", data={
        "csrf_token": token, "code": "339901001003", "name": "重复", "level": "community",
        "kind": "territorial", "parent": "339901001"})
    assert duplicate.status_code == 422
    assert "已被使用" in duplicate.get_data(as_text=True)

    token = csrf_token(client, "/admin/orgs/339901001003")
    moved = client.post("/admin/orgs/339901001003", data={
        "csrf_token": token, "name": "新湖社区（改）", "parent": "339901100", "active": "y"})
    assert moved.status_code == 302
    page = client.get("/admin/orgs/339901001003").get_data(as_text=True)
    assert "新湖社区（改）" in page and "石溪镇" in page

    deactivated = client.post("/admin/orgs/339901001003", data={
        "csrf_token": token, "name": "新湖社区（改）", "parent": "339901100"})
    assert deactivated.status_code == 302
    assert "停用" in client.get("/admin/orgs?cursor=").get_data(as_text=True)


def test_community_staff_cannot_manage_units(client, login_as):
    login_as("shenli")
    assert client.get("/admin/orgs/new").status_code == 403
    token = csrf_token(client, "/admin/orgs/339901001001")
    response = client.post("/admin/orgs/339901001001", data={"csrf_token": token, "name": "改名", "parent": "339901001", "active": "y"})
    assert response.status_code == 403


def test_community_admin_manages_only_its_subtree(client, demo):
    with demo.app_context():
        from fengqiao.accounts.service import create_user

        create_user("lanyue_admin", "Lanyue-Passw0rd", "admin", "339901001001")
        db.commit()
    from fengqiao.testing.plugin import login

    assert login(client, "lanyue_admin", "Lanyue-Passw0rd").status_code == 302
    page = client.get("/admin/orgs/new").get_data(as_text=True)
    assert "揽月花园1–8幢网格" in page and "桥东社区" not in page
    token = csrf_token(client, "/admin/orgs/new")
    outside = client.post("/admin/orgs/new", data={"csrf_token": token, "code": "339901001002009",
                          "name": "越权网格", "level": "grid", "kind": "territorial", "parent": "339901001002"})
    assert outside.status_code == 422 and "有权限管理" in outside.get_data(as_text=True)
