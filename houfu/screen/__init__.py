"""The screener room: a whole caseload evaluated as columns, its summary and its report (Dask beyond one
machine). Imports present, records, io and the core."""
