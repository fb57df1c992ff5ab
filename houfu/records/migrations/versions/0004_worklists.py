"""Worklists: each department's list as sent for a screen run, and the answers taken back from them.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each department's list as it was sent: its rows (key, household, measure, site, action, facts to confirm,
    # due date) as gzipped JSON, one record per department and screen run. One record, not a row per household:
    # 450,000 rows took 15 s to insert into SQLite, the list as one value a fraction of a second.
    op.create_table(
        "worklist_lists",
        sa.Column("screen_id", sa.String(32), primary_key=True),
        sa.Column("department", sa.String(80), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("items", sa.LargeBinary, nullable=False),
    )
    # Who was on each of the report's lists (policies/lists.yaml) in a screen run: the 动态清零 tracker follows a
    # household from the first run that lists it to the first that no longer does.
    op.create_table(
        "list_sightings",
        sa.Column("screen_id", sa.String(32), primary_key=True),
        sa.Column("list_id", sa.String(80), primary_key=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("members", sa.LargeBinary, nullable=False),  # gzipped JSON: {"confirmed": [...], "to_check": [...]}
    )
    # Each answer a department gave, as it was given; a later answer for the same row is a new record.
    op.create_table(
        "worklist_answers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),  # the same answer twice is one record
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("screen_id", sa.String(32), nullable=False),
        sa.Column("item_key", sa.String(16), nullable=False),
        sa.Column("department", sa.String(80), nullable=False),
        sa.Column("household", sa.String(200), nullable=False),
        sa.Column("measure", sa.String(120), nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("person", sa.String(100), nullable=True),
        sa.Column("answered_on", sa.Date, nullable=True),
        sa.Column("facts", sa.Text, nullable=True),  # JSON: the facts the answer changes (a new record of them)
        sa.Column("source", sa.String(300), nullable=False),  # the workbook's file name and row
    )
    op.create_index("worklist_answers_item", "worklist_answers", ["screen_id", "item_key"])
    for table in ("worklist_lists", "worklist_answers", "list_sightings"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION houfu_append_only()")
        else:
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END")


def downgrade() -> None:
    op.drop_table("list_sightings")
    op.drop_table("worklist_answers")
    op.drop_table("worklist_lists")
