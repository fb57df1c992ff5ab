"""``houfu screen --dask``: the same screener on a Dask cluster, for a caseload that outgrows one machine.

The households Parquet is read as a ``dask.dataframe`` and each partition is screened by ``screen_partition``
(``map_partitions``) on a worker: it reads the members and businesses of its own households from their Parquet
files (a filtered read), builds the columns and runs the column evaluator, exactly as ``houfu screen`` does in
one process. Nothing here is a scheduler of houfu's own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa

from houfu.kb.loader import KB

__all__ = ["screen_on_dask", "screen_partition", "COLUMNS"]

#: the flat columns of a determinations partition (missing facts joined with ';')
COLUMNS = ["household", "measure", "status", "amount", "owners", "missing", "failed", "kb_version"]


def _ids_column(table: pa.Table, kb: KB) -> str:
    from houfu.io.tables import TableError, _header_map

    mapping, _ = _header_map(kb, "household", table.column_names)
    col = next((c for c, f in mapping.items() if f == "id"), None)
    if col is None:
        raise TableError("-: -: no household id column (户编号 or id)")
    return col


def _related(path: str | None, kb: KB, level: str, ids: pa.Array) -> pa.Table | None:
    """The rows of a members or businesses Parquet file that belong to these households (a filtered read)."""
    if path is None:
        return None
    import pyarrow.dataset as ds

    from houfu.io.tables import _header_map

    dataset = ds.dataset(path, format="parquet")
    mapping, _ = _header_map(kb, level, dataset.schema.names)
    key = next((c for c, f in mapping.items() if f == "household"), None)
    if key is None:
        from houfu.io.tables import TableError

        raise TableError(f"{path}: -: no household id column (户编号 or household)")
    field = ds.field(key)
    kind = dataset.schema.field(key).type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # Both sides trimmed, as the rows are joined: a member row naming " h1 " belongs to h1 (and to " h1"), and
        # was never read here.
        import pyarrow.compute as pc

        field = pc.utf8_trim_whitespace(field)
        ids = pc.utf8_trim_whitespace(ids)
    return dataset.to_table(filter=field.isin(ids))


def screen_partition(frame: Any, members: str | None, businesses: str | None, as_of: dt.date,
                     policies: str | None) -> Any:
    """One partition of households (a pandas DataFrame) to its determinations (a pandas DataFrame)."""
    import pandas as pd

    from houfu.engine.evaluator import evaluator_for
    from houfu.io.tables import load_tables
    from houfu.kb.loader import load, load_default
    from houfu.screen.screener import Screener, ScreenTotals, _flat, chunks

    kb = load(Path(policies)) if policies else load_default()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    ids = table.column(_ids_column(table, kb)).combine_chunks().cast(pa.string())
    loaded = load_tables(kb, table, "partition", _related(members, kb, "member", ids), members,
                         _related(businesses, kb, "entity", ids), businesses)
    screener = Screener(kb, evaluator_for(kb), as_of, long=True)  # the long form: its columns are fixed (COLUMNS)
    parts: list[pa.Table] = []
    totals = ScreenTotals("household", as_of, kb.version)
    for rows in chunks(loaded.n):
        screener.chunk(loaded, rows, parts.append, totals)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "amount" else "object") for c in COLUMNS})
    return pa.concat_tables([_flat(p) for p in parts]).to_pandas()


def screen_on_dask(kb: KB, caseload: Path, members: Path | None, businesses: Path | None, as_of: dt.date,
                   output: Path | None, address: str) -> tuple[int, int]:
    """Screen a Parquet caseload on a Dask cluster (``local`` starts two local workers); the determinations (the
    long form) are written to ``output`` in the format its name asks for, unless no household was screened.
    Returns the rows read and the households screened: the rest were rejected, which a run on Dask counts but does
    not list (nor a members or businesses row that names no household)."""
    import dask.dataframe as dd
    import pandas as pd
    from dask.distributed import Client, LocalCluster

    from houfu.io.tables import TableError, open_parquet

    if caseload.suffix.lower() != ".parquet" and not caseload.is_dir():
        raise TableError(f"{caseload}: -: --dask reads a Parquet caseload (a file or a folder of parts)")
    from houfu.io.files import refuse_overlaps

    refuse_overlaps({"the caseload": caseload, "the members file": members, "the businesses file": businesses},
                    {"the determinations": output})
    # Each file opened here, before a cluster starts: a missing or broken file is one line naming it, not Dask's
    # error from a worker. Only opened: the one-machine limits (rows, declared bytes) are not the cluster's.
    for path in (caseload, members, businesses):
        if path is not None and not path.is_dir():
            open_parquet(path)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
        if address == "local" else None
    client = Client(cluster if cluster is not None else address)
    try:
        frame = dd.read_parquet(str(caseload))
        meta = pd.DataFrame({c: pd.Series(dtype="float64" if c == "amount" else "object") for c in COLUMNS})
        policies = str(kb.folder)
        out = frame.map_partitions(screen_partition, str(members) if members else None,
                                   str(businesses) if businesses else None, as_of, policies, meta=meta)
        result = out.compute()
        if output is not None and len(result):
            # None screened: nothing is written, and an earlier file at the path stands, as on one machine.
            from houfu.screen.screener import Writer

            # In the format the name asks for (.parquet, .csv, .xlsx or .jsonl), whole or not at all, by the writer of
            # one machine's run: Parquet bytes were written to whatever name was given (``-o d.csv``).
            writer = Writer(output)
            try:
                writer(pa.Table.from_pandas(result, preserve_index=False))
                writer.close()
            except BaseException:
                writer.abort()
                raise
        return int(len(frame)), int(result["household"].nunique())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
