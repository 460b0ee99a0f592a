"""Versioned case types: what ``case_type(key, version)`` reads, file sync, admin edits and
moving open cases between versions.

A case follows the version it started with (``cases.workflow_version``), so a changed file
or an admin's edit adds a row to ``case_type_versions`` instead of changing the rules under
open cases; moving them to another version is an explicit, audited migration.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from fengqiao.cases import sla, workflow
from fengqiao.cases.jurisdiction import applies_to as applies_to  # re-exported for the form engine
from fengqiao.cases.jurisdiction import holds_root, may_edit, may_view, type_org
from fengqiao.cases.queries import cases_in
from fengqiao.cases.workflow import GENERAL, CaseType, Registry, check_case_type, parse_case_type
from fengqiao.db import LOCAL_TZ, db, insert, utcnow
from fengqiao.exceptions import Conflict, Forbidden, Invalid, NotFound
from fengqiao.forms.definition import parse_definition_text
from fengqiao.models import Case, CaseEvent, CaseTypeDraft, CaseTypeVersion, OrgUnit, User
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import Page, decode_cursor, encode_cursor, keyset_page
from fengqiao.transaction import after_commit

log = logging.getLogger(__name__)

ADMIN_SOURCE = "admin"  # every other source ("core", a plugin name) is a file
MANAGE = "forms.manage"  # who edits workflows, and the scope their case counts come from
LATEST_TTL = 5.0  # seconds a process trusts its cached "latest version" of a key
MAX_NOTE = 500
MIGRATE_ACTION = "migrate_workflow"
_EXT = "fengqiao.case_type_versions"
_BATCH = 500


def digest_of(definition: Any) -> str:
    """sha256 of the canonical JSON: key order and whitespace do not make a new version."""
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ---- reading: a per-app cache in front of the table --------------------------------------


class VersionStore:
    """Parsed versions by (key, number), cached for good (a version never changes), and
    the latest number per key, re-read at most every ``LATEST_TTL`` seconds (at once after a
    save in this process) so other processes' saves show up without a query per call."""

    def __init__(self, files: Registry) -> None:
        self.files = files
        self._parsed: dict[tuple[str, int], CaseType] = {}
        self._latest: dict[str, tuple[int | None, float]] = {}

    def forget(self, key: str | None = None) -> None:
        if key is None:
            self._latest.clear()
        else:
            self._latest.pop(key, None)

    def latest_number(self, key: str) -> int | None:
        """The highest version number of ``key`` in the table (None: no row yet)."""
        cached = self._latest.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[1] < LATEST_TTL:
            return cached[0]
        number = db.scalar(sa.select(sa.func.max(CaseTypeVersion.number)).where(CaseTypeVersion.key == key))
        self._latest[key] = (number, now)
        return number

    def exact(self, key: str, number: int | None) -> CaseType | None:
        """Version ``number`` of ``key`` as stored, or None when there is no such (valid) row."""
        if number is None:
            return None
        found = self._parsed.get((key, number))
        if found is not None:
            return found
        row = version_row(key, number)
        if row is None:
            return None
        problems = check_case_type(row.definition, strict=False)  # stored: newer design rules don't apply
        if problems:
            log.error("case type %s version %s is invalid: %s", key, number, problems)
            return None
        found = replace(parse_case_type(row.definition), version=number)
        self._parsed[(key, number)] = found
        return found

    def get(self, key: str | None, version: int | None = None) -> CaseType:
        """That version (None: the latest); a key without rows is its file as version 1."""
        if not key:
            return self.files.get(key)
        latest = self.latest_number(key)  # cached: no query per call
        if latest is None:
            return self.files.get(key)
        found = self.exact(key, latest if version is None else version)
        if found is None and version is not None and version != latest:
            log.warning("case type %s has no version %s: using version %s", key, version, latest)
            found = self.exact(key, latest)
        return found if found is not None else self.files.get(key)


def store_of(app: Flask) -> VersionStore:
    store = app.extensions.get(_EXT)
    if store is None:
        store = app.extensions.setdefault(_EXT, VersionStore(app.extensions["fengqiao.case_types"]))
    return store


def case_type(key: str | None, version: int | None = None) -> CaseType:
    """Case type ``key`` as of ``version`` (None: the latest), from the versions table with a
    per-app cache; unknown keys give the generic workflow."""
    return store_of(current_app).get(key, version)


def version_row(key: str, number: int) -> CaseTypeVersion | None:
    return db.scalar(sa.select(CaseTypeVersion).where(CaseTypeVersion.key == key,
                                                      CaseTypeVersion.number == number))


