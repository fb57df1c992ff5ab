"""The records room: decision records, users and the Alembic migrations of their store. Imports io and the core."""
