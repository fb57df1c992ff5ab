"""API tokens, lockouts that outlive a restart, and the reads of personal records (issue 23, §2, §3, §5).

- ``users`` gain ``token_hash`` and ``token_created_at``: one API token per user for scripts (``houfu users token
  NAME``), kept as its sha256 only (a token is 256 random bits, so a fast hash is enough and checking one costs
  the service nothing); a new token replaces the old, ``--revoke`` removes it.
- ``users`` gain ``locked_at``: an account locked after too many failed logins stays locked across a restart
  until a supervisor lifts the lock (``houfu users unlock``, the users page, ``POST /v1/users/{name}/unlock``).
- ``record_reads``: one row per read of a personal record (who, when, which record, whose household, and how:
  the API, a page, a household's history, the CLI), append-only like the records, so a supervisor can list the
  reads of a household (``houfu records reads``, ``GET /v1/households/{id}/reads``, its page).
- On PostgreSQL, ``houfu_service`` may SELECT and INSERT the reads and set or lift a lock (UPDATE of
  ``locked_at``); it may not make or change tokens (the CLI, as the tables' owner, does).

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SERVICE_ROLE = "houfu_service"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("token_created_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_users_token_hash", ["token_hash"], unique=True)
    op.create_table(
        "record_reads",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("how", sa.String(20), nullable=False),
    )
    op.create_index("ix_record_reads_subject", "record_reads", ["subject_id", "read_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER record_reads_append_only BEFORE UPDATE OR DELETE ON record_reads "
                   "FOR EACH ROW EXECUTE FUNCTION houfu_append_only()")
        op.execute("CREATE TRIGGER record_reads_no_truncate BEFORE TRUNCATE ON record_reads "
                   "FOR EACH STATEMENT EXECUTE FUNCTION houfu_append_only()")
        op.execute(f"""DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
                GRANT SELECT, INSERT ON record_reads TO {SERVICE_ROLE};
                GRANT USAGE ON SEQUENCE record_reads_seq_seq TO {SERVICE_ROLE};
                GRANT UPDATE (locked_at) ON users TO {SERVICE_ROLE};
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'houfu: grants to {SERVICE_ROLE} not made (this role may not grant them); see README';
        END $$""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER record_reads_no_{event.lower()} BEFORE {event} ON record_reads "
                       "BEGIN SELECT RAISE(ABORT, 'the reads of personal records are append-only'); END")


def downgrade() -> None:
    op.drop_table("record_reads")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_token_hash")
        batch.drop_column("locked_at")
        batch.drop_column("token_created_at")
        batch.drop_column("token_hash")