def latest_row(key: str) -> CaseTypeVersion | None:
    return db.scalar(sa.select(CaseTypeVersion).where(CaseTypeVersion.key == key)
                     .order_by(CaseTypeVersion.number.desc()).limit(1))


def known_keys() -> list[str]:
    """Keys shipped in files, present in the table or drafted (a new type not yet published);
    the built-in generic type is none of these."""
    stored = db.scalars(sa.select(CaseTypeVersion.key).distinct())
    drafted = db.scalars(sa.select(CaseTypeDraft.key))
    return sorted(set(store_of(current_app).files.definitions) | set(stored) | set(drafted))


def is_known(key: str) -> bool:
    files = store_of(current_app).files.definitions
    return (key in files
            or db.scalar(sa.select(CaseTypeVersion.id).where(CaseTypeVersion.key == key).limit(1)) is not None
            or db.scalar(sa.select(CaseTypeDraft.id).where(CaseTypeDraft.key == key)) is not None)


@dataclass
class VersionView:
    """One version as the admin pages show it."""

    ctype: CaseType
    definition: dict
    row: CaseTypeVersion | None  # None: the file, not synced yet (version 1), or a new type's draft
    latest: int  # 0: a new type, never published (its draft is shown)

    @property
    def unpublished(self) -> bool:
        return self.latest == 0


def version_view(key: str, number: int | None = None) -> VersionView | None:
    """Version ``number`` (None: the latest) of ``key``, or None when there is no such."""
    row = latest_row(key) if number is None else version_row(key, number)
    if row is not None:
        ctype = store_of(current_app).exact(key, row.number)
        latest = row.number if number is None else store_of(current_app).latest_number(key) or row.number
        return VersionView(ctype, row.definition, row, max(latest, row.number)) if ctype else None
    files = store_of(current_app).files
    if key in files.definitions and number in (None, 1) and latest_row(key) is None:
        return VersionView(files.get(key), files.definitions[key][0], None, 1)
    draft = get_draft(key) if number is None and key not in files.definitions else None
    if draft is not None and draft.base_number is None and not check_case_type(draft.definition, strict=False):
        return VersionView(replace(parse_case_type(draft.definition), version=0), draft.definition, None, 0)
    return None


# ---- files -> table ----------------------------------------------------------------------


def sync_files(app: Flask) -> list[tuple[str, int]]:
    """Add version 1 for each file-loaded key without one, or a new version when the file
    differs from the last file-sourced version (so an unchanged file never overrides an
    admin's edit). Idempotent; returns the (key, number) pairs added. The caller commits."""
    files: Registry = app.extensions["fengqiao.case_types"]
    added = []
    for key, (definition, source) in sorted(files.definitions.items()):
        digest = digest_of(definition)
        latest = db.scalar(sa.select(sa.func.max(CaseTypeVersion.number)).where(CaseTypeVersion.key == key))
        last_file = db.scalar(
            sa.select(CaseTypeVersion.digest)
            .where(CaseTypeVersion.key == key, CaseTypeVersion.source != ADMIN_SOURCE)
            .order_by(CaseTypeVersion.number.desc()).limit(1)
        )
        if latest is not None and last_file == digest:
            continue
        number = (latest or 0) + 1
        note = "从定义文件导入" if number == 1 else "定义文件已更新，自动同步"
        if not _insert_unless_taken(key=key, number=number, definition=definition, source=source,
                                    digest=digest, note=note):
            continue  # another process synced the same key at the same moment
        log.info("case type %s: version %s from %s", key, number, source)
        added.append((key, number))
    after_commit(store_of(app).forget)
    return added


def _insert_unless_taken(**values: Any) -> bool:
    """INSERT the version unless its (key, number) exists: ON CONFLICT DO NOTHING, so a
    concurrent sync does not spoil the caller's transaction. Whether it was inserted."""
    inserted = db.execute(insert(CaseTypeVersion).values(**values)
                          .on_conflict_do_nothing(index_elements=["key", "number"])
                          .returning(CaseTypeVersion.id))
    return inserted.scalar() is not None


def _ensure_rows(key: str) -> CaseTypeVersion:
    """The latest row, first adding the file as version 1 when the key has none (in the
    caller's transaction: an app that never ran ``db upgrade`` still gets a proper history)."""
    row = latest_row(key)
    if row is not None:
        return row
    definition, source = store_of(current_app).files.definitions[key]
    row = CaseTypeVersion(key=key, number=1, definition=definition, source=source,
                          digest=digest_of(definition), note="从定义文件导入")
    db.add(row)
    db.flush()
    return row


