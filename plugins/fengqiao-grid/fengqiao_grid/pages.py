"""Pages under ``/p/grid/`` (phone-first, Chinese): the address tree with search and bulk
creation, an address with its household, people and units, a person, the units list.

Every form posts to the same services as the API. A refused form is shown again with one
Chinese message beside each field and status 422 (so the request's transaction rolls back);
a success redirects (303) with a flash message. Objects are loaded in scope first: another
grid's address or person is the uniform 404 page, never a message.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import DomainError, Invalid, NotFound, not_found
from fengqiao.sdk.orgs import display_names
from fengqiao.sdk.privacy import mask_id_card, mask_mobile, mask_name, mask_text
from fengqiao.sdk.web import current_user, paginate, parse_int, render, requires
from fengqiao.sdk.workdays import today_local
from flask import Blueprint, flash, redirect, request, url_for

from fengqiao_grid import addresses, establishments, people
from fengqiao_grid.access import (
    MANAGE,
    SPECIAL,
    VIEW,
    address_by_code,
    address_in_scope,
    addresses_in_scope,
    my_grids,
    person_in_scope,
)
from fengqiao_grid.models import (
    CARE_TAGS,
    CATEGORIES,
    KEEPERS,
    KINDS,
    RELATIONS,
    RESIDENCE_TYPES,
    SPECIAL_GROUPS,
    GridAddress,
    GridEstablishment,
)
from fengqiao_grid.overview import grid_figures

pages = Blueprint("grid", __name__)
PAGE = 30


class Form:
    """A posted form: its values (to show again) and one message per field."""

    def __init__(self, name: str = "", values: dict | None = None, errors: dict | None = None):
        self.name, self.values, self.errors = name, values or {}, errors or {}

    @classmethod
    def refused(cls, name: str, values: dict, err: DomainError) -> Form:
        if isinstance(err, NotFound) or getattr(err, "status", None) == 404:
            raise err  # another grid's object: the error page, never a message
        errors: dict[str, str] = {}
        for pointer, message, _code in err.problems:
            errors.setdefault(pointer.lstrip("/").split("/")[0], message)
        return cls(name, values, errors)

    def of(self, name: str) -> Form:
        """This form when ``name`` is the one posted, else an empty one."""
        return self if self.name == name else Form(name)


def _posted() -> dict:
    return {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}


def _ints(data: dict, *names: str) -> dict:
    """Numbers typed into a form as ints; anything else stays text for the schema to refuse."""
    out = dict(data)
    for name in names:
        value = out.get(name, "")
        if value == "":
            out.pop(name, None)
        else:
            number = parse_int(value)
            out[name] = number if number is not None else value
    return out


def _drop_empty(data: dict, *names: str) -> dict:
    return {k: v for k, v in data.items() if not (k in names and v == "")}


@pages.app_template_filter("grid_mask_name")
def _mask_name(value: str) -> str:
    return mask_name(value) if value else ""


@pages.app_template_filter("grid_mask_mobile")
def _mask_mobile(value: str) -> str:
    return mask_mobile(value) if value else ""


# --- the address tree


def _index(form: Form | None = None, status: int = 200):
    grids = my_grids(VIEW)
    codes = {g.code for g in grids}
    grid = (request.args.get("grid") or (form.values.get("grid") if form else "") or "").strip()
    if grid and grid not in codes:
        raise not_found()
    if not grid and len(grids) == 1:
        grid = grids[0].code
    q = (request.args.get("q") or "").strip()[:50]
    page = None
    if q:
        stmt = addresses.search(sa.select(GridAddress).where(addresses_in_scope(VIEW)), q, grid or None)
        page = paginate(stmt, GridAddress.id, limit=PAGE, descending=False)
    tops = addresses.grid_tops(grid) if grid else []
    return render("grid/index.html", grids=grids, grid=grid, q=q, page=page, tops=tops, kinds=KINDS,
                  figures=grid_figures([g.code for g in grids][:200]),
                  managed={g.code for g in my_grids(MANAGE)}, form=form or Form("bulk"),
                  max_rooms=addresses.MAX_ROOMS, month=today_local().strftime("%Y-%m")), status


@pages.get("/")
@requires(VIEW)
def index():
    return _index()


@pages.post("/addresses/bulk")
@requires(MANAGE)
def bulk():
    values = _posted()
    data = _ints(values, "units", "floors", "per_floor")
    data["buildings"] = addresses.parse_buildings(values.get("buildings", ""))
    try:
        made = addresses.bulk_create_once(data, current_user.username)
    except DomainError as err:
        return _index(Form.refused("bulk", values, err), 422)
    flash(f"已生成 {made['created']} 个地址节点（其中已有的 {made['existing']} 户未重复生成）", "success")
    return redirect(url_for(".address", address_id=made["estate"]), 303)


@pages.get("/addresses/<int:address_id>")
@requires(VIEW)
def address(address_id: int):
    return _address(address_in_scope(address_id, VIEW))


def _address(found: GridAddress, form: Form | None = None, status: int = 200):
    household = people.household_at(found) if found.kind == "room" else None
    members = people.household_members(household) if household else []
    former = people.household_members(household, current=False) if household else []
    moves = addresses.moves(found)
    return render("grid/address.html", address=found, chain=addresses.ancestors(found),
                  children=addresses.children(found), household=household, members=members, former=former,
                  units=establishments.units_at(found) if found.kind == "room" else [], moves=moves,
                  keeper_label=KEEPERS.get(found.kind), kinds=KINDS, relations=RELATIONS,
                  residence_types=RESIDENCE_TYPES, care_tags=CARE_TAGS, categories=CATEGORIES,
                  can_manage=current_user.can(MANAGE), grids=my_grids(MANAGE), form=form or Form(),
                  names=display_names([found.keeper_user] if found.keeper_user else []),
                  mask_id_card=mask_id_card), status


def _address_write(address_id: int, name: str, action, values: dict | None = None):
    """Load the address in scope (404 first), run ``action(address)``; the page again with the
    form's messages when refused."""
    found = address_in_scope(address_id, MANAGE)
    values = _posted() if values is None else values
    try:
        message = action(found)
    except DomainError as err:
        return _address(found, Form.refused(name, values, err), 422)
    flash(message, "success")
    return redirect(url_for(".address", address_id=found.id), 303)


