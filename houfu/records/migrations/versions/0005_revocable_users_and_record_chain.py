"""Access that can be revoked and a store that shows any edit (issue 23, §4 and §6).

- ``users`` gain ``session_version`` (a session carries the version it was made under; logout, disable and a new
  password raise it, so every copy of an older cookie stops working at once) and ``disabled``.
- ``record_chain``: one row per decision record, in the order they were kept, with the hash of the record's
  content and of the chain row before it (a hash chain; ``houfu records verify`` walks it). Append-only like
  the records, and ``prev_hash`` is unique, so two writers cannot fork it. Existing records are chained here,
  oldest first.
- On SQLite, a replace-style write (``INSERT OR REPLACE``, which deletes without firing the delete trigger) is
  refused by a trigger before it inserts.
- On PostgreSQL, the role ``houfu_service`` that may only SELECT and INSERT the record tables (and read the users
  and change only their session version, a lock or a password); the service should log in as a member of it
  (docs: README, "Running it for real"). Made only where the migrating role may create roles.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
SERVICE_ROLE = "houfu_service"
#: The append-only tables of migration 0004 (issue 24).
WORKLISTS = ("worklist_lists", "worklist_answers", "list_sightings")


def upgrade() -> None:
    from houfu.records.store import record_hash

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("team", sa.String(100), nullable=True))
    op.create_table(
        "record_chain",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), nullable=False, unique=True),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("record_hash", sa.String(64), nullable=False),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT * FROM decision_records ORDER BY created_at, id")).mappings().all()
    prev = GENESIS
    for row in rows:
        digest = record_hash(row, prev)
        bind.execute(sa.text("INSERT INTO record_chain (record_id, prev_hash, record_hash) VALUES (:r, :p, :h)"),
                     {"r": row["id"], "p": prev, "h": digest})
        prev = digest
    if bind.dialect.name == "postgresql":
        op.execute("CREATE TRIGGER record_chain_append_only BEFORE UPDATE OR DELETE ON record_chain "
                   "FOR EACH ROW EXECUTE FUNCTION houfu_append_only()")
        for table in ("decision_records", "record_chain", "screen_runs", *WORKLISTS):
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION houfu_append_only()")
        op.execute(f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
                CREATE ROLE {SERVICE_ROLE} NOLOGIN;
            END IF;
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO {SERVICE_ROLE}', current_database());
            GRANT USAGE ON SCHEMA public TO {SERVICE_ROLE};
            GRANT SELECT, INSERT ON decision_records, record_chain, screen_runs, {", ".join(WORKLISTS)}
                TO {SERVICE_ROLE};
            GRANT USAGE ON SEQUENCE record_chain_seq_seq TO {SERVICE_ROLE};
            GRANT SELECT ON users, alembic_version TO {SERVICE_ROLE};
            GRANT UPDATE (session_version, disabled, password_hash) ON users TO {SERVICE_ROLE};
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'houfu: role {SERVICE_ROLE} not made (this role may not create roles); see README';
        END $$""")
    else:
        op.execute("CREATE TRIGGER record_chain_no_update BEFORE UPDATE ON record_chain "
                   "BEGIN SELECT RAISE(ABORT, 'the record chain is append-only'); END")
        op.execute("CREATE TRIGGER record_chain_no_delete BEFORE DELETE ON record_chain "
                   "BEGIN SELECT RAISE(ABORT, 'the record chain is append-only'); END")
        for table, key in (("decision_records", "id"), ("record_chain", "record_id")):
            op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                       f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key}) "
                       "BEGIN SELECT RAISE(ABORT, 'decision records are append-only'); END")


def downgrade() -> None:
    op.drop_table("record_chain")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("team")
        batch.drop_column("disabled")
        batch.drop_column("session_version")