# ---- admin edits -------------------------------------------------------------------------


def check_edit(key: str, text: str) -> dict:
    """The posted JSON text as a definition of ``key``, or :class:`Invalid` in Chinese."""
    data, problem = parse_definition_text(text, "editor")
    if problem is not None:
        raise Invalid([(problem.pointer, problem.message, "json")])
    found = definition_problems(key, data)
    if found:
        raise Invalid(found)
    return data


def definition_problems(key: str, data: object) -> list[tuple[str, str, str]]:
    """What is wrong with ``data`` as a definition of ``key`` (its key cannot change)."""
    found = check_case_type(data)
    if isinstance(data, dict) and data.get("key") != key and not any(p == "/key" for p, _, _ in found):
        found.append(("/key", f"事项类型标识 key 不能修改（应为 {key}）", "const"))
    return found


def note_problems(note: str, what: str) -> list[tuple[str, str, str]]:
    """An over-long 修改/发布/迁移说明 (``what``), as a problem at ``/note``."""
    return [("/note", f"{what}最多 {MAX_NOTE} 个字符", "maxLength")] if len(note) > MAX_NOTE else []


def save_version(key: str, text: str, note: str, user: User, base_version: int | None = None) -> CaseTypeVersion:
    """Save the edited definition as the next version (source "admin"); new cases use it,
    open ones keep theirs. ``base_version`` is what the editor was opened on."""
    current = require_edit(user, key)
    if current.number == 0:
        raise Conflict("该事项类型尚未发布，请在设计页编辑草稿并发布", code="unpublished")
    data = check_edit(key, text)
    note = (note or "").strip()
    found = _placement_problems(user, key, data) + note_problems(note, "修改说明")
    if found:
        raise Invalid(found)
    latest = _ensure_rows(key)
    if base_version is not None and base_version != latest.number:
        raise Conflict(f"编辑期间已有人保存了第 {latest.number} 版，请先查看最新版本再修改", code="stale",
                       pointer="/base_version")
    return _add_version(key, data, note, user, latest)


def _add_version(key: str, data: dict, note: str, user: User, latest: CaseTypeVersion | None) -> CaseTypeVersion:
    """Insert ``data`` as the version after ``latest`` (None: version 1 of a new type), source
    "admin": the one path for the JSON editor and publishing a draft."""
    digest = digest_of(data)
    if latest is not None and digest == latest.digest:
        raise Invalid([("", f"与当前第 {latest.number} 版完全相同，未保存新版本", "unchanged")])
    row = CaseTypeVersion(key=key, number=(latest.number if latest else 0) + 1, definition=data,
                          source=ADMIN_SOURCE, digest=digest, note=note, created_by_id=user.id, created_at=utcnow())
    db.add(row)
    try:
        db.flush()
    except IntegrityError:  # the caller's transaction is spoilt; answering 409 rolls it back
        raise Conflict("其他管理员刚刚保存了新版本，请刷新后再修改", code="stale", pointer="/base_version") from None
    after_commit(store_of(current_app).forget, key)
    log.info("case type %s: version %s saved by %s", key, row.number, user.username)
    return row


def history_page(key: str, cursor: str | None, limit: int = 20) -> Page:
    """Versions of ``key``, newest first."""
    return keyset_page(sa.select(CaseTypeVersion).where(CaseTypeVersion.key == key),
                       CaseTypeVersion.number, cursor, limit)


def author_labels(rows: list[CaseTypeVersion]) -> dict[int, str]:
    """Who saved each admin version, for the history page (one query)."""
    ids = {r.created_by_id for r in rows if r.created_by_id}
    return {u.id: u.label for u in db.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}


# ---- jurisdiction: who sees and edits which type ------------------------------------------

EDIT, VIEW = "edit", "view"


@dataclass
class Current:
    """What a key means now: its latest version, the file before a sync, or a new type's draft."""

    definition: dict
    number: int  # 0: never published, ``definition`` is the draft
    source: str  # of that version; "draft" for a new type


