"""vanguard: indicator sets, members, score events with history, notices, objections, ratings

Revision ID: vanguard_0001
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "vanguard_0001"
down_revision = None
branch_labels = ("vanguard",)
depends_on = "0001_core"

POINTS = sa.Numeric(8, 2, asdecimal=False)


def upgrade() -> None:
    op.create_table(
        "vanguard_indicator_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.Column("bonus_cap", POINTS, nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=80), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_indicator_sets")),
        sa.UniqueConstraint("org_code", "version", name=op.f("uq_vanguard_indicator_sets_org_code")),
    )
    op.create_table(
        "vanguard_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("max_points", POINTS, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["vanguard_indicator_sets.id"],
                                name=op.f("fk_vanguard_indicators_set_id_vanguard_indicator_sets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_indicators")),
        sa.UniqueConstraint("set_id", "code", name=op.f("uq_vanguard_indicators_set_id")),
    )
    op.create_table(
        "vanguard_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("org_path", sa.String(length=255), nullable=False),
        sa.Column("member_type", sa.String(length=12), nullable=False),
        sa.Column("id_card", sa.String(length=18), nullable=True),
        sa.Column("mobile", sa.String(length=11), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=True),
        sa.Column("posts", sa.JSON(), nullable=False),
        sa.Column("commitments", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_members")),
    )
    for column in ("org_code", "org_path", "id_card", "mobile", "username"):
        op.create_index(op.f(f"ix_vanguard_members_{column}"), "vanguard_members", [column])
    op.create_table(
        "vanguard_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("points", POINTS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("volunteer_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=80), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["vanguard_members.id"],
                                name=op.f("fk_vanguard_events_member_id_vanguard_members")),
        sa.ForeignKeyConstraint(["indicator_id"], ["vanguard_indicators.id"],
                                name=op.f("fk_vanguard_events_indicator_id_vanguard_indicators")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_events")),
        sa.UniqueConstraint("volunteer_entry_id", name=op.f("uq_vanguard_events_volunteer_entry_id")),
    )
    for column in ("member_id", "year", "status"):
        op.create_index(op.f(f"ix_vanguard_events_{column}"), "vanguard_events", [column])
    op.create_table(
        "vanguard_event_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["vanguard_events.id"],
                                name=op.f("fk_vanguard_event_history_event_id_vanguard_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_event_history")),
    )
    op.create_index(op.f("ix_vanguard_event_history_event_id"), "vanguard_event_history", ["event_id"])
    op.create_table(
        "vanguard_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("org_path", sa.String(length=255), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.String(length=80), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("objection_ends", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_notices")),
        sa.UniqueConstraint("org_code", "year", "quarter", name=op.f("uq_vanguard_notices_org_code")),
    )
    op.create_index(op.f("ix_vanguard_notices_org_path"), "vanguard_notices", ["org_path"])
    op.create_table(
        "vanguard_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=50), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("resolved_by", sa.String(length=80), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["vanguard_notices.id"],
                                name=op.f("fk_vanguard_objections_notice_id_vanguard_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_objections")),
    )
    op.create_index(op.f("ix_vanguard_objections_notice_id"), "vanguard_objections", ["notice_id"])
    op.create_table(
        "vanguard_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("score", POINTS, nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("vetoed", sa.Boolean(), nullable=False),
        sa.Column("rated_by", sa.String(length=80), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["vanguard_members.id"],
                                name=op.f("fk_vanguard_ratings_member_id_vanguard_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vanguard_ratings")),
        sa.UniqueConstraint("member_id", "year", name=op.f("uq_vanguard_ratings_member_id")),
    )


def downgrade() -> None:
    for table in ("vanguard_ratings", "vanguard_objections", "vanguard_notices", "vanguard_event_history",
                  "vanguard_events", "vanguard_members", "vanguard_indicators", "vanguard_indicator_sets"):
        op.drop_table(table)
