"""Alembic migrations of the decision-record store (run by ``houfu.app.records.RecordStore`` on open)."""
