"""The dashboard card: what waits at the counter and on the notice board in the user's units."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import scope_for
from fengqiao.sdk.web import current_user, render

from fengqiao_points.models import PointsAccount, PointsClaim, PointsRedemption


def render_widget() -> str:
    scope = scope_for(current_user, "points.view")
    in_scope = scope.clause(PointsAccount.org_path)
    waiting = db.scalar(sa.select(sa.func.count()).select_from(PointsRedemption)
                        .join(PointsAccount, PointsAccount.id == PointsRedemption.account_id)
                        .where(PointsRedemption.status == "reserved", in_scope)) or 0
    notices = db.scalar(sa.select(sa.func.count()).select_from(PointsClaim)
                        .join(PointsAccount, PointsAccount.id == PointsClaim.account_id)
                        .where(PointsClaim.state == "notice", in_scope)) or 0
    return render("points/widget.html", waiting=waiting, notices=notices)
