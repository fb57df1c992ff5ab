"""The determinations file of ``houfu screen``: wide by default, long with ``--long``, and read back either way.

**Wide** (the default): one row per household (site), with

- ``household`` and ``kb_version``;
- ``status:<measure>`` for every measure of the entity in the knowledge base, dictionary-encoded (the statuses of
  ``engine.results.Status``); null where the measure is not in the household's program (its county's documents);
- ``amount:<measure>`` where a measure has amounts: the household's total, null where there is none or one is
  unknown;
- ``missing:<measure>``: a bitmask of the facts still missing for it, bit ``i`` naming the measure's ``facts[i]``
  in the measures table (a member's fact is named once, whichever member lacks it); the narrowest unsigned integer
  that holds the measure's facts (uint8 for up to 8), so a caseload's masks cost a byte or two a measure, not eight.

Owners, clause, quote, the measure's facts in bit order and any clock's due day live once per measure in the
**measures table** beside it (``<stem>.measures.<suffix>``; for XLSX a second sheet). The **long** form
(``--long``) keeps one row per (household, measure) with the owners, each missing path (``members[0].age``) and
the first test that failed.

``read_long`` reads either form back as the long form's household, measure, status, owners, amount and missing
columns, so ``--since``, the tests and any reader of last month's file see one shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from houfu.engine.columns import ColumnProgram, Node
from houfu.engine.program import Program
from houfu.engine.results import Status, TargetKind
from houfu.engine.vector import STATUSES, Decisions
from houfu.kb.loader import KB

__all__ = ["STATUS_PREFIX", "AMOUNT_PREFIX", "MISSING_PREFIX", "RUN_KEY", "WideShape", "measures_path", "read_long",
           "is_wide", "run_of"]

STATUS_PREFIX, AMOUNT_PREFIX, MISSING_PREFIX = "status:", "amount:", "missing:"
#: a measure's missing facts fit one uint64
MAX_FACTS = 64
_STATUS_VALUES = pa.array([s.value for s in STATUSES], pa.string())
_STATUS_TYPE = pa.dictionary(pa.int8(), pa.string())


#: the Parquet metadata key of a screen run's token, in its determinations and in the lists file beside them
RUN_KEY = b"houfu.run"


def run_of(path: Path) -> str | None:
    """The run token a Parquet file of houfu screen carries (None: another format, an older file, or none)."""
    if path.suffix.lower() != ".parquet":
        return None
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    got = meta.get(RUN_KEY)
    return got.decode("utf-8", "replace") if got is not None else None


def measures_path(determinations: Path) -> Path:
    """The measures table beside a wide determinations file (an XLSX keeps it as its second sheet)."""
    return determinations.with_name(determinations.stem + ".measures" + determinations.suffix)


def _node_facts(node: Node, out: dict[str, None]) -> None:
    """Every fact (and member or business list) a compiled condition reads, in the order it reads them."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        fact = getattr(x, "fact", None)
        if isinstance(fact, str):
            out.setdefault(fact)
            ref = getattr(x, "ref", None)
            if isinstance(ref, str):
                out.setdefault(ref)
        collection = getattr(x, "collection", None)
        if isinstance(collection, str):
            out.setdefault(collection)
        for attr in ("inner", "definition"):
            child = getattr(x, attr, None)
            if isinstance(child, Node):
                stack.append(child)
        stack.extend(reversed(getattr(x, "parts", []) or []))