@pages.post("/addresses/<int:address_id>/keeper")
@requires(MANAGE)
def keeper(address_id: int):
    values = _posted()
    return _address_write(address_id, "keeper", lambda a: (
        addresses.set_keeper(a, _drop_empty(values, "user", "name", "mobile")),
        f"已更新{KEEPERS.get(a.kind, '')}")[1], values)


@pages.post("/addresses/<int:address_id>/move")
@requires(MANAGE)
def move(address_id: int):
    values = _posted()
    return _address_write(address_id, "move", lambda a: (
        addresses.move(a, values, current_user.username), "已调整到新网格，原网格记录已保留")[1], values)


@pages.post("/addresses/<int:address_id>/people")
@requires(MANAGE)
def add_person(address_id: int):
    values = _posted()

    def act(a: GridAddress) -> str:
        data = _drop_empty({**values, "address": a.id}, "mobile", "moved_in")
        data["care_tags"] = request.form.getlist("care_tags")
        people.add_person(data, current_user.username)
        return "已登记"
    return _address_write(address_id, "person", act, values)


@pages.post("/addresses/<int:address_id>/rental")
@requires(MANAGE)
def rental(address_id: int):
    values = _posted()

    def act(a: GridAddress) -> str:
        household = people.household_at(a, create=True)
        people.set_rental(household, {**_drop_empty(values, "landlord_mobile"), "rented": values.get("rented") == "1"})
        return "已更新出租房信息"
    return _address_write(address_id, "rental", act, values)


@pages.post("/addresses/<int:address_id>/units")
@requires(MANAGE)
def add_unit_here(address_id: int):
    values = _posted()

    def act(a: GridAddress) -> str:
        establishments.add_unit({**_drop_empty(values, "credit_code", "safety_due", "contact_mobile"),
                                 "address": a.id}, current_user.username)
        return "已登记单位"
    return _address_write(address_id, "unit", act, values)


# --- a person


