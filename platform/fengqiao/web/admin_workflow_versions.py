"""Two versions of a case type side by side: what changed, in words, in diagrams and in JSON.

The comparison itself is ``fengqiao.cases.case_type_diff`` (pure); this view checks the
version numbers the admin asked for and renders. Who may read a type is decided by
``admin_workflows._view_or_404`` (permission ``forms.manage`` and the type's jurisdiction).
"""

from __future__ import annotations

from flask import render_template, request

from fengqiao.access import requires
from fengqiao.cases import case_types as service
from fengqiao.cases.case_type_diff import diff_definitions
from fengqiao.cases.diagram import workflow_svg
from fengqiao.web.admin_workflows import MANAGE, _int_arg, _view_or_404
from fengqiao.web.blueprint import web_bp


def _pick(view: service.VersionView) -> tuple[int | None, int | None, list[tuple[str, str]]]:
    """The versions ``a`` and ``b`` asked for (neither: the one before the latest and the
    latest), or the problems with them in Chinese."""
    a, bad_a = _int_arg(request.args, "a")
    b, bad_b = _int_arg(request.args, "b")
    problems = [("/a", m) for m in [bad_a] if m] + [("/b", m) for m in [bad_b] if m]
    if problems:
        return a, b, problems
    if a is None and b is None and view.latest > 1:
        return view.latest - 1, view.latest, []
    for name, value in (("a", a), ("b", b)):
        if value is None:
            problems.append((f"/{name}", "请选择要对比的两个版本"))
        elif value > view.latest:
            problems.append((f"/{name}", f"没有第 {value} 版（最新为第 {view.latest} 版）"))
    if not problems and a == b:
        problems.append(("/b", "请选择两个不同的版本"))
    return a, b, problems


@web_bp.get("/admin/workflows/<key>/compare")
@requires(MANAGE)
def workflow_admin_compare(key: str):
    view = _view_or_404(key)
    a, b, problems = _pick(view)
    old = new = None
    if not problems:
        old, new = service.version_view(key, a), service.version_view(key, b)
        problems = [(f"/{name}", f"第 {number} 版无法读取") for name, number, found in (("a", a, old), ("b", b, new))
                    if found is None]
    if problems:
        return render_template("admin/workflows_compare.html", key=key, view=view, a=a, b=b, problems=problems,
                               diff=None), 422
    return render_template("admin/workflows_compare.html", key=key, view=view, a=a, b=b, problems=[],
                           diff=diff_definitions(old.definition, new.definition),
                           diagrams=(workflow_svg(old.ctype), workflow_svg(new.ctype)))