class WideShape:
    """The wide table's columns, fixed before the first row (every part and every worker writes the same schema):
    the measures of every program the knowledge base can give this entity, and each measure's facts in bit order."""

    def __init__(self, kb: KB, entity: str, programs: Iterable[Program], compiled: Any,
                 owners_text: Any, due: dict[str, dt.date] | None = None, as_of: dt.date | None = None):
        from houfu.engine.evaluator import _listed

        self.kb, self.entity, self.due, self.as_of = kb, entity, due or {}, as_of
        facts: dict[str, dict[str, None]] = {}
        programs = list(programs)
        for p in programs:
            cp: ColumnProgram = compiled(p)
            for doc_id in p.documents:
                for clause in kb.documents[doc_id].clauses:
                    for m in clause.measures:
                        if not _listed(m, entity):
                            continue
                        mine = facts.setdefault(m.id, {})
                        for kind in (TargetKind.measure, TargetKind.satisfied, TargetKind.requires):
                            node = cp.nodes.get(f"{kind.value}:{m.id}")
                            if node is not None:
                                _node_facts(node, mine)
                        if m.rule is not None:
                            for extra in (m.rule.done_on, m.rule.quota.count if m.rule.quota else None):
                                if extra is not None:
                                    mine.setdefault(extra)
        # Measures in the knowledge base's order (document by document), whatever order the programs came in.
        order = [m.id for dkb in kb.documents.values() for c in dkb.clauses for m in c.measures if m.id in facts]
        self.measures: list[str] = order
        self.facts: dict[str, list[str]] = {mid: list(facts[mid]) for mid in order}
        too_many = [mid for mid, fs in self.facts.items() if len(fs) > MAX_FACTS]
        if too_many:
            raise ValueError(f"{too_many[0]} reads {len(self.facts[too_many[0]])} facts; the wide determinations hold "
                             f"at most {MAX_FACTS} per measure (use --long)")
        #: each measure's mask type: the narrowest that holds its facts (written and read back as numbers)
        self.mask_type = {mid: next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64)
                                    if np.iinfo(t).bits >= len(fs)) for mid, fs in self.facts.items()}
        self.bits = {mid: {f: 1 << i for i, f in enumerate(fs)} for mid, fs in self.facts.items()}
        self.amounts = [mid for mid in order if (m := kb.measures[mid]).rule is not None and m.rule.amounts]
        self.owners = {mid: owners_text(mid) for mid in order}
        self._kb_version = pa.array([kb.version], pa.string())

    def table(self, ids: pa.Array, d: Decisions, owner_of: dict[str, npt.NDArray[np.intp]]) -> pa.Table:
        """One part's wide rows: ``ids`` its household ids, ``owner_of`` the household row of each member and
        business (for amounts counted per member or business)."""
        n = len(ids)
        at = {mid: j for j, mid in enumerate(d.measures)}
        cols: dict[str, pa.Array] = {
            "household": ids.cast(pa.string()) if pa.types.is_dictionary(ids.type) else ids,
            "kb_version": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)), self._kb_version)}
        none = np.ones(n, bool)
        amounts = {ma.measure: ma.amounts for ma in d.amounts}
        absent: pa.Array | None = None  # a measure not in the households' program: null, one array for all
        for mid in self.measures:
            j = at.get(mid)
            if j is None:
                if absent is None:
                    absent = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8), mask=none), _STATUS_VALUES)
                cols[STATUS_PREFIX + mid] = absent
                continue
            # The decisions' codes as they are (indices into STATUSES, so no check of each is needed; from_arrays
            # validated every index, 12 µs a column, five times this, issue 25). The status matrix is column-major,
            # so this is no copy: the Arrow column shares the decisions' memory (and keeps it alive), and nothing
            # writes to a decision's statuses once it is made.
            codes = np.ascontiguousarray(d.status[:, j])
            cols[STATUS_PREFIX + mid] = pa.DictionaryArray.from_buffers(_STATUS_TYPE, n, [None, pa.py_buffer(codes)],
                                                                        _STATUS_VALUES)
        for mid in self.amounts:
            j = at.get(mid)
            total, has, unknown = np.zeros(n), np.zeros(n, bool), np.zeros(n, bool)
            for a in amounts.get(j, []) if j is not None else []:
                rows = np.asarray(a.rows, dtype=np.intp)
                owner = rows if a.level == "main" else owner_of[a.level][rows]
                values = np.asarray(a.values, dtype=float)
                np.add.at(total, owner, np.nan_to_num(values))
                has[owner] = True
                unknown[owner[np.isnan(values)]] = True
            cols[AMOUNT_PREFIX + mid] = pa.array(total, mask=~has | unknown)
        for mid in self.measures:
            j = at.get(mid)
            mask: npt.NDArray[Any] = np.zeros(n, self.mask_type[mid])
            if j is not None:
                bits = self.bits[mid]
                # The parts by their bit (a member's fact comes once per place in the list): one scatter a bit.
                by_value: dict[int, list[npt.NDArray[np.intp]]] = {}
                for rows, paths in d.missing.get(j, []):
                    value = 0
                    for p in paths:
                        value |= bits.get(p.rpartition("].")[2] if "]." in p else p, 0)
                    by_value.setdefault(value, []).append(rows)
                for value, parts in by_value.items():
                    mask[parts[0] if len(parts) == 1 else np.concatenate(parts)] |= value
            cols[MISSING_PREFIX + mid] = pa.array(mask, mask=none if j is None else None)
        return pa.table(cols)

    def measures_table(self) -> pa.Table:
        """Each measure once: its document, clause, text, quote, owners, its facts in bit order, and a clock's due
        day for a case listed on this run (an open case: applies or undetermined)."""
        kb = self.kb
        rows: dict[str, list[Any]] = {k: [] for k in ("measure", "document", "clause", "text", "quote", "owners",
                                                      "facts", "has_amount", "due_on", "overdue")}
        for mid in self.measures:
            m = kb.measures[mid]
            clause = kb.measure_clause[mid]
            rows["measure"].append(mid)
            rows["document"].append(kb.clause_doc[clause])
            rows["clause"].append(kb.clauses[clause].number)
            rows["text"].append(m.zh)
            rows["quote"].append(m.quote)
            rows["owners"].append(self.owners[mid])
            rows["facts"].append(self.facts[mid])
            rows["has_amount"].append(mid in self.amounts)
            due = self.due.get(mid)
            rows["due_on"].append(due)
            rows["overdue"].append(None if due is None or self.as_of is None else due < self.as_of)
        return pa.table({k: pa.array(v, pa.list_(pa.string()) if k == "facts" else pa.date32() if k == "due_on"
                                     else None) for k, v in rows.items()})


