"""The input exactly as received beside each decision record, and a record of every caseload screened.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The text as it arrived (a request body, a form, one record of a file), before labels are mapped to codes;
    # empty for records kept before this revision.
    op.add_column("decision_records", sa.Column("received", sa.Text, nullable=True))
    op.create_table(
        "screen_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("kb_version", sa.String(20), nullable=False),
        sa.Column("houfu_version", sa.String(40), nullable=False),
        sa.Column("files", sa.Text, nullable=False),  # JSON: each file's role, format, bytes and sha256
        sa.Column("rows_in", sa.Integer, nullable=False),
        sa.Column("screened", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),  # JSON: statuses by measure, and the rejected rows
    )
    # Append-only like the decision records (the plpgsql function is 0001's).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER screen_runs_append_only BEFORE UPDATE OR DELETE ON screen_runs "
                   "FOR EACH ROW EXECUTE FUNCTION houfu_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER screen_runs_no_{event.lower()} BEFORE {event} ON screen_runs "
                       "BEGIN SELECT RAISE(ABORT, 'screen runs are append-only'); END")


def downgrade() -> None:
    op.drop_table("screen_runs")
    op.drop_column("decision_records", "received")
