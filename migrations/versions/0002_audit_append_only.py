"""audit_events is append-only in the database itself

The ORM already refuses to change or delete an audit event; these triggers make the database refuse
it too, so raw SQL, another client or a compromised process cannot rewrite the record of who did what.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGE = "audit_events is append-only"

_PG_UPGRADE = (
    f"""
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
)
_PG_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
)
# SQLite has no TRUNCATE (DELETE without WHERE fires the DELETE trigger).
_SQLITE_UPGRADE = tuple(
    f"""
    CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END
    """
    for verb in ("UPDATE", "DELETE")
)
_SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_events_no_update",
)


def _statements(upgrade: bool) -> Sequence[str]:
    if op.get_bind().dialect.name == "postgresql":
        return _PG_UPGRADE if upgrade else _PG_DOWNGRADE
    return _SQLITE_UPGRADE if upgrade else _SQLITE_DOWNGRADE


def upgrade() -> None:
    for statement in _statements(upgrade=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(upgrade=False):
        op.execute(statement)