def is_wide(names: Iterable[str]) -> bool:
    return any(n.startswith(STATUS_PREFIX) for n in names)


def _read_any(path: Path, columns: list[str] | None = None) -> pa.Table:
    kind = path.suffix.lower()
    if kind == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=columns)
    if kind == ".csv":
        import pyarrow.csv as pcsv

        return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
            include_columns=columns, column_types={"household": pa.string(), "measure": pa.string(),
                                                   "status": pa.string(), "owners": pa.string()}))
    if kind == ".jsonl":
        import pyarrow.json as pjson

        got = pjson.read_json(path)
        return got.select(columns) if columns is not None else got
    if kind == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        sheet = book[book.sheetnames[0]]
        rows = list(sheet.iter_rows(values_only=True))
        book.close()
        head = [str(h) for h in rows[0]] if rows else []
        return pa.table({h: pa.array([r[i] if i < len(r) else None for r in rows[1:]]) for i, h in enumerate(head)
                         if columns is None or h in columns})
    raise ValueError(f"{path}: a determinations file is .parquet, .csv, .xlsx or .jsonl")


def _measures_of(path: Path) -> pa.Table | None:
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        if "measures" not in book.sheetnames:
            return None
        rows = list(book["measures"].iter_rows(values_only=True))
        book.close()
        head = [str(h) for h in rows[0]]
        return pa.table({h: pa.array([r[i] if i < len(r) else None for r in rows[1:]]) for i, h in enumerate(head)})
    beside = measures_path(path)
    if not beside.exists():
        return None
    mine, theirs = run_of(path), run_of(beside)
    if mine is not None and theirs is not None and mine != theirs:
        # Another run's measures table: its facts' bit order may not be this file's (a run stopped between
        # writing the two, or a file copied in). Decoding the missing facts by it could name the wrong facts.
        raise ValueError(f"{beside.name} is not the measures table written with {path.name} (another run's)")
    return _read_any(beside)


def _fact_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(value) if not isinstance(value, str) else [f for f in value.split(";") if f]


