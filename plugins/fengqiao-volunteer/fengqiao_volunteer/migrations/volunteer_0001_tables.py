"""volunteer: volunteers, teams, 双报到 units, activities, enrollments, hours ledger, disputes,
star awards, certificates and 微心愿 claims

Revision ID: volunteer_0001
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "volunteer_0001"
down_revision = None
branch_labels = ("volunteer",)
depends_on = "0001_core"


def _org_columns():
    return [sa.Column("org", sa.String(length=40), nullable=False),
            sa.Column("org_path", sa.String(length=255), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "volunteer_report_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        *_org_columns(),
        sa.Column("contact_name", sa.String(length=50), nullable=True),
        sa.Column("contact_mobile", sa.String(length=11), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_report_units")),
    )
    op.create_index(op.f("ix_volunteer_report_units_org_path"), "volunteer_report_units", ["org_path"])
    op.create_table(
        "volunteer_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        *_org_columns(),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_teams")),
    )
    op.create_index(op.f("ix_volunteer_teams_org_path"), "volunteer_teams", ["org_path"])
    op.create_table(
        "volunteer_volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_card", sa.String(length=18), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=True),
        *_org_columns(),
        sa.Column("skills", sa.String(length=200), nullable=True),
        sa.Column("availability", sa.String(length=200), nullable=True),
        sa.Column("guardian_consent", sa.Boolean(), nullable=False),
        sa.Column("guardian_name", sa.String(length=50), nullable=True),
        sa.Column("party_member", sa.Boolean(), nullable=False),
        sa.Column("double_report", sa.Boolean(), nullable=False),
        sa.Column("report_unit_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["report_unit_id"], ["volunteer_report_units.id"],
                                name=op.f("fk_volunteer_volunteers_report_unit_id_volunteer_report_units")),
        sa.ForeignKeyConstraint(["team_id"], ["volunteer_teams.id"],
                                name=op.f("fk_volunteer_volunteers_team_id_volunteer_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_volunteers")),
        sa.UniqueConstraint("id_card", name=op.f("uq_volunteer_volunteers_id_card")),
    )
    op.create_index(op.f("ix_volunteer_volunteers_org_path"), "volunteer_volunteers", ["org_path"])
    op.create_index(op.f("ix_volunteer_volunteers_report_unit_id"), "volunteer_volunteers", ["report_unit_id"])
    op.create_index(op.f("ix_volunteer_volunteers_team_id"), "volunteer_volunteers", ["team_id"])
    op.create_table(
        "volunteer_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        *_org_columns(),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("skills", sa.String(length=200), nullable=True),
        sa.Column("insurance", sa.Boolean(), nullable=False),
        sa.Column("adults_only", sa.Boolean(), nullable=False),
        sa.Column("signup_deadline", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_activities")),
    )
    op.create_index(op.f("ix_volunteer_activities_org_path"), "volunteer_activities", ["org_path"])
    op.create_index(op.f("ix_volunteer_activities_starts_at"), "volunteer_activities", ["starts_at"])
    op.create_table(
        "volunteer_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("signed_in_at", UTCDateTime(), nullable=True),
        sa.Column("signed_out_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["activity_id"], ["volunteer_activities.id"],
                                name=op.f("fk_volunteer_enrollments_activity_id_volunteer_activities")),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer_volunteers.id"],
                                name=op.f("fk_volunteer_enrollments_volunteer_id_volunteer_volunteers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_enrollments")),
        sa.UniqueConstraint("activity_id", "volunteer_id", name=op.f("uq_volunteer_enrollments_activity_id")),
    )
    op.create_index(op.f("ix_volunteer_enrollments_activity_id"), "volunteer_enrollments", ["activity_id"])
    op.create_index(op.f("ix_volunteer_enrollments_volunteer_id"), "volunteer_enrollments", ["volunteer_id"])
    op.create_table(
        "volunteer_enrollment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enrollment_id"], ["volunteer_enrollments.id"],
                                name=op.f("fk_volunteer_enrollment_events_enrollment_id_volunteer_enrollments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_enrollment_events")),
    )
    op.create_index(op.f("ix_volunteer_enrollment_events_enrollment_id"), "volunteer_enrollment_events",
                    ["enrollment_id"])
    op.create_table(
        "volunteer_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["volunteer_activities.id"],
                                name=op.f("fk_volunteer_hours_activity_id_volunteer_activities")),
        sa.ForeignKeyConstraint(["corrects_id"], ["volunteer_hours.id"],
                                name=op.f("fk_volunteer_hours_corrects_id_volunteer_hours")),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer_volunteers.id"],
                                name=op.f("fk_volunteer_hours_volunteer_id_volunteer_volunteers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_hours")),
    )
    op.create_index(op.f("ix_volunteer_hours_activity_id"), "volunteer_hours", ["activity_id"])
    op.create_index(op.f("ix_volunteer_hours_volunteer_id"), "volunteer_hours", ["volunteer_id"])
    op.create_table(
        "volunteer_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["volunteer_hours.id"],
                                name=op.f("fk_volunteer_disputes_entry_id_volunteer_hours")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_disputes")),
    )
    op.create_index(op.f("ix_volunteer_disputes_entry_id"), "volunteer_disputes", ["entry_id"])
    op.create_table(
        "volunteer_star_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("notice_ends", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finalised_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer_volunteers.id"],
                                name=op.f("fk_volunteer_star_awards_volunteer_id_volunteer_volunteers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_star_awards")),
        sa.UniqueConstraint("volunteer_id", "stars", name=op.f("uq_volunteer_star_awards_volunteer_id")),
    )
    op.create_index(op.f("ix_volunteer_star_awards_volunteer_id"), "volunteer_star_awards", ["volunteer_id"])
    op.create_table(
        "volunteer_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("total_hours", sa.Numeric(precision=8, scale=1), nullable=False),
        sa.Column("issuer", sa.String(length=100), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer_volunteers.id"],
                                name=op.f("fk_volunteer_certificates_volunteer_id_volunteer_volunteers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_volunteer_certificates_serial")),
    )
    op.create_index(op.f("ix_volunteer_certificates_volunteer_id"), "volunteer_certificates", ["volunteer_id"])
    op.create_table(
        "volunteer_wish_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer_volunteers.id"],
                                name=op.f("fk_volunteer_wish_claims_volunteer_id_volunteer_volunteers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_wish_claims")),
        sa.UniqueConstraint("case_number", name=op.f("uq_volunteer_wish_claims_case_number")),
    )
    op.create_index(op.f("ix_volunteer_wish_claims_volunteer_id"), "volunteer_wish_claims", ["volunteer_id"])


def downgrade() -> None:
    for table in ("volunteer_wish_claims", "volunteer_certificates", "volunteer_star_awards",
                  "volunteer_disputes", "volunteer_hours", "volunteer_enrollment_events", "volunteer_enrollments",
                  "volunteer_activities", "volunteer_volunteers", "volunteer_teams",
                  "volunteer_report_units"):
        op.drop_table(table)
