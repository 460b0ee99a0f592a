"""``/metrics`` (统计分析: KPI tiles, SVG charts, units, overdue cases) and
``/metrics/ledgers`` (台账: queue a ledger job, then watch it on the job page).

The figures come from :mod:`fengqiao.cases.metrics`, the same service the API calls; the
page's end date is the last day counted (people think in inclusive ranges).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao import audit
from fengqiao.access import requires
from fengqiao.cases import categories, ledgers, metrics
from fengqiao.charts import PALETTE, Series, bar_chart, hbar_chart
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.exports import workbook_bytes, xlsx_response
from fengqiao.models import OrgUnit
from fengqiao.orgs.scope import Scope, scope_for
from fengqiao.web.blueprint import web_bp

UNIT_LEVELS = ("county", "street", "community")
MAX_CHOICES = 500
POINTERS = ("/start", "/end")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def unit_choices(scope: Scope, selected: OrgUnit | None) -> list[tuple[str, str]]:
    """Units down to community level the person may look at, in tree order (grids are
    reached by drilling down from the unit table)."""
    units = list(db.scalars(sa.select(OrgUnit).where(
        scope.clause(OrgUnit.path), OrgUnit.active, OrgUnit.level.in_(UNIT_LEVELS))
        .order_by(OrgUnit.path).limit(MAX_CHOICES)))
    if selected is not None and selected not in units:
        units.insert(0, selected)
    top = min((u.depth for u in units), default=0)
    return [(u.code, "　" * (u.depth - top) + u.name) for u in units]


def _filters_from(values: Any, scope: Scope) -> metrics.Filters:
    return metrics.resolve_filters(
        scope, org=values.get("org", ""), type_=values.get("type", ""), start=values.get("start", ""),
        end=values.get("end", ""), preset=values.get("preset", ""), inclusive_end=True, pointers=POINTERS,
        category=values.get("category", ""))


def _charts(figures: dict) -> dict[str, Any]:
    points = figures["series"]["points"]
    labels = [p["date"][5:] if figures["series"]["unit"] == "day" else p["date"] for p in points]
    unit = "每日" if figures["series"]["unit"] == "day" else "每月"
    return {
        "series": bar_chart(labels, [
            Series("受理", [p["received"] for p in points], PALETTE[0]),
            Series("办结", [p["closed"] for p in points], PALETTE[2]),
        ], title=f"{unit}受理与办结"),
        "categories": hbar_chart([(c["label"], c["count"]) for c in figures["categories"]],
                                 title="事项类别（前 10）", color=PALETTE[1]),
    }


def _form_values(filters: metrics.Filters | None) -> dict[str, str]:
    """The filters as the form shows them (after a preset, its dates)."""
    if filters is None:
        return dict(request.values.items())
    period = filters.period
    return {"org": filters.org.code if filters.org else "", "type": filters.type or "",
            "category": filters.category or "", "preset": period.preset, "start": period.start.isoformat(), "end": period.last_day.isoformat()}


def _context(scope: Scope, filters: metrics.Filters | None, errors: dict[str, str]) -> dict[str, Any]:
    return {"values": _form_values(filters), "errors": errors, "pct": pct,
            "units": unit_choices(scope, filters.org if filters else None),
            "presets": metrics.PRESETS, "types": metrics.type_choices(), "kinds": ledgers.KINDS,
            "categories": categories.choices()}


def _query_filters(scope: Scope, template: str) -> tuple[metrics.Filters | None, Any]:
    """The query string's filters, or None and the ``template`` page showing the form with its
    messages (422): the dashboard, its export and the ledger page answer bad filters alike."""
    try:
        return _filters_from(request.args, scope), None
    except Invalid as failed:
        errors = {p: m for p, m, _c in failed.problems}
        return None, (render_template(template, m=None, charts=None, **_context(scope, None, errors)), 422)


@web_bp.get("/metrics")
@requires("metrics.view")
def metrics_page():
    scope = scope_for(current_user, metrics.PERMISSION)
    filters, refused = _query_filters(scope, "metrics.html")
    if refused:
        return refused
    figures = metrics.cached(scope, filters)
    return render_template("metrics.html", m=figures, charts=_charts(figures), **_context(scope, filters, {}))


@web_bp.get("/metrics/export.xlsx")
@requires("metrics.view")
def metrics_export():
    """The dashboard's figures as one sheet: value, numerator, denominator and basis of each
    (the same filters; aggregates only, no case and no personal data)."""
    scope = scope_for(current_user, metrics.PERMISSION)
    filters, refused = _query_filters(scope, "metrics.html")
    if refused:
        return refused
    figures = metrics.cached(scope, filters)
    unit = filters.org.name if filters.org else "全部可见单位"
    kind = next((title for key, title in metrics.type_choices() if key == filters.type), "全部类型")
    if filters.category:
        kind += f" · {categories.choices().title(filters.category)}"
    title = f"统计指标 · {unit} · {kind} · {filters.period.label}"
    rows = [[name, value if value is not None else "—", part, whole, basis]
            for name, value, part, whole, basis in metrics.export_rows(figures)]
    audit.record("export.metrics", record_ref="metrics",
                 detail={"org": filters.org.code if filters.org else None, "type": filters.type,
                         "category": filters.category,
                         "from": filters.period.start.isoformat(), "to": filters.period.end.isoformat()})
    period = f"{filters.period.start.isoformat()}至{filters.period.last_day.isoformat()}"
    return xlsx_response(f"统计指标-{unit}-{period}.xlsx", workbook_bytes(title, metrics.EXPORT_HEADERS, rows))


@web_bp.route("/metrics/ledgers", methods=["GET", "POST"])
@requires("metrics.view")
def ledger_page():
    scope = scope_for(current_user, metrics.PERMISSION)
    if request.method == "POST":
        kind = request.form.get("kind", "")
        errors = {} if kind in ledgers.KINDS else {"/kind": ledgers.KIND_MESSAGE}
        try:
            filters = _filters_from(request.form, scope)
        except Invalid as failed:
            errors.update({p: m for p, m, _c in failed.problems})
        if errors:
            return render_template("metrics_ledgers.html", **_context(scope, None, errors)), 422
        job_id = ledgers.request_ledger(current_user._get_current_object(), kind, filters)
        return redirect(url_for("web.job_status", job_id=job_id))
    filters, refused = _query_filters(scope, "metrics_ledgers.html")
    if refused:
        return refused
    context = _context(scope, filters, {})
    context["values"]["kind"] = request.args.get("kind", "cases")
    return render_template("metrics_ledgers.html", **context)
