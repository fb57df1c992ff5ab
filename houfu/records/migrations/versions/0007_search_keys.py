"""Finding a household again (issue 22, §3): search keys beside each decision record, and the store's own key.

- ``record_keys``: (record, kind, key) rows: the household's or site's id and name and each member's name,
  folded (``houfu.records.finder.fold``: NFKC, case-folded, no spaces); a member's ID number only as its keyed
  hash; the clauses a measure of which touched the subject. Written with each record; the records kept before
  this revision are indexed here (they hold no ID numbers: none was ever kept).
- ``store_keys``: secrets the store keeps, made once here: ``id_number`` is the HMAC key of the ID-number
  hashes.
- On PostgreSQL the service role may SELECT and INSERT the keys and read the store's key.

Revision ID: 0007
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SERVICE_ROLE = "houfu_service"


def upgrade() -> None:
    from houfu.records.finder import keys_of_row

    op.create_table(
        "record_keys",
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("record_id", "kind", "key"),
    )
    op.create_index("record_keys_by_key", "record_keys", ["kind", "key"])
    op.create_index("decision_records_by_time", "decision_records", ["created_at"])
    op.create_table(
        "store_keys",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    secret = secrets.token_hex(32)
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO store_keys (name, value) VALUES ('id_number', :v)"), {"v": secret})
    rows = bind.execute(sa.text("SELECT id, entity, input, report FROM decision_records")).mappings()
    batch: list[dict[str, str]] = []
    for row in rows:
        batch += [{"r": row["id"], "k": kind, "v": key} for kind, key in keys_of_row(row, bytes.fromhex(secret))]
    if batch:
        bind.execute(sa.text("INSERT INTO record_keys (record_id, kind, key) VALUES (:r, :k, :v)"), batch)
    if bind.dialect.name == "postgresql":
        op.execute(f"""DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
                GRANT SELECT, INSERT ON record_keys TO {SERVICE_ROLE};
                GRANT SELECT ON store_keys TO {SERVICE_ROLE};
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'houfu: grants to {SERVICE_ROLE} not given (see README)';
        END $$""")


def downgrade() -> None:
    op.drop_table("store_keys")
    op.drop_index("decision_records_by_time", "decision_records")
    op.drop_index("record_keys_by_key", "record_keys")
    op.drop_table("record_keys")
