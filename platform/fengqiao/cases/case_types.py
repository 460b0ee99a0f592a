"""Versioned case types: what ``case_type(key, version)`` reads, file sync, admin edits and
moving open cases between versions.

A case follows the version it started with (``cases.workflow_version``), so a changed file
or an admin's edit adds a row to ``case_type_versions`` instead of changing the rules under
open cases; moving them to another version is an explicit, audited migration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from fengqiao.cases.queries import cases_in
from fengqiao.cases.workflow import CaseType, Registry, check_case_type, parse_case_type
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Conflict, Invalid, NotFound
from fengqiao.forms.definition import parse_definition_text
from fengqiao.models import Case, CaseEvent, CaseTypeVersion, User
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
        problems = check_case_type(row.definition)
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
    """Keys shipped in files or present in the table (the built-in generic type is neither)."""
    stored = db.scalars(sa.select(CaseTypeVersion.key).distinct())
    return sorted(set(store_of(current_app).files.definitions) | set(stored))


def is_known(key: str) -> bool:
    files = store_of(current_app).files.definitions
    return key in files or db.scalar(sa.select(CaseTypeVersion.id).where(CaseTypeVersion.key == key).limit(1)) is not None


@dataclass
class VersionView:
    """One version as the admin pages show it."""

    ctype: CaseType
    definition: dict
    row: CaseTypeVersion | None  # None: the file, not synced yet (version 1)
    latest: int


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
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    inserted = db.execute(dialect.insert(CaseTypeVersion).values(**values)
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
    found = check_case_type(data)
    if isinstance(data, dict) and data.get("key") != key and not any(p == "/key" for p, _, _ in found):
        found.append(("/key", f"事项类型标识 key 不能修改（应为 {key}）", "const"))
    if found:
        raise Invalid(found)
    return data


def save_version(key: str, text: str, note: str, user: User, base_version: int | None = None) -> CaseTypeVersion:
    """Save the edited definition as the next version (source "admin"); new cases use it,
    open ones keep theirs. ``base_version`` is what the editor was opened on."""
    if not is_known(key):
        raise NotFound()
    data = check_edit(key, text)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid([("/note", f"修改说明最多 {MAX_NOTE} 个字符", "maxLength")])
    latest = _ensure_rows(key)
    if base_version is not None and base_version != latest.number:
        raise Conflict(f"编辑期间已有人保存了第 {latest.number} 版，请先查看最新版本再修改", code="stale",
                       pointer="/base_version")
    digest = digest_of(data)
    if digest == latest.digest:
        raise Invalid([("", f"与当前第 {latest.number} 版完全相同，未保存新版本", "unchanged")])
    row = CaseTypeVersion(key=key, number=latest.number + 1, definition=data, source=ADMIN_SOURCE,
                          digest=digest, note=note, created_by_id=user.id, created_at=utcnow())
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
    source: str  # of the latest version
    open_by_version: dict[int, int]


def type_page(user: User, cursor: str | None, limit: int = 50) -> Page:
    """Case types by key with their latest version and open cases per version."""
    after = decode_cursor(cursor)
    keys = [k for k in known_keys() if after is None or k > after]
    more, keys = len(keys) > limit, keys[:limit]
    newest = (sa.select(CaseTypeVersion.key, sa.func.max(CaseTypeVersion.number).label("n"))
              .where(CaseTypeVersion.key.in_(keys)).group_by(CaseTypeVersion.key).subquery())
    rows = {r.key: r for r in db.scalars(sa.select(CaseTypeVersion).join(
        newest, sa.and_(CaseTypeVersion.key == newest.c.key, CaseTypeVersion.number == newest.c.n)))}
    files = store_of(current_app).files.definitions
    counts = open_counts(user, keys) if keys else {}
    items = []
    for key in keys:
        row = rows.get(key)
        if row is not None:
            definition, number, source = row.definition, row.number, row.source
        else:  # not synced yet: the file is version 1
            (definition, source), number = files[key], 1
        items.append(TypeSummary(key, definition.get("title", key), number, source, counts.get(key, {})))
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
    if len(note) > MAX_NOTE:
        problems.append(("/note", f"迁移说明最多 {MAX_NOTE} 个字符", "maxLength"))
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
    ids = list(db.scalars(
        cases_in(scope_for(user, MANAGE))
        .where(Case.type == key, Case.workflow_version == from_version, Case.state == state)
        .with_only_columns(Case.id).order_by(Case.id)
    ))
    now, changes = utcnow(), {"from_version": from_version, "to_version": to_version, "state_map": used}
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start:start + _BATCH]
        updated = db.execute(
            sa.update(Case)
            .where(Case.id.in_(chunk), Case.workflow_version == from_version, Case.state == state)
            .values(workflow_version=to_version, state=used[state], version=Case.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if updated != len(chunk):  # the caller's rollback undoes the chunks moved before
            raise Conflict("迁移期间有事项被他人办理，未迁移任何事项，请重试", code="stale")
        db.execute(sa.insert(CaseEvent), [
            {"case_id": case_id, "at": now, "actor_id": user.id, "action": MIGRATE_ACTION,
             "from_state": state, "to_state": used[state], "comment": note, "changes": changes,
             "internal": True}
            for case_id in chunk
        ])
    return len(ids)
