"""Alembic migrations of the decision-record store (run by ``houfu.records.store.RecordStore`` on open)."""