def current_definitions(keys: list[str]) -> dict[str, Current]:
    """The current definition of each key (two queries, whatever the number of keys)."""
    if not keys:
        return {}
    newest = (sa.select(CaseTypeVersion.key, sa.func.max(CaseTypeVersion.number).label("n"))
              .where(CaseTypeVersion.key.in_(keys)).group_by(CaseTypeVersion.key).subquery())
    rows = {r.key: r for r in db.scalars(sa.select(CaseTypeVersion).join(
        newest, sa.and_(CaseTypeVersion.key == newest.c.key, CaseTypeVersion.number == newest.c.n)))}
    files = store_of(current_app).files.definitions
    found = {}
    for key in keys:
        if key in rows:
            found[key] = Current(rows[key].definition, rows[key].number, rows[key].source)
        elif key in files:
            found[key] = Current(files[key][0], 1, files[key][1])
    missing = [k for k in keys if k not in found]
    if missing:
        for draft in db.scalars(sa.select(CaseTypeDraft).where(CaseTypeDraft.key.in_(missing))):
            found[draft.key] = Current(draft.definition, 0, "draft")
    return found


def org_paths(codes) -> dict[str, str]:
    """Unit code -> materialized path, for the codes that name a unit."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return {code: path for code, path in db.execute(
        sa.select(OrgUnit.code, OrgUnit.path).where(OrgUnit.code.in_(codes)))}


def _access(scope, code: str | None, paths: dict[str, str]) -> str | None:
    if code and code not in paths:  # its unit no longer exists: only a county-wide admin sees to it
        return EDIT if holds_root(scope) else None
    path = paths.get(code) if code else None
    if may_edit(scope, path):
        return EDIT
    return VIEW if may_view(scope, path) else None


def type_access(user: User, key: str) -> str | None:
    """"edit", "view" (county-wide or a unit above the admin's: read-only) or None (unknown to
    this admin: the pages answer 404)."""
    current = current_definitions([key]).get(key)
    if current is None:
        return None
    code = type_org(current.definition)
    return _access(scope_for(user, MANAGE), code, org_paths([code]))


def require_edit(user: User, key: str) -> Current:
    """The key's current definition if ``user`` may change it; else NotFound (outside their
    scope) or Forbidden (a type they may only read)."""
    current = current_definitions([key]).get(key)
    if current is None:
        raise NotFound()
    code = type_org(current.definition)
    access = _access(scope_for(user, MANAGE), code, org_paths([code]))
    if access is None:
        raise NotFound()
    if access == VIEW:
        raise Forbidden("该事项类型适用于更大范围（全县或上级单位），只能由相应的管理员修改；您可以查看", code="read_only")
    return current


def types_for_scope(user: User) -> list[tuple[str, str]]:
    """Published types an admin may pick for a form: county-wide ones and those whose unit is
    inside their scope or above it, as (key, title) by key."""
    current = current_definitions(known_keys())
    scope = scope_for(user, MANAGE)
    paths = org_paths(type_org(c.definition) for c in current.values())
    return [(key, c.definition.get("title", key)) for key, c in current.items()
            if c.number > 0 and _access(scope, type_org(c.definition), paths)]


def _org_problems(user: User, code: Any) -> list[tuple[str, str, str]]:
    """Why ``user`` may not place a type at unit ``code`` ("" / None: county-wide)."""
    scope = scope_for(user, MANAGE)
    if not code:
        if holds_root(scope):
            return []
        return [("/org", "只有管理全县的管理员可以设置适用于全县的事项类型，请选择您管辖的单位", "org_scope")]
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not unit.active:
        return [("/org", f"单位 {code} 不存在或已停用", "unknown_org")]
    if not scope.contains(unit.path):
        return [("/org", f"「{unit.name}」不在您的管理范围内，请选择您管辖的单位", "org_scope")]
    return []


def _prefix_owner(prefix: str, key: str) -> str | None:
    """The title of another type (published, shipped or drafted) using ``prefix``."""
    if prefix == GENERAL.prefix and key != GENERAL.key:
        return GENERAL.title
    others = [k for k in known_keys() if k != key]
    for other, current in current_definitions(others).items():
        if current.definition.get("prefix") == prefix:
            return current.definition.get("title", other)
    for draft in db.scalars(sa.select(CaseTypeDraft).where(CaseTypeDraft.key != key)):
        if draft.definition.get("prefix") == prefix:
            return draft.definition.get("title", draft.key)
    return None


def _placement_problems(user: User, key: str, data: Any) -> list[tuple[str, str, str]]:
    """The jurisdiction and prefix of a definition about to be saved for ``key``."""
    if not isinstance(data, dict):
        return []
    found = _org_problems(user, data.get("org"))
    prefix = data.get("prefix")
    owner = _prefix_owner(prefix, key) if isinstance(prefix, str) and prefix else None
    if owner:
        found.append(("/prefix", f"编号前缀 {prefix} 已被「{owner}」使用，请换一个", "prefix_taken"))
    return found


# ---- drafts and new types -----------------------------------------------------------------

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
PREFIX_PATTERN = re.compile(r"^[A-Z]{2,4}$")
TEMPLATE_PARTS = ("workflow", "sla", "reopen_to", "checkin", "checkin_minutes")
MINIMAL_WORKFLOW = {
    "initial": "reported",
    "states": [{"key": "reported", "title": "已上报"}, {"key": "closed", "title": "已办结", "final": True}],
    "transitions": [{"name": "close", "title": "办结", "from": ["reported"], "to": "closed",
                     "roles": ["staff"], "guards": ["comment_required"]}],
}


def get_draft(key: str) -> CaseTypeDraft | None:
    return db.scalar(sa.select(CaseTypeDraft).where(CaseTypeDraft.key == key))


def draft_author(draft: CaseTypeDraft | None) -> str | None:
    """Who last saved the draft, for its banner."""
    user = db.get(User, draft.updated_by_id) if draft is not None and draft.updated_by_id else None
    return user.label if user else None


def create_type(user: User, key: str, title: str, prefix: str, org_code: str | None,
                template_key: str | None = None) -> CaseTypeDraft:
    """A new case type as a draft (published later as version 1): the template's workflow and
    time limits, or a minimal 已上报 → 已办结 workflow. Every problem at once, per field."""
    key, title, prefix = (key or "").strip(), (title or "").strip(), (prefix or "").strip()
    org_code, template_key = (org_code or "").strip() or None, (template_key or "").strip() or None
    found = []
    if not key:
        found.append(("/key", "请填写标识", "required"))
    elif not KEY_PATTERN.match(key):
        found.append(("/key", "标识只能用小写字母开头，由小写字母、数字和下划线组成，2–64 个字符", "pattern"))
    elif key == GENERAL.key or is_known(key):
        found.append(("/key", f"标识 {key} 已被使用，请换一个", "key_taken"))
    if not title:
        found.append(("/title", "请填写名称", "required"))
    elif len(title) > 100:
        found.append(("/title", "名称不能超过 100 个字符", "maxLength"))
    if not prefix:
        found.append(("/prefix", "请填写编号前缀", "required"))
    elif not PREFIX_PATTERN.match(prefix):
        found.append(("/prefix", "编号前缀应为 2–4 个大写英文字母，例如 DC", "pattern"))
    else:
        owner = _prefix_owner(prefix, "")  # a new key: every existing type counts
        if owner:
            found.append(("/prefix", f"编号前缀 {prefix} 已被「{owner}」使用，请换一个", "prefix_taken"))
    found += _org_problems(user, org_code)
    template = None
    if template_key:
        template = current_definitions([template_key]).get(template_key)
        if template is None or type_access(user, template_key) is None:
            found.append(("/template", f"模板 {template_key} 不存在", "unknown_template"))
    if found:
        raise Invalid(found)
    definition: dict[str, Any] = {"key": key, "title": title, "prefix": prefix}
    if org_code:
        definition["org"] = org_code
    if template is not None:
        definition.update({part: copy.deepcopy(template.definition[part])
                           for part in TEMPLATE_PARTS if part in template.definition})
    else:
        definition["workflow"] = copy.deepcopy(MINIMAL_WORKFLOW)
    problems = check_case_type(definition)
    if problems:  # a template stored before today's rules: say what to fix there first
        raise Invalid([("/template", f"模板「{template.definition.get('title')}」不符合当前规则：{m}", code)
                       for _p, m, code in problems])
    draft = CaseTypeDraft(key=key, definition=definition, base_number=None, note="新建事项类型",
                          updated_by_id=user.id, updated_at=utcnow())
    db.add(draft)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"标识 {key} 刚刚被其他管理员使用，请换一个", code="key_taken", pointer="/key") from None
    log.info("case type %s: created as a draft by %s", key, user.username)
    return draft


def save_draft(key: str, definition: Any, user: User, note: str = "") -> CaseTypeDraft:
    """Keep ``definition`` as the key's draft (started from the latest version when there is
    none). Refused, listing every problem, unless it passes ``check_case_type``, keeps the key,
    stays in the admin's scope and uses a prefix of its own. Saving an existing draft again
    also rebases it on the latest version (the admin has seen it: see ``publish_draft``)."""
    current = require_edit(user, key)
    note = (note or "").strip()
    found = (definition_problems(key, definition) + _placement_problems(user, key, definition)
             + note_problems(note, "修改说明"))
    if found:
        raise Invalid(found)
    draft = get_draft(key)
    if draft is None:
        draft = CaseTypeDraft(key=key)
        db.add(draft)
    if current.number:
        draft.base_number = current.number
    draft.definition, draft.note = copy.deepcopy(definition), note
    draft.updated_by_id, draft.updated_at = user.id, utcnow()
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("其他管理员刚刚开始了这个事项类型的草稿，请刷新后再修改", code="stale") from None
    return draft


def discard_draft(key: str, user: User) -> None:
    """Drop the key's draft; for a type never published that is the type itself."""
    require_edit(user, key)
    draft = get_draft(key)
    if draft is None:
        raise NotFound("该事项类型没有未发布的草稿", code="no_draft")
    db.delete(draft)
    db.flush()
    log.info("case type %s: draft discarded by %s", key, user.username)


