"""certificates: a random verification code per issued certificate (serials are sequential)

Existing certificates get a code too; their printed QR codes pointed at the serial and no
longer verify (issue 17: serial URLs could be walked), so staff reprint them when asked.

Revision ID: certificates_0002
Revises: certificates_0001
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "certificates_0002"
down_revision = "certificates_0001"
branch_labels = None
depends_on = None

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # as fengqiao_certificates.issuing (frozen here)


def upgrade() -> None:
    with op.batch_alter_table("certificates_issued") as batch:
        batch.add_column(sa.Column("verify_code", sa.String(length=16), nullable=True))
    issued = sa.table("certificates_issued", sa.column("id", sa.Integer()), sa.column("verify_code", sa.String()))
    bind = op.get_bind()
    for (ident,) in bind.execute(sa.select(issued.c.id)).all():
        code = "".join(secrets.choice(ALPHABET) for _ in range(16))
        bind.execute(issued.update().where(issued.c.id == ident).values(verify_code=code))
    with op.batch_alter_table("certificates_issued") as batch:
        batch.alter_column("verify_code", existing_type=sa.String(length=16), nullable=False)
        batch.create_unique_constraint(op.f("uq_certificates_issued_verify_code"), ["verify_code"])


def downgrade() -> None:
    with op.batch_alter_table("certificates_issued") as batch:
        batch.drop_constraint(op.f("uq_certificates_issued_verify_code"), type_="unique")
        batch.drop_column("verify_code")
