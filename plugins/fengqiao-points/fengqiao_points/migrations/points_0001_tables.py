"""points: accounts, rules, products, redemptions, the ledger, claims and objections

Revision ID: points_0001
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "points_0001"
down_revision = None
branch_labels = ("points",)
depends_on = "0001_core"


def _path():
    return sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "points_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("org_path", _path(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=False),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("pin_locked_until", UTCDateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_points_accounts_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_points_accounts_number")),
    )
    op.create_index(op.f("ix_points_accounts_org_path"), "points_accounts", ["org_path"])

    op.create_table(
        "points_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("org_path", _path(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("cap_points", sa.Integer(), nullable=True),
        sa.Column("cap_period", sa.String(length=8), nullable=True),
        sa.Column("evidence_required", sa.Boolean(), nullable=False),
        sa.Column("proposers", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_rules")),
    )
    op.create_index(op.f("ix_points_rules_key"), "points_rules", ["key"])
    op.create_index(op.f("ix_points_rules_org_path"), "points_rules", ["org_path"])

    op.create_table(
        "points_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("donor", sa.String(length=100), nullable=True),
        sa.Column("org_code", sa.String(length=32), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_points_products_stock_not_negative")),
        sa.CheckConstraint("points > 0", name=op.f("ck_points_products_points_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_products")),
    )

    op.create_table(
        "points_redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reserved_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["points_accounts.id"],
                                name=op.f("fk_points_redemptions_account_id_points_accounts")),
        sa.ForeignKeyConstraint(["product_id"], ["points_products.id"],
                                name=op.f("fk_points_redemptions_product_id_points_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_redemptions")),
    )
    op.create_index(op.f("ix_points_redemptions_account_id"), "points_redemptions", ["account_id"])
    op.create_index(op.f("ix_points_redemptions_product_id"), "points_redemptions", ["product_id"])
    op.create_index("ix_points_redemptions_status_created_at", "points_redemptions",
                    ["status", "created_at"])

    op.create_table(
        "points_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("claim_number", sa.String(length=40), nullable=True),
        sa.Column("redemption_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance_after >= 0", name=op.f("ck_points_ledger_balance_after_not_negative")),
        sa.ForeignKeyConstraint(["account_id"], ["points_accounts.id"],
                                name=op.f("fk_points_ledger_account_id_points_accounts")),
        sa.ForeignKeyConstraint(["rule_id"], ["points_rules.id"],
                                name=op.f("fk_points_ledger_rule_id_points_rules")),
        sa.ForeignKeyConstraint(["redemption_id"], ["points_redemptions.id"],
                                name=op.f("fk_points_ledger_redemption_id_points_redemptions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_ledger")),
        sa.UniqueConstraint("ref", name=op.f("uq_points_ledger_ref")),
    )
    op.create_index("ix_points_ledger_account_id_id", "points_ledger", ["account_id", "id"])
    op.create_index(op.f("ix_points_ledger_created_at"), "points_ledger", ["created_at"])

    op.create_table(
        "points_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("proposer", sa.String(length=64), nullable=True),
        sa.Column("first_reviewer", sa.String(length=64), nullable=True),
        sa.Column("notice_starts_at", UTCDateTime(), nullable=True),
        sa.Column("notice_ends_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["points_accounts.id"],
                                name=op.f("fk_points_claims_account_id_points_accounts")),
        sa.ForeignKeyConstraint(["rule_id"], ["points_rules.id"],
                                name=op.f("fk_points_claims_rule_id_points_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_claims")),
        sa.UniqueConstraint("case_number", name=op.f("uq_points_claims_case_number")),
    )
    op.create_index(op.f("ix_points_claims_account_id"), "points_claims", ["account_id"])
    op.create_index(op.f("ix_points_claims_state"), "points_claims", ["state"])

    op.create_table(
        "points_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["points_claims.id"],
                                name=op.f("fk_points_objections_claim_id_points_claims")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_objections")),
    )
    op.create_index(op.f("ix_points_objections_claim_id"), "points_objections", ["claim_id"])


def downgrade() -> None:
    for table in ("points_objections", "points_claims", "points_ledger", "points_redemptions",
                  "points_products", "points_rules", "points_accounts"):
        op.drop_table(table)
