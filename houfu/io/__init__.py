"""The input room: every file a user gives houfu (YAML, JSON, CSV in UTF-8 or GBK, XLSX, Parquet) read
with limits, its encoding judged, its columns mapped, its bad cells named. Imports only the core (kb, engine)."""
