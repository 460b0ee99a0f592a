"""certificates: lists, items, requests and issued certificates

Revision ID: certificates_0001
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "certificates_0001"
down_revision = None
branch_labels = ("certificates",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "certificates_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("draft_of", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("source_document", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_lists")),
        sa.UniqueConstraint("org_code", "version", name="uq_certificates_lists_org_code_version"),
        sa.UniqueConstraint("draft_of", name=op.f("uq_certificates_lists_draft_of")),
    )
    op.create_index(op.f("ix_certificates_lists_org_code"), "certificates_lists", ["org_code"])
    op.create_table(
        "certificates_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("applicants", sa.String(length=200), nullable=False),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.Column("time_limit_days", sa.Integer(), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("referral", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["certificates_lists.id"], ondelete="CASCADE",
                                name=op.f("fk_certificates_items_list_id_certificates_lists")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_items")),
    )
    op.create_index(op.f("ix_certificates_items_list_id"), "certificates_items", ["list_id"])
    op.create_table(
        "certificates_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("requested", sa.String(length=100), nullable=False),
        sa.Column("demanding_agency", sa.String(length=100), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("item_name", sa.String(length=100), nullable=True),
        sa.Column("match", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("refused_by", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_requests")),
        sa.UniqueConstraint("case_number", name=op.f("uq_certificates_requests_case_number")),
    )
    op.create_index(op.f("ix_certificates_requests_org_code"), "certificates_requests", ["org_code"])
    op.create_table(
        "certificates_issued",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("issuer_name", sa.String(length=100), nullable=False),
        sa.Column("item_name", sa.String(length=100), nullable=False),
        sa.Column("holder_name", sa.String(length=50), nullable=False),
        sa.Column("holder_id_card", sa.String(length=18), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_issued")),
        sa.UniqueConstraint("serial", name=op.f("uq_certificates_issued_serial")),
        sa.UniqueConstraint("case_number", name=op.f("uq_certificates_issued_case_number")),
        sa.UniqueConstraint("org_code", "year", "sequence", name="uq_certificates_issued_org_code"),
    )


def downgrade() -> None:
    op.drop_table("certificates_issued")
    op.drop_table("certificates_requests")
    op.drop_index(op.f("ix_certificates_items_list_id"), table_name="certificates_items")
    op.drop_table("certificates_items")
    op.drop_index(op.f("ix_certificates_lists_org_code"), table_name="certificates_lists")
    op.drop_table("certificates_lists")
