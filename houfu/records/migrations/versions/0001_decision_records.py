"""Decision records: append-only, one row per determination made through the CLI (--record) or the service.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("kb_version", sa.String(20), nullable=False),
        sa.Column("houfu_version", sa.String(40), nullable=False),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )
    op.create_index("ix_decision_records_subject", "decision_records", ["subject_id", "created_at"])
    # Append-only, enforced by the database itself: a correction is a new record, never an edit.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION houfu_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'decision records are append-only'; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER decision_records_append_only BEFORE UPDATE OR DELETE ON decision_records "
                   "FOR EACH ROW EXECUTE FUNCTION houfu_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER decision_records_no_{event.lower()} BEFORE {event} ON decision_records "
                       "BEGIN SELECT RAISE(ABORT, 'decision records are append-only'); END")


def downgrade() -> None:
    op.drop_table("decision_records")
