"""Failed logins counted in the store (issue 23, §2): ``users.failures``, the wrong passwords in a row.

The service counted them in its memory only, so a restart, or a second worker process, gave a guesser a fresh
start towards the lock. Each wrong password for a real account now adds one here and a right one sets it back to
0; the account is locked when the count kept here reaches the lock's threshold (``houfu.web.auth.LOCK_AT``),
whichever process counted the failures. Lifting a lock sets it back to 0 too.

On PostgreSQL, ``houfu_service`` may UPDATE this column (as it may ``locked_at``), nothing more.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SERVICE_ROLE = "houfu_service"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failures", sa.Integer, nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
                GRANT UPDATE (failures) ON users TO {SERVICE_ROLE};
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'houfu: grants to {SERVICE_ROLE} not given (see README)';
        END $$""")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("failures")
