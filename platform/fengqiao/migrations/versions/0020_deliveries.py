"""delivery beyond the inbox (issue 21): channel and webhook deliveries with their retry state
(unique per event, channel and target), users' addresses and channel choices, units' switches,
quiet hours and robot settings, webhook endpoints, and cases accepted under an external number

Revision ID: 0020_deliveries
Revises: 0019_notifications
Create Date: 2026-12-07 06:26:48.825854
"""
import sqlalchemy as sa
from alembic import op

import fengqiao.db

# Whether any webhook endpoint is active is cached per process (fengqiao/caches.py): a stamp
# replaced by a trigger on every change of webhook_endpoints, as migration 0015 does.
SQLITE_BUMP = ("INSERT INTO cache_versions (name, version) VALUES ('webhooks', random()) "
               "ON CONFLICT (name) DO UPDATE SET version = excluded.version;")

revision = '0020_deliveries'
down_revision = '0019_notifications'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('response_excerpt', sa.String(length=1000), nullable=False),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_deliveries_org_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('event_key', 'channel', 'target', name=op.f('uq_deliveries_event_key'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_deliveries_org_status', ['org_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_deliveries_target', ['target', 'id'], unique=False)

    op.create_table('unit_notification_settings',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('off_kinds', sa.JSON(), nullable=False),
    sa.Column('default_channels', sa.JSON(), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('channel_config', sa.JSON(), nullable=False),
    sa.Column('updated_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_unit_notification_settings_org_id_org_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_unit_notification_settings'))
    )
    op.create_table('user_notification_prefs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=True),
    sa.Column('updated_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_notification_prefs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_notification_prefs'))
    )
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('personal', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_webhook_endpoints_created_by_users')),
    sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_webhook_endpoints_org_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoints_org_id'), ['org_id'], unique=False)

    op.create_table('external_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_external_orders_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_orders')),
    sa.UniqueConstraint('source', 'number', name=op.f('uq_external_orders_source'))
    )
    with op.batch_alter_table('external_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_orders_case_id'), ['case_id'], unique=False)

    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # fq_new_cache_version() is migration 0015's
        op.execute("CREATE TRIGGER fq_cache_webhook_endpoints AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   "ON webhook_endpoints FOR EACH STATEMENT EXECUTE FUNCTION fq_new_cache_version('webhooks')")
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER fq_cache_webhook_endpoints_{event.lower()} AFTER {event} "
                       f"ON webhook_endpoints BEGIN {SQLITE_BUMP} END")
    versions = sa.table("cache_versions", sa.column("name"), sa.column("version"))
    op.execute(versions.insert().values(
        name="webhooks", version=sa.cast(sa.func.random() * 9e18, sa.BigInteger) if postgres else sa.func.random()))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM cache_versions WHERE name = 'webhooks'"))
    with op.batch_alter_table('external_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_orders_case_id'))

    op.drop_table('external_orders')
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoints_org_id'))

    op.drop_table('webhook_endpoints')
    op.drop_table('user_notification_prefs')
    op.drop_table('unit_notification_settings')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_target')
        batch_op.drop_index('ix_deliveries_org_status')
        batch_op.drop_index('ix_deliveries_due')

    op.drop_table('deliveries')
