"""hello: the hello_greetings table

Revision ID: hello_0001
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "hello_0001"
down_revision = None            # starts the plugin's branch
branch_labels = ("hello",)      # the branch is named after the plugin
depends_on = "0001_core"        # ordered after the core's first revision


def upgrade() -> None:
    op.create_table(
        "hello_greetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_greetings")),
        sa.UniqueConstraint("case_number", name=op.f("uq_hello_greetings_case_number")),
    )


def downgrade() -> None:
    op.drop_table("hello_greetings")