def _typed_address(values: dict) -> GridAddress:
    """The address whose standard code a person typed: one of the caller's grids, else a field
    message — the same for a code that does not exist and one of another grid."""
    try:
        return address_by_code(values.get("address_code", ""), MANAGE, "/address_code")
    except DomainError as err:
        if isinstance(err, NotFound) or getattr(err, "status", None) == 404:
            raise Invalid([("/address_code", "没有这个地址编码，或不在您的网格内", "unknown_address")]) from None
        raise


def _person(found, form: Form | None = None, status: int = 200, special=None):
    return render("grid/person.html", person=found, info=people.person_json(found), relations=RELATIONS,
                  residence_types=RESIDENCE_TYPES, care_tags=CARE_TAGS, special_groups=SPECIAL_GROUPS,
                  can_manage=current_user.can(MANAGE), can_special=current_user.can(SPECIAL), special=special,
                  form=form or Form()), status


@pages.get("/people/<int:person_id>")
@requires(VIEW)
def person(person_id: int):
    found = person_in_scope(person_id, VIEW)
    special = None
    if request.args.get("special") == "1" and current_user.can(SPECIAL):
        # Looking at special groups needs the permission over the person's grid, and is audited.
        found = person_in_scope(person_id, SPECIAL)
        special = people.special_records(found, current_user.username)
    return _person(found, special=special)


def _person_write(person_id: int, name: str, action, permission: str = MANAGE):
    found = person_in_scope(person_id, permission)
    values = _posted()
    try:
        message = action(found, values)
    except DomainError as err:
        return _person(found, Form.refused(name, values, err), 422)
    flash(message, "success")
    return redirect(url_for(".person", person_id=found.id, **({"special": "1"} if name == "special" else {})), 303)


@pages.post("/people/<int:person_id>/move-out")
@requires(MANAGE)
def move_out(person_id: int):
    return _person_write(person_id, "move_out", lambda p, v: (
        people.move_out(p, v, current_user.username), "已办理迁出")[1])


@pages.post("/people/<int:person_id>/move-in")
@requires(MANAGE)
def move_in(person_id: int):
    def act(p, values) -> str:
        target = _typed_address(values)
        people.move_in(p, {**_drop_empty({k: v for k, v in values.items() if k != "address_code"}, "moved_in"),
                           "address": target.id}, current_user.username)
        return "已办理迁入"
    return _person_write(person_id, "move_in", act)


@pages.post("/people/<int:person_id>/care")
@requires(MANAGE)
def care(person_id: int):
    return _person_write(person_id, "care", lambda p, v: (
        people.set_care_tags(p, {"care_tags": request.form.getlist("care_tags")}, current_user.username),
        "已更新关怀对象标签")[1])


@pages.post("/people/<int:person_id>/special")
@requires(SPECIAL)
def special(person_id: int):
    return _person_write(person_id, "special", lambda p, v: (
        people.add_special(p, v, current_user.username), "已登记")[1], SPECIAL)


# --- units (实有单位)


def _units(form: Form | None = None, status: int = 200):
    q = (request.args.get("q") or "").strip()[:50]
    stmt = (sa.select(GridEstablishment, GridAddress.label)
            .join(GridAddress, GridAddress.id == GridEstablishment.address_id).where(addresses_in_scope(VIEW)))
    if q:
        stmt = stmt.where(GridEstablishment.name.contains(q, autoescape=True))
    page = paginate(stmt, GridEstablishment.id, limit=PAGE)
    return render("grid/units.html", page=page, q=q, categories=CATEGORIES, can_manage=current_user.can(MANAGE),
                  form=form or Form("unit"), mask_text=mask_text), status


@pages.get("/units")
@requires(VIEW)
def units():
    return _units()


@pages.post("/units")
@requires(MANAGE)
def units_add():
    values = _posted()
    try:
        target = _typed_address(values)
        establishments.add_unit({**_drop_empty({k: v for k, v in values.items() if k != "address_code"},
                                               "credit_code", "safety_due", "contact_mobile"),
                                 "address": target.id}, current_user.username)
    except DomainError as err:
        return _units(Form.refused("unit", values, err), 422)
    flash("已登记单位", "success")
    return redirect(url_for(".units"), 303)
