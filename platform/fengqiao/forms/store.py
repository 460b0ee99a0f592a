"""Form lifecycle: import, edit drafts, publish immutable versions, archive.

Publishing compares the draft with the previous version; a breaking change (field removed,
retyped, newly required, enum value removed …) needs an explicit confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from fengqiao import caches, signals
from fengqiao.db import current_session, db, utcnow
from fengqiao.exceptions import Forbidden, Gone, Invalid, NotFound, Unauthenticated
from fengqiao.forms.definition import FormDefinition, check_definition
from fengqiao.forms.diff import FormDiff, diff_definitions
from fengqiao.models import Form, FormVersion, User
from fengqiao.plugins.state import is_active


class BreakingChange(Exception):
    """Publishing needs confirmation: ``diff`` names each breaking field."""

    def __init__(self, form_key: str, diff: FormDiff):
        self.form_key = form_key
        self.diff = diff
        fields = ", ".join(c.path for c in diff.changes if c.breaking)
        super().__init__(f"{form_key}: 不兼容的修改（{fields}），需要确认后发布")


@dataclass
class ImportResult:
    key: str
    created: bool
    published_version: int | None
    unchanged: bool
    version: FormVersion | None = None


def get_form(key: str) -> Form | None:
    return db.scalar(sa.select(Form).where(Form.key == key))


def get_version(key: str, number: int | None = None) -> FormVersion | None:
    """The published version ``number`` of ``key`` (the latest when None)."""
    form = get_form(key)
    if form is None or form.latest_version is None:
        return None
    wanted = number if number is not None else form.latest_version
    return db.scalar(
        sa.select(FormVersion).where(FormVersion.form_id == form.id, FormVersion.number == wanted)
    )


@dataclass(frozen=True)
class PublishedVersion:
    """A published version as the hot paths need it; safe to cache since versions never change."""

    id: int
    form_id: int
    number: int
    definition: dict
    breaking: bool


@dataclass(frozen=True)
class PublishedForm:
    """A form row as the hot paths read it: a snapshot from the ``forms`` cache."""

    id: int
    key: str
    title: str
    access: str
    status: str
    source: str
    latest_version: int | None


def published(key: str, number: int | None = None) -> tuple[PublishedForm, PublishedVersion | None] | None:
    """The form and its published version ``number`` (latest when None). The form comes from
    the ``forms`` cache (:mod:`fengqiao.caches`: no query until a form changes anywhere), the
    version from the app's cache of versions, which never change once published."""
    session = current_session()
    form = caches.cached(session, caches.FORMS, key, lambda: _form_snapshot(session, key))
    if form is None or form.latest_version is None:
        return None
    wanted = number if number is not None else form.latest_version
    versions = current_app.extensions.setdefault("fengqiao.published_versions", {})
    version = versions.get((form.id, wanted))
    if version is None:
        row = session.scalar(
            sa.select(FormVersion).where(FormVersion.form_id == form.id, FormVersion.number == wanted)
        )
        if row is None:
            return form, None
        version = versions[(form.id, wanted)] = PublishedVersion(
            row.id, row.form_id, row.number, row.definition, row.breaking
        )
    return form, version


def _form_snapshot(session, key: str) -> PublishedForm | None:
    row = session.execute(
        sa.select(Form.id, Form.key, Form.title, Form.access, Form.status, Form.source, Form.latest_version)
        .where(Form.key == key)
    ).first()
    return None if row is None else PublishedForm(*row)


def _validated(definition: dict[str, Any], source: str) -> FormDefinition:
    problems = check_definition(definition, source)
    if problems:
        raise Invalid([(p.pointer or "/", p.message, "definition") for p in problems])
    return FormDefinition.from_dict(definition)


def save_draft(definition: dict[str, Any], source: str = "admin") -> Form:
    """Create the form or replace its draft; the definition must pass ``forms check``."""
    checked = _validated(definition, definition.get("key", "<draft>"))
    form = get_form(checked.key)
    if form is None:
        form = Form(key=checked.key, title=checked.title, access=checked.access, source=source)
        db.add(form)
    form.draft = checked.to_dict()
    form.draft_updated_at = utcnow()
    if form.latest_version is None:
        form.title, form.access = checked.title, checked.access
    db.flush()
    return form


def pending_diff(form: Form, type_title=None) -> FormDiff | None:
    """What publishing the draft would change against the latest version (None: first one);
    ``type_title`` names case types in the routing change (forms.case_link.type_title)."""
    if form.draft is None or form.latest_version is None:
        return None
    latest = get_version(form.key)
    return diff_definitions(latest.definition, form.draft, type_title)