def publish_draft(key: str, user: User, note: str = "") -> CaseTypeVersion:
    """The draft becomes the next version (a new type's version 1) and is deleted; new cases
    follow it, open ones keep theirs. A draft started before someone else's version is
    refused until the admin has looked at it and saved it again."""
    current = require_edit(user, key)
    draft = get_draft(key)
    if draft is None:
        raise NotFound("该事项类型没有未发布的草稿", code="no_draft")
    note = (note or "").strip() or draft.note or ""
    found = (check_case_type(draft.definition) + _placement_problems(user, key, draft.definition)
             + note_problems(note, "发布说明"))
    if found:
        raise Invalid(found)
    latest = _ensure_rows(key) if current.number else None
    if (latest.number if latest else None) != draft.base_number:
        raise Conflict(f"草稿基于第 {draft.base_number} 版编辑，其后已有第 {latest.number if latest else 0} 版。"
                       "请打开草稿核对并再次保存，然后发布", code="stale")
    row = _add_version(key, draft.definition, note, user, latest)
    db.delete(draft)
    db.flush()
    return row


def restore_version(key: str, number: int, user: User) -> CaseTypeDraft:
    """A draft holding version ``number``'s definition, to publish as the next version (the
    history stays as it is). Refused while another draft exists: it would be lost."""
    current = require_edit(user, key)
    row = version_row(key, number)
    files = store_of(current_app).files.definitions
    if row is not None:
        definition = row.definition
    elif number == 1 and key in files and current.number == 1 and latest_row(key) is None:
        definition = files[key][0]
    else:
        raise NotFound(f"第 {number} 版不存在", code="unknown_version")
    if get_draft(key) is not None:
        raise Conflict("已有未发布的草稿：请先发布或放弃它，再恢复历史版本", code="draft_exists")
    found = _org_problems(user, definition.get("org"))
    if found:
        raise Invalid(found)
    draft = CaseTypeDraft(key=key, definition=copy.deepcopy(definition), base_number=current.number,
                          note=f"恢复第 {number} 版", updated_by_id=user.id, updated_at=utcnow())
    db.add(draft)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("已有未发布的草稿：请先发布或放弃它，再恢复历史版本", code="draft_exists") from None
    return draft


