"""Create, rename, move and deactivate org units (shared by CLI, pages and API)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from fengqiao import signals
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.models import OrgLevel, OrgUnit
from fengqiao.orgs.scope import Scope, subtree_upper_bound

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{1,31}$")
LEVELS = [lvl.value for lvl in OrgLevel]


def get_by_code(code: str) -> OrgUnit | None:
    return db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def _check_name(name: str, problems: list) -> str:
    name = (name or "").strip()
    if not name:
        problems.append(("/name", "此项为必填项", "required"))
    elif len(name) > 100:
        problems.append(("/name", "名称不能超过 100 个字符", "maxLength"))
    return name


def _check_parent_level(level: str, parent: OrgUnit | None, kind: str, problems: list) -> None:
    if parent is None:
        if level != OrgLevel.county:
            problems.append(("/parent", "只有区县可以作为顶级单位", "required"))
        return
    if kind == "department":
        return  # departments sit beside the territorial units of their level
    if OrgLevel(level).rank <= OrgLevel(parent.level).rank:
        problems.append(
            ("/level", f"{OrgLevel(level).label}不能隶属于{parent.level_label}", "hierarchy")
        )


def create_unit(
    code: str, name: str, level: str, parent_code: str | None, kind: str = "territorial"
) -> OrgUnit:
    problems: list[tuple[str, str, str]] = []
    code = (code or "").strip()
    if not CODE_RE.match(code):
        problems.append(("/code", "代码须为 2–32 位字母、数字或 -", "pattern"))
    elif get_by_code(code):
        problems.append(("/code", f"代码 {code} 已被使用", "unique"))
    name = _check_name(name, problems)
    if level not in LEVELS:
        problems.append(("/level", "层级无效", "enum"))
    if kind not in ("territorial", "department"):
        problems.append(("/kind", "类型无效", "enum"))
    parent = None
    if parent_code:
        parent = get_by_code(parent_code)
        if parent is None:
            problems.append(("/parent", f"上级单位代码 {parent_code!r} 不存在", "unknown_org"))
        elif not parent.active:
            problems.append(("/parent", f"上级单位 {parent.name} 已停用", "inactive_org"))
    if level in LEVELS and not any(p[0] == "/parent" for p in problems):
        _check_parent_level(level, parent, kind, problems)
    if problems:
        raise Invalid(problems)
    unit = OrgUnit(
        code=code, name=name, level=level, kind=kind, parent=parent,
        path=(parent.path if parent else "/") + f"{code}/",
        depth=parent.depth + 1 if parent else 0,
    )
    db.add(unit)
    db.flush()
    return unit


def rename_unit(unit: OrgUnit, name: str) -> None:
    problems: list = []
    name = _check_name(name, problems)
    if problems:
        raise Invalid(problems)
    if name != unit.name:
        signals.send(signals.org_renamed, org=unit.code, old_name=unit.name, new_name=name)  # after commit
    unit.name = name


def move_unit(unit: OrgUnit, new_parent: OrgUnit) -> None:
    """Re-parent ``unit``; the whole subtree's paths are rewritten in one UPDATE."""
    problems: list = []
    if new_parent.path.startswith(unit.path):
        problems.append(("/parent", "不能移动到自身或其下级单位之下", "hierarchy"))
    elif not new_parent.active:
        problems.append(("/parent", f"上级单位 {new_parent.name} 已停用", "inactive_org"))
    else:
        _check_parent_level(unit.level, new_parent, unit.kind, problems)
    if problems:
        raise Invalid(problems)
    old_path = unit.path
    new_path = f"{new_parent.path}{unit.code}/"
    depth_delta = new_parent.depth + 1 - unit.depth
    signals.send(signals.org_moved, org=unit.code, old_parent=unit.parent.code if unit.parent else None,
                 new_parent=new_parent.code, old_path=old_path, new_path=new_path)  # after commit
    db.execute(
        sa.update(OrgUnit)
        .where(OrgUnit.path >= old_path, OrgUnit.path < subtree_upper_bound(old_path))
        .values(
            path=sa.literal(new_path) + sa.func.substr(OrgUnit.path, len(old_path) + 1),
            depth=OrgUnit.depth + depth_delta,
        )
        .execution_options(synchronize_session=False)
    )
    unit.parent = new_parent
    db.flush()
    db.expire_all()


def set_active(unit: OrgUnit, active: bool) -> None:
    """Deactivate (never delete) a unit; a unit with active children cannot be deactivated."""
    if not active:
        active_children = db.scalar(
            sa.select(sa.func.count()).where(OrgUnit.parent_id == unit.id, OrgUnit.active)
        )
        if active_children:
            raise Invalid([("/active", f"请先停用其下 {active_children} 个下级单位", "has_children")])
    unit.active = active


def units_in(scope: Scope, include_inactive: bool = True) -> sa.Select:
    """Units the scope covers, in tree order."""
    stmt = sa.select(OrgUnit).where(scope.clause(OrgUnit.path))
    if not include_inactive:
        stmt = stmt.where(OrgUnit.active)
    return stmt.order_by(OrgUnit.path)


def subtree_of(unit: OrgUnit) -> Scope:
    return Scope((unit.path,))