def publish(form: Form, user: User | None = None, allow_breaking: bool = False,
            type_title=None) -> FormVersion:
    """Freeze the draft as the next version number."""
    if form.draft is None:
        raise Invalid([("/draft", "没有待发布的草稿", "no_draft")])
    diff = pending_diff(form, type_title)
    if diff is not None and not diff.changes and form.draft == get_version(form.key).definition:
        raise Invalid([("/draft", "草稿与当前版本相同，无需发布", "unchanged")])
    if diff is not None and diff.breaking and not allow_breaking:
        raise BreakingChange(form.key, diff)
    number = (form.latest_version or 0) + 1
    version = FormVersion(
        form=form,
        number=number,
        definition=form.draft,
        breaking=bool(diff and diff.breaking),
        changes=diff.to_json() if diff else [],
        published_by=user,
    )
    db.add(version)
    form.latest_version = number
    form.title = form.draft["title"]
    form.access = form.draft["access"]
    form.draft = None
    form.draft_updated_at = None
    db.flush()
    return version


def announce_published(version: FormVersion) -> None:
    """Send ``form_published`` (delivered once the publishing transaction commits)."""
    signals.send(signals.form_published, form_key=version.definition["key"],
                 version=version.number, breaking=version.breaking)


def set_archived(form: Form, archived: bool) -> None:
    form.status = "archived" if archived else "active"


def import_definition(
    definition: dict[str, Any],
    source: str = "admin",
    publish_now: bool = False,
    allow_breaking: bool = False,
    user: User | None = None,
) -> ImportResult:
    """Load a definition file's content as a draft, and publish it when asked.

    Importing what is already the latest version changes nothing (idempotent), so core and
    plugin definitions can be imported on every start or deploy. A breaking change that is
    not allowed raises :class:`BreakingChange` before anything is written.
    """
    existing = get_form(definition.get("key", ""))
    latest = get_version(existing.key) if existing else None
    checked = _validated(definition, definition.get("key", "")).to_dict()
    if latest is not None and latest.definition == checked:
        return ImportResult(existing.key, False, None, True)
    if publish_now and latest is not None and not allow_breaking:
        diff = diff_definitions(latest.definition, checked)
        if diff.breaking:
            raise BreakingChange(existing.key, diff)
    form = save_draft(definition, source)
    version = publish(form, user, allow_breaking) if publish_now else None
    return ImportResult(form.key, existing is None, version.number if version else None, False, version)


def _hidden_sources() -> list[str]:
    """Forms of plugins that are installed but not active here are hidden, data kept."""
    from flask import current_app

    from fengqiao.plugins.state import disabled_names

    loaded = set(current_app.extensions.get("fengqiao.plugins", {})) - disabled_names()
    sources = db.scalars(sa.select(Form.source).where(Form.source.like("plugin:%")).distinct())
    return [s for s in sources if s.split(":", 1)[1] not in loaded]


def usable_forms(user) -> list[Form]:
    """Published, active forms the caller may fill in: public ones, plus staff ones for staff."""
    stmt = sa.select(Form).where(Form.latest_version.is_not(None), Form.status == "active")
    hidden = _hidden_sources()
    if hidden:
        stmt = stmt.where(Form.source.not_in(hidden))
    if not (user is not None and user.is_authenticated and user.can("cases.report")):
        stmt = stmt.where(Form.access == "public")
        samples = _sample_sources()
        if samples:  # a walkthrough's form is for staff trying the platform, never offered to residents
            stmt = stmt.where(Form.source.not_in(samples))
    return list(db.scalars(stmt.order_by(Form.key)))


def _sample_sources() -> list[str]:
    """``plugin:<name>`` of loaded demo-only plugins (walkthroughs and samples)."""
    from flask import current_app

    return [f"plugin:{name}" for name, plugin in current_app.extensions.get("fengqiao.plugins", {}).items()
            if getattr(plugin, "demo_only", False)]


def require_usable(key: str, user, number: int | None = None) -> PublishedVersion:
    """The version a caller may submit to, or the domain error that explains why not."""
    found = published(key, number)
    if found is None:
        raise NotFound(f"表单 {key} 不存在或尚未发布", code="not_found")
    form, version = found
    if form.source.startswith("plugin:") and not is_active(form.source.split(":", 1)[1]):
        raise NotFound(f"表单 {key} 不存在或尚未发布", code="not_found")  # its plugin is off here
    if form.access == "staff" and not (user.is_authenticated and user.can("cases.report")):
        if not user.is_authenticated:
            raise Unauthenticated()
        raise Forbidden("您没有填写此表单的权限", code="forbidden")
    if form.status == "archived":
        raise Gone(f"表单「{form.title}」已停用，不再接受提交", code="archived")
    if version is None:
        raise NotFound(f"表单 {key} 没有第 {number} 版", code="not_found", pointer="/version")
    return version
