"""Cache versions: a stamp per process cache, replaced by triggers whenever its rows change

Revision ID: 0015_cache_versions
Revises: 0014_case_clock_integrity
Create Date: 2026-12-07 01:00:00.000000

Each web, CLI and worker process caches signed-in users and API tokens, published forms,
plugin switches and working-day calendars, and reads ``cache_versions`` once per request to
know whether they still hold. Triggers write a new random stamp in the same transaction as
every change of the rows a cache is built from, whichever code (or person) changes them; a
random stamp is never reused, so neither a rolled-back change nor a restored database can
make a process trust an older copy. See docs/performance.md.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_cache_versions'
down_revision = '0014_case_clock_integrity'
branch_labels = None
depends_on = None

# table -> (cache, the columns whose update matters; None: every change)
SOURCES = {
    "users": ("accounts", None),
    "memberships": ("accounts", None),
    "org_units": ("accounts", None),
    # A token's last use is bookkeeping; a new token is in no cache yet.
    "api_tokens": ("accounts", ("user_id", "digest", "expires_at", "revoked_at")),
    "forms": ("forms", None),
    "form_versions": ("forms", None),
    "plugin_states": ("plugins", None),
    "calendar_days": ("calendar", None),
    "calendar_years": ("calendar", None),
}
CACHES = sorted({cache for cache, _columns in SOURCES.values()})

POSTGRES_FUNCTION = """
CREATE FUNCTION fq_new_cache_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cache_versions (name, version) VALUES (TG_ARGV[0], (random() * 9e18)::bigint)
    ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$
"""
SQLITE_BUMP = ("INSERT INTO cache_versions (name, version) VALUES ('{cache}', random()) "
               "ON CONFLICT (name) DO UPDATE SET version = excluded.version;")


def _events(columns) -> dict[str, str]:
    """Trigger name suffix -> event: every change, or only updates of ``columns`` and deletes."""
    if columns is None:
        return {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}
    return {"update": f"UPDATE OF {', '.join(columns)}", "delete": "DELETE"}


def upgrade() -> None:
    op.create_table('cache_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions'))
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(POSTGRES_FUNCTION)
    for table, (cache, columns) in SOURCES.items():
        if postgres:
            events = " OR ".join((*_events(columns).values(), "TRUNCATE"))
            op.execute(f"CREATE TRIGGER fq_cache_{table} AFTER {events} ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION fq_new_cache_version('{cache}')")
            continue
        for name, event in _events(columns).items():  # SQLite: one trigger per event, per row
            op.execute(f"CREATE TRIGGER fq_cache_{table}_{name} AFTER {event} ON {table} "
                       f"BEGIN {SQLITE_BUMP.format(cache=cache)} END")
    versions = sa.table("cache_versions", sa.column("name"), sa.column("version"))
    stamp = sa.cast(sa.func.random() * 9e18, sa.BigInteger) if postgres else sa.func.random()
    for cache in CACHES:
        op.execute(versions.insert().values(name=cache, version=stamp))


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, (_cache, columns) in SOURCES.items():
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS fq_cache_{table} ON {table}")
            continue
        for name in _events(columns):
            op.execute(f"DROP TRIGGER IF EXISTS fq_cache_{table}_{name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS fq_new_cache_version()")
    op.drop_table('cache_versions')