def read_long(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A determinations file of either form as the long form: household, measure, status, owners, amount and
    missing (the wide form's missing facts by name, without a member's place in the list), plus due_on and overdue
    where a clock timed them. ``columns`` picks among them (a long file is read for those only)."""
    import pyarrow.compute as pc

    kind = path.suffix.lower()
    if kind == ".parquet":
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    else:
        if kind == ".csv":
            import pyarrow.csv as pcsv

            names = pcsv.open_csv(path).schema.names
        else:
            names = _read_any(path).column_names
    if not is_wide(names):
        return _read_any(path, [c for c in columns if c in names] if columns is not None else None)
    measures = _measures_of(path)
    info: dict[str, dict[str, Any]] = {r["measure"]: r for r in measures.to_pylist()} if measures is not None else {}
    wanted = columns or ["household", "measure", "status", "owners", "amount", "missing"]
    need = ["household"] + [c for c in names if c.startswith(STATUS_PREFIX)]
    if "amount" in wanted:
        need += [c for c in names if c.startswith(AMOUNT_PREFIX)]
    if "missing" in wanted:
        need += [c for c in names if c.startswith(MISSING_PREFIX)]
    wide = _read_any(path, need) if kind != ".jsonl" else _read_any(path).select(need)
    households = wide.column("household").cast(pa.string())
    parts: list[pa.Table] = []
    for name in (c for c in need if c.startswith(STATUS_PREFIX)):
        mid = name[len(STATUS_PREFIX):]
        status = wide.column(name).cast(pa.string())
        keep = pc.fill_null(pc.not_equal(status, ""), False)  # CSV writes a null status as an empty cell
        part: dict[str, pa.Array | pa.ChunkedArray] = {
            "household": households.filter(keep),
            "measure": pa.array(np.full(int(pc.sum(keep).as_py() or 0), mid, dtype=object), pa.string()),
            "status": status.filter(keep)}
        count = len(part["household"])
        meta = info.get(mid, {})
        if "owners" in wanted:
            part["owners"] = pa.array([(meta.get("owners") or "") if meta else None] * count, pa.string())
        if "amount" in wanted:
            a = AMOUNT_PREFIX + mid
            part["amount"] = (wide.column(a).cast(pa.float64()).filter(keep) if a in wide.column_names
                              else pa.nulls(count, pa.float64()))
        if "missing" in wanted:
            facts = _fact_list(meta.get("facts"))
            bits = wide.column(MISSING_PREFIX + mid).cast(pa.uint64()).filter(keep).to_numpy(zero_copy_only=False)
            bits = np.nan_to_num(bits).astype(np.uint64) if bits.dtype != np.uint64 else bits
            # Each distinct mask named once, then taken per row.
            patterns, inverse = np.unique(bits, return_inverse=True)
            named = pa.array([[f for i, f in enumerate(facts) if int(v) >> i & 1] for v in patterns.tolist()],
                             pa.list_(pa.string()))
            part["missing"] = named.take(pa.array(inverse.reshape(-1).astype(np.int64))) if count else \
                pa.array([], pa.list_(pa.string()))
        due = meta.get("due_on")
        if due is not None and columns is None:
            open_ = pc.is_in(part["status"], value_set=pa.array([Status.applies.value, Status.undetermined.value]))
            day = due if isinstance(due, dt.date) else dt.date.fromisoformat(str(due)[:10])
            part["due_on"] = pc.if_else(open_, pa.scalar(day, pa.date32()), pa.scalar(None, pa.date32()))
            late = meta.get("overdue")
            late = late if isinstance(late, bool) else str(late).lower() == "true"
            part["overdue"] = pc.if_else(open_, late, pa.scalar(None, pa.bool_()))
        parts.append(pa.table(part))
    if not parts:
        return pa.table({c: pa.array([], pa.string()) for c in wanted})
    out = pa.concat_tables(parts, promote_options="default")
    # In the long form's order: household by household, each in the measures' order.
    order = pc.sort_indices(pa.table({"h": pc.index_in(out.column("household"), value_set=households.unique())}),
                            sort_keys=[("h", "ascending")])
    out = out.take(order)
    return out.select([c for c in [*wanted, "due_on", "overdue"] if c in out.column_names])