# ---- open cases per version --------------------------------------------------------------


def _state_counts(user: User, keys: list[str], version: int | None = None) -> list[tuple[str, int, str, int]]:
    """(type, workflow_version, state, count) of the cases ``user`` may manage."""
    ids = cases_in(scope_for(user, MANAGE)).where(Case.type.in_(keys)).with_only_columns(Case.id)
    stmt = (
        sa.select(Case.type, Case.workflow_version, Case.state, sa.func.count(Case.id))
        .where(Case.id.in_(ids))
        .group_by(Case.type, Case.workflow_version, Case.state)
    )
    if version is not None:
        stmt = stmt.where(Case.workflow_version == version)
    return [tuple(row) for row in db.execute(stmt)]


def open_counts(user: User, keys: list[str]) -> dict[str, dict[int, int]]:
    """Open (not final in their own version) cases per key and version."""
    store = store_of(current_app)
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for key, version, state, count in _state_counts(user, keys):
        if not store.get(key, version).is_final(state):
            counts[key][version] += count
    return {k: dict(sorted(v.items())) for k, v in counts.items()}


def open_states(user: User, key: str, version: int) -> dict[str, int]:
    """Open cases of one version by state: what a migration has to map."""
    ctype = store_of(current_app).get(key, version)
    order = {state: i for i, state in enumerate(ctype.states)}
    found = [(state, count) for _key, _v, state, count in _state_counts(user, [key], version)
             if not ctype.is_final(state)]
    return dict(sorted(found, key=lambda item: (order.get(item[0], len(order)), item[0])))


@dataclass
class TypeSummary:
    key: str
    title: str
    latest: int
    source: str  # of the latest version ("draft": a new type, never published)
    open_by_version: dict[int, int]
    draft: bool = False  # an unpublished draft exists
    editable: bool = True  # False: the admin may only read it (county-wide or a unit above theirs)
    org: str | None = None  # the unit it applies to (None: the whole county)
    org_name: str = ""


def type_page(user: User, cursor: str | None, limit: int = 50) -> Page:
    """Case types by key with their latest version and open cases per version."""
    after = decode_cursor(cursor)
    keys = [k for k in known_keys() if after is None or k > after]
    current = current_definitions(keys)
    scope = scope_for(user, MANAGE)
    paths = org_paths(type_org(c.definition) for c in current.values())
    access = {k: _access(scope, type_org(c.definition), paths) for k, c in current.items()}
    keys = [k for k in keys if access.get(k)]  # another jurisdiction's types stay unknown
    more, keys = len(keys) > limit, keys[:limit]
    counts = open_counts(user, keys) if keys else {}
    drafted = set(db.scalars(sa.select(CaseTypeDraft.key).where(CaseTypeDraft.key.in_(keys)))) if keys else set()
    units = dict(db.execute(sa.select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.code.in_({type_org(current[k].definition) for k in keys} - {None}))).all()) if keys else {}
    items = []
    for key in keys:
        definition, number, source = current[key].definition, current[key].number, current[key].source
        org = type_org(definition)
        items.append(TypeSummary(key, definition.get("title", key), number, source, counts.get(key, {}),
                                 draft=key in drafted, editable=access[key] == EDIT, org=org,
                                 org_name=units.get(org, org) if org else ""))
    return Page(items, encode_cursor(keys[-1]) if more and keys else None)


# ---- migration ---------------------------------------------------------------------------


def migrate_open_cases(key: str, from_version: int, to_version: int, state_map: dict[str, str],
                       user: User, note: str = "") -> int:
    """Move the open cases of ``from_version`` (that ``user`` manages) to ``to_version``,
    each state through ``state_map``. All or nothing: any unmapped state, or a case that
    changed meanwhile, moves none. Each case gets a history row and a new lock version."""
    store = store_of(current_app)
    source, target = store.exact(key, from_version), store.exact(key, to_version)
    problems = []
    if source is None:
        problems.append(("/from_version", f"第 {from_version} 版不存在", "unknown_version"))
    if target is None:
        problems.append(("/to_version", f"第 {to_version} 版不存在", "unknown_version"))
    if not problems and from_version == to_version:
        problems.append(("/to_version", "目标版本与原版本相同，请选择另一个版本", "same_version"))
    note = (note or "").strip()
    problems += note_problems(note, "迁移说明")
    if problems:
        raise Invalid(problems)
    waiting = open_states(user, key, from_version)
    if not waiting:
        raise Invalid([("/from_version", f"第 {from_version} 版没有在办事项，无需迁移", "empty")])
    for state, count in waiting.items():
        mapped = state_map.get(state) or ""
        label = f"「{source.state_title(state)}」（{state}）"
        if not mapped:
            problems.append((f"/state_map/{state}", f"状态{label}下有 {count} 件在办事项，请选择它在第 {to_version} 版中对应的状态",
                             "required"))
        elif mapped not in target.states:
            problems.append((f"/state_map/{state}", f"第 {to_version} 版没有状态 {mapped}", "unknown_state"))
        elif target.is_final(mapped):
            problems.append((f"/state_map/{state}", f"状态{label}不能映射到终止状态「{target.state_title(mapped)}」：迁移不能结案",
                             "final_state"))
    if problems:
        raise Invalid(problems)
    used = {state: state_map[state] for state in sorted(waiting)}
    moved = 0
    for state in sorted(waiting):
        moved += _move_state(key, state, used, from_version, to_version, user, note)
    log.info("case type %s: %s open cases moved from version %s to %s by %s", key, moved, from_version,
             to_version, user.username)
    return moved


def _move_state(key: str, state: str, used: dict[str, str], from_version: int, to_version: int,
                user: User, note: str) -> int:
    """Move one state's cases, 500 at a time: each gets the target version's clock
    (:func:`sla.reclocked`) and a history row with its old and new deadline."""
    target, now, moved = store_of(current_app).exact(key, to_version), utcnow(), 0
    base = {"from_version": from_version, "to_version": to_version, "state_map": used}
    for chunk in _clock_chunks(user, key, from_version, state):
        rows, events = [], []
        for case in chunk:
            values = sla.reclocked(case, target, now)
            rows.append({"b_id": case.id, "b_version": case.version, **values})
            events.append({"case_id": case.id, "at": now, "actor_id": user.id, "action": MIGRATE_ACTION,
                           "from_state": state, "to_state": used[state], "comment": note,
                           "changes": {**base, **_clock_changes(case, values)}, "internal": True})
        table = Case.__table__
        updated = db.execute(
            table.update()
            .where(table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_version"),
                   table.c.workflow_version == from_version, table.c.state == state)
            .values(workflow_version=to_version, state=used[state], version=table.c.version + 1,
                    **{name: sa.bindparam(name, type_=table.c[name].type) for name in sla.CLOCK_COLUMNS}),
            rows,
        ).rowcount
        if updated != len(rows):  # the caller's rollback undoes the chunks moved before
            raise Conflict("迁移期间有事项被他人办理，未迁移任何事项，请重试", code="stale")
        db.execute(sa.insert(CaseEvent), events)
        moved += len(rows)
    return moved


_CLOCK_READ = (Case.id, Case.version, Case.state, Case.data, Case.created_at, Case.sla_start, Case.sla_limit,
               Case.sla_credit, Case.paused_at, Case.paused_seconds, Case.deadline, Case.deadline_provisional,
               Case.due_at, Case.first_closed_at, Case.sla_status, Case.priority, OrgUnit.path)


def _clock_chunks(user: User, key: str, version: int, state: str | None = None):
    """The open cases of ``version`` that ``user`` manages (one state, or all open ones), as
    plain rows with what :func:`sla.reclocked` reads, ``_BATCH`` at a time by id."""
    ctype = store_of(current_app).get(key, version)
    final = [s.key for s in (*ctype.states.values(), *workflow.CORE_STATES.values()) if s.final]  # closed ones are not read
    after = 0
    while True:
        stmt = (cases_in(scope_for(user, MANAGE)).with_only_columns(*_CLOCK_READ)
                .where(Case.type == key, Case.workflow_version == version, Case.state.not_in(final), Case.id > after)
                .order_by(Case.id).limit(_BATCH))
        if state is not None:
            stmt = stmt.where(Case.state == state)
        rows = db.execute(stmt).all()
        if not rows:
            return
        after = rows[-1].id
        yield [_ClockRow(r) for r in rows]
        if len(rows) < _BATCH:
            return


class _ClockRow:
    """A case row as :func:`sla.reclocked` reads it (``org.path`` included), without the ORM."""

    def __init__(self, row) -> None:
        self.__dict__.update(row._asdict())
        self.org = SimpleNamespace(path=row.path)


def _clock_changes(case, values: dict) -> dict:
    """What the history row of a moved case records of its clock: the deadline before and
    after (ISO text), and the tier, limit and first clock when they changed."""
    def iso(value):
        return value.astimezone(LOCAL_TZ).isoformat() if value is not None else None  # one zone: equal reads equal

    changes: dict = {}
    if case.deadline is not None or values["deadline"] is not None:
        changes["deadline"] = {"from": iso(case.deadline), "to": iso(values["deadline"])}
    if values["due_at"] != case.due_at and (case.due_at, values["due_at"]) != (case.deadline, values["deadline"]):
        changes["due_at"] = {"from": iso(case.due_at), "to": iso(values["due_at"])}
    if values["sla_limit"] != case.sla_limit:
        changes["limit"] = {"from": sla.limit_text(case.sla_limit) or None, "to": sla.limit_text(values["sla_limit"]) or None}
    if values["priority"] != case.priority:
        changes["priority"] = {"from": case.priority or None, "to": values["priority"] or None}
    return changes


@dataclass
class ClockPreview:
    """How many of a state's open cases a migration gives an earlier or later deadline."""

    count: int = 0
    earlier: int = 0
    later: int = 0

    @property
    def changed(self) -> int:
        return self.earlier + self.later


def clock_preview(user: User, key: str, from_version: int, to_version: int) -> dict[str, ClockPreview]:
    """Per open state of ``from_version``: what moving its cases to ``to_version`` would do to
    their deadlines (computed as the migration does, without writing)."""
    target = store_of(current_app).exact(key, to_version)
    found: dict[str, ClockPreview] = defaultdict(ClockPreview)
    if target is None:
        return {}
    now = utcnow()
    for chunk in _clock_chunks(user, key, from_version):
        for case in chunk:
            new = sla.reclocked(case, target, now)["deadline"]
            preview = found[case.state]
            preview.count += 1
            if new != case.deadline:
                if new is not None and (case.deadline is None or new < case.deadline):
                    preview.earlier += 1
                else:
                    preview.later += 1  # later, or no deadline any more
    return dict(found)
