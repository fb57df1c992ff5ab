"""``houfu screen``: a whole caseload through the column evaluator, to a determinations file and totals.

The caseload is cut into chunks of households; each chunk is split by the program its households need (the
documents in force where they live), decided by ``engine.vector``, written out, and added to the totals the
caseload report is drawn from. Memory follows the chunk, not the caseload. ``screen_partition`` is the same
work on one partition for Dask (``--dask``), so the distributed run and the local one are one code path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from houfu.engine.columns import Caseload, ColumnProgram
from houfu.engine.evaluator import Evaluator, documents_in_force
from houfu.engine.program import Program, Target, gates_of
from houfu.engine.results import Status, TargetKind
from houfu.engine.vector import STATUSES, Decisions, VectorEvaluator
from houfu.io.limits import LIMITS, Deadline, TableLimits
from houfu.io.mapping import ColumnSpec, spec_for
from houfu.io.notes import CellError, ErrorGroup, Note, group_errors
from houfu.io.tables import ColumnFate, Loaded, TextBudget, check_parquet
from houfu.kb.loader import KB, FieldError
from houfu.kb.models import Role
from houfu.kb.query import site_named
from houfu.screen.determinations import RUN_KEY, WideShape, measures_path

__all__ = ["ACTIONS", "OUTPUT_FORMATS", "WORK", "ScreenRun", "ScreenTotals", "carriers_of", "determinations_table",
           "screen", "screen_stream", "worklist_rows"]

OUTPUT_FORMATS = (".parquet", ".csv", ".xlsx", ".jsonl")
#: households a part: each part costs a few ms whatever its size (each program's decide walks its measures' nodes,
#: the totals, the hand-offs between the threads), so 50,000 run a million households 14% faster than 25,000, for
#: about 95 MB more at the peak (under 0.5 GB at a million; docs/performance.md, issue 25)
CHUNK = 50_000
#: the smallest chunk worth sending to a worker process
MIN_PART = 10_000
#: entries each list in the report shows (its count and total cover the whole caseload)
LISTED = 200


#: Kinds of action a measure needs for a household or site, the most pressing first: fix (a site duty violated),
#: act (applies and not yet done, or with no test of whether it is done), due (a site duty whose period is under
#: way), verify (applies; whether it is already done is unknown), collect (cannot tell yet: facts missing). A
#: department's household (site) counts once, under the most pressing kind it needs from that department, so the
#: kinds add up to its total. The wording is in the report's templates.
ACTIONS = ("fix", "act", "due", "verify", "collect")


@dataclass
class ListTotals:
    """One of the report's lists (policies/lists.yaml), decided three-valued: counted in full, listed up to
    LISTED per group."""

    confirmed: int = 0
    to_check: int = 0
    confirmed_rows: list[tuple[str, str, str]] = field(default_factory=list)  # household, name, site
    to_check_rows: list[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=list)  # … and facts to ask
    asked: Counter[str] = field(default_factory=Counter)  # fact -> households to check that lack it

    def merge(self, other: ListTotals) -> None:
        self.confirmed += other.confirmed
        self.to_check += other.to_check
        self.confirmed_rows.extend(other.confirmed_rows[:max(0, LISTED - len(self.confirmed_rows))])
        self.to_check_rows.extend(other.to_check_rows[:max(0, LISTED - len(self.to_check_rows))])
        self.asked.update(other.asked)


@dataclass
class RequestTotals:
    """What one body is asked for: the missing facts its registers hold, as (household, fact) pairs (a member's
    fact counts once per member), counted in full and listed up to LISTED."""

    households: int = 0
    pairs: int = 0
    by_fact: Counter[str] = field(default_factory=Counter)  # fact -> pairs
    registers: Counter[str] = field(default_factory=Counter)  # register id -> pairs
    listed: list[tuple[str, str, str, str]] = field(default_factory=list)  # household, name, site, path

    def merge(self, other: RequestTotals) -> None:
        self.households += other.households
        self.pairs += other.pairs
        self.by_fact.update(other.by_fact)
        self.registers.update(other.registers)
        self.listed.extend(other.listed[:max(0, LISTED - len(self.listed))])


@dataclass
class ScreenTotals:
    """What the caseload report is drawn from, added up chunk by chunk."""

    entity: str
    as_of: dt.date
    kb_version: str
    #: this run's token: in the determinations' and the lists file's Parquet metadata (``RUN_KEY``), so a lists file
    #: left by an earlier run beside newer determinations is not taken for theirs (``--since``)
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: whether the determinations file was written: not when no household was screened (every row rejected, or
    #: none read), and then an earlier file at the path is left as it was, and not named as this run's
    written: bool = False
    rows_in: int = 0
    screened: int = 0
    rejected: int = 0
    people: int = 0
    by_site: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    by_jurisdiction: Counter[str] = field(default_factory=Counter)
    status_counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: the lists keep their first LISTED entries; the counts and totals cover everyone
    lists: dict[str, ListTotals] = field(default_factory=lambda: defaultdict(ListTotals))
    training: list[tuple[str, int, float | None]] = field(default_factory=list)  # household, member (1-), shortfall
    training_count: int = 0
    training_total: float = 0.0
    subsidies: list[tuple[str, int, float | None]] = field(default_factory=list)  # household, business (1-), yuan
    subsidy_count: int = 0
    subsidy_total: float = 0.0
    missing: Counter[str] = field(default_factory=Counter)  # fact -> determinations it would settle
    missing_holder: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # -> register id
    #: body id -> kind of action (ACTIONS, and "all") -> households (sites) where a measure it carries needs it;
    #: "" gathers the measures no office carries
    workload: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: body id -> what it is asked for; "" gathers the facts no register serves for the household's jurisdiction
    requests: dict[str, RequestTotals] = field(default_factory=lambda: defaultdict(RequestTotals))
    site_issues: list[tuple[str, str, str, str]] = field(default_factory=list)  # site, measure, status, clause
    #: every household on each list, by list id: (confirmed ids, to-check ids) as Arrow arrays a part each, for the
    #: change list and the tracker (``list_members``). As Python text they were 13 MB of a million households' run,
    #: growing with the caseload (issue 25).
    members: dict[str, tuple[list[pa.Array], list[pa.Array]]] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    seconds: float = 0.0
    item_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    parts: int = 0  # parts read in turn (0: the caseload was read whole)

    def merge(self, other: ScreenTotals) -> None:
        for name in ("rows_in", "screened", "rejected", "people", "training_count", "training_total",
                     "subsidy_count", "subsidy_total"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("by_site", "by_category", "by_jurisdiction", "missing"):
            getattr(self, name).update(getattr(other, name))
        for name in ("status_counts", "missing_holder", "workload"):
            mine = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k].update(v)
        for name in ("lists", "requests"):
            mine = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k].merge(v)
        for name in ("training", "subsidies"):
            getattr(self, name).extend(getattr(other, name)[:max(0, LISTED - len(getattr(self, name)))])
        for name in ("site_issues", "errors"):
            getattr(self, name).extend(getattr(other, name))
        for k, (yes, maybe) in other.members.items():
            mine = self.members.setdefault(k, ([], []))
            mine[0].extend(yes)
            mine[1].extend(maybe)

    def list_members(self) -> dict[str, tuple[list[str], list[str]]]:
        """Every household on each list, by list id: (confirmed ids, to-check ids), part by part (within a part,
        the households of one program together): an order that follows the parts, which readers do not rely on."""
        return {k: ([x for a in yes for x in a.to_pylist()], [x for a in maybe for x in a.to_pylist()])
                for k, (yes, maybe) in self.members.items()}


def carriers_of(kb: KB, measure_id: str) -> tuple[str, ...] | None:
    """The bodies whose workload a measure adds to where it needs action: its handler (the office a household is
    sent to, houfu's recommendation with its basis); without one, the bodies the text names as doing it or as
    lead (牵头); without those, none: the text leaves it to a list 按职责分工, or to its addressees. None for a
    measure that is no work for one household or site: a general duty toward everyone in scope (its letter kind
    is general), or a measure no rule decides."""
    from houfu.kb.models import LetterKind
    from houfu.kb.query import owners_of

    m = kb.measures[measure_id]
    if m.rule is None or (m.plain is not None and m.plain.kind is LetterKind.general):
        return None
    if m.handler is not None:
        return (m.handler.body,)
    return tuple(dict.fromkeys(o["id"] for o in owners_of(kb, measure_id) if o["role"] in ("named", "lead")))


def _owners_text(kb: KB, measure_id: str, owners: list[Any]) -> str:
    ordered = sorted((o for o in owners if o.role is not Role.implicit),
                     key=lambda o: (not o.handles, o.role is not Role.named, o.role is not Role.lead))
    return "、".join(o.name for o in ordered) or "、".join(o.name for o in owners)


class Screener:
    """Holds what every chunk shares: the evaluators, the programs, the owners of each measure."""

    def __init__(self, kb: KB, evaluator: Evaluator, as_of: dt.date, due: dict[str, dt.date] | None = None,
                 worklist: Callable[[pa.Table], None] | None = None, long: bool = False):
        self.kb, self.evaluator, self.as_of = kb, evaluator, as_of
        #: the determinations one row per (household, measure) (--long), else one row per household
        self.long = long
        self._shape: dict[str, WideShape] = {}
        #: measure -> the last day of a case listed on ``as_of`` (its clock, houfu.kb.clocks); none: no clock
        self.due = due or {}
        #: where the worklists' rows go, chunk by chunk (worklist_rows)
        self.worklist = worklist
        self.vector = VectorEvaluator(kb)
        self._owners: dict[str, list[Any]] = {}
        self._carriers: dict[str, tuple[str, ...] | None] = {}
        self._programs: dict[tuple[str, str | None], Program | str] = {}
        self._area_of: dict[str | None, str | None] = {}
        self._holders_of_area: dict[str | None, tuple[str | None, ...]] = {}
        self._holders: dict[tuple[str, str | None], str | None] = {}
        self.lists = _report_lists(kb)
        self._prepared: Loaded | None = None
        #: entries for the totals' lists, held until the chunk is done: a chunk is decided jurisdiction by
        #: jurisdiction, and the lists keep the first rows of the file, whatever the chunks (row, seq, list, entry)
        self._pending: list[tuple[int, int, list[Any], tuple[Any, ...]]] = []

    def owners(self, measure_id: str) -> list[Any]:
        got = self._owners.get(measure_id)
        if got is None:
            from houfu.engine.results import Owner
            from houfu.kb.query import owners_of

            m = self.kb.measures[measure_id]
            handler = m.handler.body if m.handler else None
            got = self._owners[measure_id] = [Owner(body_id=o["id"], name=o["name"], role=Role(o["role"]),
                                                    handles=o["id"] == handler) for o in owners_of(self.kb, measure_id)]
        return got

    def carriers(self, measure_id: str) -> tuple[str, ...] | None:
        if measure_id not in self._carriers:
            self._carriers[measure_id] = carriers_of(self.kb, measure_id)
        return self._carriers[measure_id]

    def holder(self, path: str, area: str | None) -> str | None:
        """The register holding a missing fact (a path such as members[0].age) for a household of ``area``."""
        key = (path.split("].", 1)[-1], area)
        if key not in self._holders:
            from houfu.kb.query import holder_of

            r = holder_of(self.kb, key[0], area)
            self._holders[key] = r.id if r is not None else None
        return self._holders[key]

    def _holders_in(self, area: str | None) -> tuple[str | None, ...]:
        """The register holding each fact of the vocabulary for a household of ``area`` (once per area)."""
        got = self._holders_of_area.get(area)
        if got is None:
            got = self._holders_of_area[area] = tuple(self.holder(fact, area) for fact in self.kb.fact_labels)
        return got

    def program(self, entity: str, jurisdiction: str | None) -> Program | str:
        """The program for households of this jurisdiction, or the reason there is none."""
        key = (entity, jurisdiction)
        if key not in self._programs:
            try:
                j = self.evaluator.jurisdiction(jurisdiction)
                self._programs[key] = self.evaluator.program(entity, tuple(documents_in_force(self.kb, j, self.as_of)))
            except FieldError as exc:
                self._programs[key] = exc.message
        return self._programs[key]

    def prepare(self, loaded: Loaded) -> None:
        """Per household, the program it needs (by jurisdiction, decided once per distinct value), and codes
        of the site and category columns for counting."""
        enc = pc.dictionary_encode(loaded.jurisdictions)
        codes = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False).astype(np.intp)
        values = [*enc.dictionary.to_pylist(), None]
        self._found = [self.program(loaded.entity, v) for v in values]
        self._areas = [self._area(v) for v in values]
        # The jurisdictions decided together in a chunk: the same program, and the same register holding each fact
        # (the one thing a household's area changes in what a chunk adds up, Screener.holder). The three Shiyan
        # counties of a city's caseload were three decides of a chunk, each paying its fixed cost (issue 25).
        groups: dict[tuple[int, tuple[str | None, ...]], list[int]] = {}
        for k, (p, a) in enumerate(zip(self._found, self._areas, strict=True)):
            if not isinstance(p, str):
                groups.setdefault((id(p), self._holders_in(a)), []).append(k)
        self._together = [[] if isinstance(p, str) else groups[(id(p), self._holders_in(a))]
                          for p, a in zip(self._found, self._areas, strict=True)]
        self._program_of = codes
        self._label_codes = {}
        for key in ("site", "category"):
            e = pc.dictionary_encode(loaded.labels[key])
            self._label_codes[key] = (e.indices.fill_null(len(e.dictionary)).to_numpy(zero_copy_only=False),
                                      [*e.dictionary.to_pylist(), "—"])
        # What the record of a household's named site says of the site, where the household does not say it
        # (as Evaluator.facts does for one household): per site written, the rows and the coded values.
        self._site_facts: list[tuple[npt.NDArray[np.bool_], str, float]] = []
        if loaded.entity == "household":
            codes, written = self._label_codes["site"]
            shared = self.kb.models.paths("household")
            codec = loaded.caseload.main.codec
            for i, value in enumerate(written[:-1]):
                site = site_named(self.kb, value)
                for fact, v in (site.facts if site is not None else {}).items():
                    code = codec.encode_constant(fact, v)
                    if fact in shared and code is not None:
                        self._site_facts.append((codes == i, fact, code))

    def shape(self, entity: str) -> WideShape:
        """The wide determinations' columns for ``entity``: the measures of every program a jurisdiction of the
        knowledge base can have on ``as_of``, fixed before the first row."""
        got = self._shape.get(entity)
        if got is None:
            programs: dict[int, Program] = {}
            for j in self.kb.jurisdictions:
                p = self.program(entity, j)
                if isinstance(p, Program):
                    programs.setdefault(id(p), p)
            got = self._shape[entity] = WideShape(
                self.kb, entity, programs.values(), self.vector.compiled,
                lambda mid: _owners_text(self.kb, mid, self.owners(mid)), self.due, self.as_of)
        return got

    def determinations(self, loaded: Loaded, idx: npt.NDArray[np.intp], sub: Caseload, d: Decisions) -> pa.Table:
        """The part's determinations: wide (one row per household), or long with --long."""
        if self.long:
            return determinations_table(self, loaded, idx, sub, d)
        return self.shape(loaded.entity).table(loaded.ids.take(pa.array(idx)), d,
                                               {"members": sub.members.owner, "entities": sub.entities.owner})

    def _area(self, jurisdiction: str | None) -> str | None:
        """The jurisdiction a value names (None where it names none a document covers), found once per value."""
        if jurisdiction not in self._area_of:
            try:
                self._area_of[jurisdiction] = self.evaluator.jurisdiction(jurisdiction)
            except FieldError:
                self._area_of[jurisdiction] = None
        return self._area_of[jurisdiction]

    def chunk(self, loaded: Loaded, rows: npt.NDArray[np.intp],
              write: Callable[[pa.Table], None] | None, totals: ScreenTotals,
              request: Callable[[pa.Table], None] | None = None) -> None:
        """Decide one chunk of households, write its rows, add it to the totals, and (``request``) hand on the
        data requests of its missing facts, one row per (household, fact) with the body that holds it."""
        if self._prepared is not loaded:
            self.prepare(loaded)
            self._prepared = loaded
        codes = self._program_of[rows]
        taken: set[int] = set()
        for code in np.unique(codes).tolist():
            if code in taken:
                continue
            together = self._together[code]
            taken.update(together)
            idx = rows[codes == code] if len(together) < 2 else rows[np.isin(codes, together)]
            p = self._found[code]
            if isinstance(p, str):
                for r in idx.tolist():
                    totals.errors.append(CellError(loaded.source, int(loaded.row_numbers[r]), "jurisdiction",
                                                   f"household {loaded.id(r)}: {p}", "jurisdiction_refused",
                                                   {"value": loaded.jurisdictions[r].as_py() or "", "message": p}))
                totals.rejected += len(idx)
                continue
            sub = loaded.caseload.take(idx)
            for rows_of_site, fact, value in self._site_facts:
                col = sub.main.column(fact)
                col[rows_of_site[idx] & np.isnan(col)] = value
            decisions = self.vector.decide(p, sub, self.as_of, failed=self.long)
            self._add(loaded, idx, sub, decisions, totals, self._areas[code], request)
            if self.worklist is not None and loaded.entity == "household":
                got = worklist_rows(self, loaded, idx, decisions, self._areas[code])
                if got is not None:
                    self.worklist(got)
            if write is not None:
                write(self.determinations(loaded, idx, sub, decisions))
        self._pending.sort(key=itemgetter(0, 1))
        for row, _, target, extra in self._pending:
            if len(target) < LISTED:
                # The household's id, name and site, looked up only for the entries kept.
                head = (loaded.id(row),) if target is totals.training or target is totals.subsidies else (
                    loaded.id(row), loaded.label("name", row), loaded.label("site", row))
                target.append((*head, *extra))
        self._pending = []

    def _list(self, target: list[Any], row: int, extra: tuple[Any, ...]) -> None:
        """Hold an entry for a list of the totals: the household at ``row`` and what follows its id (and, but for
        the training and subsidy lists, its name and site)."""
        self._pending.append((row, len(self._pending), target, extra))

    @staticmethod
    def _room(target: list[Any]) -> int:
        """How many entries a list may still take from this chunk (the earlier chunks' rows come first)."""
        return max(0, LISTED - len(target))

    def _add(self, loaded: Loaded, idx: npt.NDArray[np.intp], sub: Caseload, d: Decisions,
             totals: ScreenTotals, area: str | None = None, request: Callable[[pa.Table], None] | None = None,
             ) -> None:
        kb = self.kb
        n = len(idx)
        totals.screened += n
        totals.people += int(sub.members.count.sum())
        for k, counter in (("site", totals.by_site), ("category", totals.by_category)):
            codes, names = self._label_codes[k]
            counts = np.bincount(codes[idx], minlength=len(names))
            counter.update({str(names[c]): int(v) for c, v in enumerate(counts.tolist()) if v})
        # Missing facts: the determinations each would settle, and (household, path) cells for the requests.
        paths: dict[str, int] = {}
        cells = _Cells()
        open_rows: dict[int, npt.NDArray[np.bool_]] = {}  # measure -> rows with facts missing
        for j in range(len(d.measures)):
            parts = d.missing.get(j, [])
            if not parts:
                continue
            has = np.zeros(n, bool)
            has[np.concatenate([rows for rows, _ in parts]) if len(parts) > 1 else parts[0][0]] = True
            for rows, ps in parts:
                for path in ps:
                    cells.add(rows, paths.setdefault(path, len(paths)))
            open_rows[j] = has
        # Counted per path, in the order the paths came (the totals' order), not per part.
        for path, count in zip(paths, cells.per_path(len(paths)).tolist(), strict=True):
            fact = path.split("].", 1)[-1]
            totals.missing[fact] += count
            totals.missing_holder[fact][self.holder(path, area) or ""] += count
        self._workload(d, open_rows, totals)
        # The supervisor's lists: confirmed where the test holds, to check (with the facts to ask) where it may.
        asked = [(rows, paths.setdefault(path, len(paths)), k) for rows, path, k in self._lists(loaded, idx, sub,
                                                                                                 totals)]
        self._requests(loaded, idx, list(paths), cells, asked, area, totals, request)
        for ma in d.amounts:
            for a in ma.amounts:
                values = np.asarray(a.values, dtype=float)
                rows = np.asarray(a.rows, dtype=np.intp)
                if a.quantity == "training_shortfall":
                    short = values != 0  # a shortfall, or unknown (NaN)
                    totals.training_count += int(short.sum())
                    totals.training_total += float(np.nansum(values[short]))
                    for row, v in zip(rows[short][:self._room(totals.training)].tolist(),
                                      values[short].tolist(), strict=False):
                        hh = int(idx[sub.members.owner[row]])
                        self._list(totals.training, hh, (int(sub.members.position[row]) + 1,
                                                         None if np.isnan(v) else v))
                elif a.quantity == "quarterly_subsidy":
                    totals.subsidy_count += len(rows)
                    totals.subsidy_total += float(np.nansum(values))
                    for row, v in zip(rows[:self._room(totals.subsidies)].tolist(), values.tolist(),
                                      strict=False):
                        hh = int(idx[sub.entities.owner[row]])
                        self._list(totals.subsidies, hh, (int(sub.entities.position[row]) + 1,
                                                          None if np.isnan(v) else v))
        if d.entity == "site":
            for j, mid in enumerate(d.measures):
                for s in (Status.violated, Status.not_due):
                    for r in np.flatnonzero(d.status[:, j] == STATUSES.index(s)).tolist():
                        clause = kb.clauses[kb.measure_clause[mid]]
                        totals.site_issues.append((loaded.id(int(idx[r])), mid, s.value, clause.number))
        del kb


    def _workload(self, d: Decisions, open_rows: dict[int, npt.NDArray[np.bool_]], totals: ScreenTotals) -> None:
        """Each measure's status counts; and per body, the households (sites) where a measure it carries needs
        action, each under the most pressing kind (ACTIONS): a site duty violated, applies and not yet done, a site
        duty under way, applies and whether done unknown, facts missing. A satisfied, met, ruled-out or
        out-of-scope measure is no work."""
        code = {s: STATUSES.index(s) for s in (Status.applies, Status.undetermined, Status.violated, Status.not_due)}
        n = d.status.shape[0]
        work: dict[str, dict[str, npt.NDArray[np.bool_]]] = {}
        for j, mid in enumerate(d.measures):
            col = d.status[:, j]
            counts = np.bincount(col, minlength=len(STATUSES))
            totals.status_counts[mid].update({STATUSES[c].value: int(v) for c, v in enumerate(counts) if v})
            carriers = self.carriers(mid)
            if carriers is None:
                continue
            has = open_rows.get(j)
            kinds: dict[str, npt.NDArray[np.bool_]] = {}
            if counts[code[Status.applies]]:
                applies = col == code[Status.applies]
                verify = applies & has if has is not None else np.zeros(n, bool)
                kinds["act"], kinds["verify"] = applies & ~verify, verify
            if has is not None and counts[code[Status.undetermined]]:
                kinds["collect"] = (col == code[Status.undetermined]) & has
            if counts[code[Status.violated]]:
                kinds["fix"] = col == code[Status.violated]
            if counts[code[Status.not_due]]:
                kinds["due"] = col == code[Status.not_due]
            if not kinds:
                continue
            for body in carriers or ("",):
                mine = work.setdefault(body, {})
                for kind, mask in kinds.items():
                    mine[kind] = mine[kind] | mask if kind in mine else mask
        for body, kinds in work.items():
            taken = np.zeros(n, bool)
            for kind in ACTIONS:
                if kind in kinds:
                    mask = kinds[kind] & ~taken
                    totals.workload[body][kind] += int(mask.sum())
                    taken |= mask
            totals.workload[body]["all"] += int(taken.sum())

    def _lists(self, loaded: Loaded, idx: npt.NDArray[np.intp], sub: Caseload, totals: ScreenTotals,
               ) -> list[tuple[npt.NDArray[np.intp], str, int]]:
        """Each list decided three-valued on the chunk (ages from birth dates as the measures have them):
        confirmed and to-check households counted and listed, and the facts each to-check household lacks,
        returned as (rows, path, list index) for the data requests."""
        if not self.lists or loaded.entity != "household":
            return []  # the lists are household conditions
        caseload = self.vector.derived(sub, self.as_of)
        out: list[tuple[npt.NDArray[np.intp], str, int]] = []
        for k, (name, cp) in enumerate(self.lists.items()):
            key = f"{TargetKind.concept.value}:{name}"
            t, f = cp.evaluate(caseload)[key]
            lt = totals.lists[name]
            hits = np.flatnonzero(t)
            members = totals.members.setdefault(name, ([], []))
            members[0].append(loaded.ids.take(pa.array(idx[hits])))
            members[1].append(loaded.ids.take(pa.array(idx[np.flatnonzero(~(t | f))])))
            lt.confirmed += len(hits)
            for r in hits[:self._room(lt.confirmed_rows)].tolist():
                i = int(idx[r])
                self._list(lt.confirmed_rows, i, ())
            unknown = ~(t | f)
            if not unknown.any():
                continue
            rows_open = np.flatnonzero(unknown)
            lt.to_check += len(rows_open)
            shown = rows_open[:self._room(lt.to_check_rows)]
            facts_of: dict[int, list[str]] = {int(r): [] for r in shown.tolist()}
            is_shown = np.zeros(len(t), bool)
            is_shown[shown] = True
            lacking: dict[str, npt.NDArray[np.bool_]] = {}
            for rows, ps in cp.missing(caseload, key, unknown):
                for path in ps:
                    out.append((rows, path, k))
                    fact = path.split("].", 1)[-1]
                    mask = lacking.setdefault(fact, np.zeros(len(t), bool))
                    mask[rows] = True
                    if facts_of:  # only the rows still listed (a full list lists none)
                        for r in rows[is_shown[rows]].tolist():
                            facts_of[int(r)].append(path)
            lt.asked.update({fact: int(mask.sum()) for fact, mask in lacking.items()})
            for r in shown.tolist():
                i = int(idx[r])
                self._list(lt.to_check_rows, i, (tuple(sorted(set(facts_of[r]), key=_path_order)),))
        return out

    def _requests(self, loaded: Loaded, idx: npt.NDArray[np.intp], paths: list[str],
                  cells: _Cells, asked: list[tuple[npt.NDArray[np.intp], int, int]],
                  area: str | None, totals: ScreenTotals, request: Callable[[pa.Table], None] | None) -> None:
        """The missing facts as (household, path) pairs, each routed to the body whose register holds it for the
        household's jurisdiction ("" where none does): counted per body, and handed to ``request`` as rows.

        A pair missing for several measures is one request: a boolean matrix (paths x households) marks them,
        which costs a bit per cell and no sort."""
        if not paths:
            return
        width, n = len(paths), len(idx)
        need = cells.marks(width, n)
        for rows, pid, _ in asked:
            need[pid, rows] = True
        # Paths in one order, so each household's requests come in the same order however it was chunked.
        order = np.array(sorted(range(width), key=lambda i: _path_order(paths[i])), dtype=np.intp)
        per_path = need.sum(axis=1)
        registers = [self.holder(path, area) or "" for path in paths]
        bodies = {r: self.kb.registers[r].body if r else "" for r in registers}
        for body in dict.fromkeys(bodies.values()):
            mine = order[np.array([bodies[registers[i]] == body for i in order.tolist()])]
            mine = mine[per_path[mine] > 0]
            if not len(mine):
                continue
            rt = totals.requests[body]
            rt.pairs += int(per_path[mine].sum())
            rt.households += int(need[mine].any(axis=0).sum())
            for i in mine.tolist():
                rt.by_fact[paths[i].split("].", 1)[-1]] += int(per_path[i])
                rt.registers[registers[i]] += int(per_path[i])
            room = self._room(rt.listed)
            if room:
                rows, at = np.nonzero(need[mine].T)  # household by household, each in path order
                for r, i in zip(rows[:room].tolist(), mine[at[:room]].tolist(), strict=True):
                    self._list(rt.listed, int(idx[r]), (paths[i],))
        if request is None:
            return
        settles = cells.counts(width, n)  # how many of the chunk's determinations each would settle
        flags = np.zeros((width, n), np.int64)
        for rows, pid, k in asked:
            flags[pid, rows] |= 1 << k
        rows, at = np.nonzero(need[order].T)
        path_of = order[at]
        where = idx[rows]
        register_names = list(dict.fromkeys(registers))
        register_of = np.array([register_names.index(r) for r in registers], dtype=np.int32)
        body_names = list(dict.fromkeys(bodies.values()))
        body_of = np.array([body_names.index(bodies[r]) for r in register_names], dtype=np.int32)
        request(pa.table({
            "body": pa.DictionaryArray.from_arrays(pa.array(body_of[register_of[path_of]]), pa.array(body_names)),
            "register": pa.DictionaryArray.from_arrays(pa.array(register_of[path_of]), pa.array(register_names)),
            "household": loaded.ids.take(pa.array(where)),
            "name": loaded.labels["name"].take(pa.array(where)) if "name" in loaded.labels
            else pa.nulls(len(where), pa.string()),
            "site": loaded.labels["site"].take(pa.array(where)) if "site" in loaded.labels
            else pa.nulls(len(where), pa.string()),
            "path": pa.DictionaryArray.from_arrays(pa.array(path_of.astype(np.int32)), pa.array(paths)),
            "settles": pa.array(settles[path_of, rows]),
            "lists": pa.array(flags[path_of, rows]),
        }))


class _Cells:
    """(household rows, path) pairs of one chunk's missing facts, counted in one pass: a scatter per pair cost
    about 5 µs, a few thousand times a part (issue 25)."""

    def __init__(self) -> None:
        self.rows: list[npt.NDArray[np.intp]] = []
        self.paths: list[int] = []

    def add(self, rows: npt.NDArray[np.intp], path: int) -> None:
        self.rows.append(rows)
        self.paths.append(path)

    def _lengths(self) -> npt.NDArray[np.intp]:
        return np.fromiter(map(len, self.rows), np.intp, len(self.rows))

    def per_path(self, width: int) -> npt.NDArray[np.int64]:
        """The pairs of each path."""
        return np.bincount(np.asarray(self.paths, np.intp), weights=self._lengths(), minlength=width).astype(np.int64)

    def _flat(self, n: int) -> npt.NDArray[np.intp]:
        return np.concatenate(self.rows) + np.repeat(np.asarray(self.paths, np.intp) * n, self._lengths())

    def marks(self, width: int, n: int) -> npt.NDArray[np.bool_]:
        """paths x households: where a pair is."""
        out = np.zeros(width * n, bool)
        if self.rows:
            out[self._flat(n)] = True
        return out.reshape(width, n)

    def counts(self, width: int, n: int) -> npt.NDArray[np.int32]:
        """paths x households: the pairs of each (the rows of one pair are distinct, as each measure's are)."""
        if not self.rows:
            return np.zeros((width, n), np.int32)
        return np.bincount(self._flat(n), minlength=width * n).astype(np.int32).reshape(width, n)


def _path_order(path: str) -> tuple[int, int, str]:
    """Household facts first, then each member's (members[0] before members[1]), then each business's: one order
    however the caseload was cut into chunks."""
    head, _, fact = path.partition("].")
    if not fact:
        return (0, 0, path)
    collection, _, number = head.partition("[")
    return (1 if collection == "members" else 2, int(number), fact)


def _report_lists(kb: KB) -> dict[str, ColumnProgram]:
    """The supervisor's lists declared in data (policies/lists.yaml), compiled once."""
    out = {}
    gates = gates_of(kb)  # as in the rules: a fact never asked of someone counts for nothing in a list either
    for item in kb.lists:
        target = Target(TargetKind.concept, item.id, "", "", "", gates.apply(item.when))
        out[item.id] = ColumnProgram(Program("household", (), (target,),
                                             {n: gates.apply(c.when) for n, c in kb.concepts.items()},
                                             {pid: p.value for pid, p in kb.parameters.items()}))
    return out


def determinations_table(s: Screener, loaded: Loaded, idx: npt.NDArray[np.intp], sub: Caseload,
                         d: Decisions) -> pa.Table:
    """One row per (household, measure): status, amount, owners, missing facts, first failed test, kb_version."""
    kb = s.kb
    n, m = d.status.shape
    ids = loaded.ids.take(pa.array(idx))
    household = pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(n, dtype=np.int32), m)), ids)
    measure = pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(m, dtype=np.int32), n)),
                                             pa.array(d.measures, type=pa.string()))
    status = pa.DictionaryArray.from_arrays(pa.array(d.status.reshape(-1).astype(np.int32)),
                                            pa.array([x.value for x in STATUSES], type=pa.string()))
    owners = _dictionary(np.tile(np.arange(m, dtype=np.int32), n),
                         [_owners_text(kb, mid, s.owners(mid)) for mid in d.measures])
    # Amounts: the household's total for the measure (null where none, or where one is unknown).
    total = np.zeros(n * m)
    has = np.zeros(n * m, bool)
    unknown = np.zeros(n * m, bool)
    for ma in d.amounts:
        for a in ma.amounts:
            rows = np.asarray(a.rows, dtype=np.intp)
            owner = rows if a.level == "main" else (sub.members.owner[rows] if a.level == "members"
                                                    else sub.entities.owner[rows])
            cell = owner * m + ma.measure
            values = np.asarray(a.values, dtype=float)
            np.add.at(total, cell, np.nan_to_num(values))
            has[cell] = True
            unknown[cell[np.isnan(values)]] = True
    amount = pa.array(total, mask=~has | unknown)
    # Missing facts as list<string>, built from (cell, path) pairs without a loop over rows.
    cells: list[npt.NDArray[np.intp]] = []
    path_ids: list[npt.NDArray[np.int32]] = []
    paths: dict[str, int] = {}
    for j, parts in d.missing.items():
        for rows, ps in parts:
            for p in ps:
                pid = paths.setdefault(p, len(paths))
                cells.append(rows * m + j)
                path_ids.append(np.full(len(rows), pid, dtype=np.int32))
    if cells:
        cell = np.concatenate(cells)
        # Paths in alphabetical order within a row, so the list is the same however the caseload was chunked.
        names = list(paths)
        rank = np.empty(len(names), dtype=np.int32)
        rank[np.argsort(np.array(names, dtype=object))] = np.arange(len(names), dtype=np.int32)
        pid_all = rank[np.concatenate(path_ids)]
        paths = {n: i for i, n in enumerate(sorted(names))}
        order = np.lexsort((pid_all, cell))
        cell, pid_all = cell[order], pid_all[order]
        offsets = np.concatenate(([0], np.cumsum(np.bincount(cell, minlength=n * m)))).astype(np.int32)
        values = pa.array(list(paths), type=pa.string()).take(pa.array(pid_all))
    else:
        offsets = np.zeros(n * m + 1, dtype=np.int32)
        values = pa.array([], type=pa.string())
    missing = pa.ListArray.from_arrays(pa.array(offsets), values)
    # The first failed test, by its description.
    failed_idx = np.full(n * m, -1, dtype=np.int32)
    failed_text: list[str] = []
    for j, (first, texts) in d.failed.items():
        base = len(failed_text)
        failed_text += texts
        hit = first >= 0
        failed_idx[np.flatnonzero(hit) * m + j] = base + first[hit]
    failed = _dictionary(failed_idx, failed_text or [""])
    columns = {"household": household, "measure": measure, "status": status, "amount": amount,
               "owners": owners, "missing": missing, "failed": failed,
               "kb_version": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n * m, dtype=np.int32)),
                                                            pa.array([kb.version]))}
    if s.due:
        # A clock (houfu.kb.clocks) times an open case: one that applies or cannot be told yet. Listed today, a case
        # is due on its clock's day and not overdue; a later screen (--since) counts from when it was first listed.
        open_ = np.isin(d.status, [STATUSES.index(Status.applies), STATUSES.index(Status.undetermined)])
        days = np.array([(s.due[mid] - dt.date(1970, 1, 1)).days if mid in s.due else -1 for mid in d.measures],
                        dtype=np.int32)
        cell = np.tile(days, n)
        valid = open_.reshape(-1) & (cell >= 0)
        columns["due_on"] = pa.array(cell, type=pa.int32(), mask=~valid).cast(pa.date32())
        columns["overdue"] = pa.array(cell < (s.as_of - dt.date(1970, 1, 1)).days, mask=~valid)
    return pa.table(columns)


#: what a worklist row asks of its department: act (applies, not yet done), verify (applies; whether it is done
#: is unknown), collect (cannot tell yet, on a fact the department's own register holds)
WORK = ("act", "verify", "collect")


def worklist_rows(s: Screener, loaded: Loaded, idx: npt.NDArray[np.intp], d: Decisions, area: str | None
                  ) -> pa.Table | None:
    """The chunk's rows for the departments' worklists: per household and measure a department carries (its
    handler, else the bodies the text names as doing it or leading), where the measure applies and is not
    satisfied (act, or verify where whether it is done is unknown), or cannot be told yet on a fact that department
    holds in its own register (collect). The facts to confirm are the missing paths (verify: all of them; collect:
    those the department holds), joined with ';'."""
    applies, undetermined = STATUSES.index(Status.applies), STATUSES.index(Status.undetermined)
    n = len(idx)
    out: dict[str, list[Any]] = {k: [] for k in ("body", "row", "measure", "action", "facts")}
    for j, mid in enumerate(d.measures):
        carriers = s.carriers(mid)
        if not carriers:
            continue
        col = d.status[:, j]
        is_applies, is_open = col == applies, col == undetermined
        if not (is_applies.any() or is_open.any()):
            continue
        paths: dict[str, int] = {}
        groups = d.missing.get(j, [])
        for _, ps in groups:
            for p in ps:
                paths.setdefault(p, len(paths))
        ordered = sorted(paths, key=_path_order)
        bit = {p: 1 << i for i, p in enumerate(ordered)}
        mask = np.zeros(n, np.int64)
        for rows, ps in groups:
            mask[rows] |= sum(bit[p] for p in ps)
        held = {p: s.kb.registers[r].body if (r := s.holder(p, area)) else "" for p in ordered}
        for body in carriers:
            mine = sum(bit[p] for p in ordered if held[p] == body)
            for action, rows in (("act", np.flatnonzero(is_applies & (mask == 0))),
                                 ("verify", np.flatnonzero(is_applies & (mask != 0))),
                                 ("collect", np.flatnonzero(is_open & (mask & mine != 0)))):
                if not len(rows):
                    continue
                keep = mask[rows] & (mine if action == "collect" else -1)
                patterns, inverse = np.unique(keep, return_inverse=True)
                texts = [";".join(p for p in ordered if int(v) & bit[p]) for v in patterns.tolist()]
                out["body"].append(np.full(len(rows), body, dtype=object))
                out["row"].append(rows)
                out["measure"].append(np.full(len(rows), mid, dtype=object))
                out["action"].append(np.full(len(rows), action, dtype=object))
                out["facts"].append(np.array(texts, dtype=object)[inverse.reshape(-1)])
    if not out["row"]:
        return None
    rows = idx[np.concatenate(out["row"])]
    where = pa.array(rows)
    names = loaded.labels.get("name")
    sites = loaded.labels.get("site")
    return pa.table({
        "body": pa.array(np.concatenate(out["body"]), pa.string()).dictionary_encode(),
        "household": loaded.ids.take(where),
        "name": names.take(where) if names is not None else pa.nulls(len(rows), pa.string()),
        "site": sites.take(where) if sites is not None else pa.nulls(len(rows), pa.string()),
        "measure": pa.array(np.concatenate(out["measure"]), pa.string()).dictionary_encode(),
        "action": pa.array(np.concatenate(out["action"]), pa.string()).dictionary_encode(),
        "facts": pa.array(np.concatenate(out["facts"]), pa.string()),
    })


def _dictionary(indices: npt.NDArray[np.int32], values: list[str]) -> pa.DictionaryArray:
    """A dictionary column with each value once (-1 is null): a repeated dictionary entry makes Parquet's
    dictionary encoder fall back to a slow path (it cost 0.7 s per million rows)."""
    unique: dict[str, int] = {}
    remap = np.array([unique.setdefault(v, len(unique)) for v in values] or [0], dtype=np.int32)
    idx = np.where(indices >= 0, remap[np.maximum(indices, 0)], -1).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(idx, mask=idx < 0), pa.array(list(unique) or [""], pa.string()))


class Writer:
    """Determinations to Parquet, CSV, XLSX or JSON Lines, chunk by chunk."""

    def __init__(self, path: Path, measures: Callable[[], pa.Table | None] | None = None, run: str | None = None):
        #: where the determinations end up: they are written beside it (a partial file of their own,
        #: ``houfu.io.files``) and moved there whole by ``close``, so a run stopped midway (an error, Ctrl-C,
        #: SIGTERM: ``abort``) leaves no file that looks complete, and an earlier file of that name stands until the
        #: new one is done. A run that writes no table (no household screened) writes no file: ``written`` stays
        #: False and an earlier file is left as it was, not taken for this run's.
        self.target = path
        self.path: Path | None = None
        self.kind = path.suffix.lower()
        self.written = False
        #: the run's token (``ScreenTotals.run``), kept in a Parquet file's metadata (``RUN_KEY``): the lists file
        #: written beside it carries the same, so ``--since`` tells its own lists from an earlier run's
        self.run = run
        self._writer: Any = None
        self._book: Any = None
        self.rows = 0
        #: the measures table written beside wide determinations (None: long, nothing beside)
        self.measures = measures

    def __call__(self, table: pa.Table) -> None:
        from houfu.io.files import new_partial

        if self.path is None:
            self.path = new_partial(self.target)
        self.rows += table.num_rows
        if self.kind == ".parquet":
            import pyarrow.parquet as pq

            if self._writer is None:
                # No column statistics: a determinations file is read whole, and they cost a third of the write.
                # Wide: Parquet dictionaries only for the status columns (ids are unique; masks and amounts gain
                # nothing from them, and they cost a fifth of the write).
                wide = [n for n in table.column_names if n.startswith("status:") or n == "kb_version"]
                schema = table.schema
                if self.run is not None:
                    schema = schema.with_metadata({**(schema.metadata or {}), RUN_KEY: self.run.encode()})
                self._writer = pq.ParquetWriter(self.path, schema, compression="lz4", write_statistics=False,
                                                use_dictionary=wide if "kb_version" in wide and len(wide) > 1 else True)
            self._writer.write_table(table)
            return
        flat = _flat(table)
        if self.kind == ".csv":
            import pyarrow.csv as pcsv

            if self._writer is None:
                self._writer = pcsv.CSVWriter(self.path, flat.schema)
            self._writer.write_table(flat)
        elif self.kind == ".jsonl":
            import orjson

            if self._writer is None:
                self._writer = self.path.open("wb")
            for row in flat.to_pylist():
                self._writer.write(orjson.dumps(row) + b"\n")
        elif self.kind == ".xlsx":
            if self._book is None:
                import openpyxl

                self._book = openpyxl.Workbook(write_only=True)
                self._sheet = self._book.create_sheet("determinations")
                self._sheet.append(flat.column_names)
            for row in zip(*(c.to_pylist() for c in flat.columns), strict=True):
                self._sheet.append(list(row))

    def close(self) -> None:
        from houfu.io.files import publish

        if self.path is None:  # no table came: nothing to write, and nothing is moved over an earlier file
            return
        side: Writer | None = None
        try:
            beside = self.measures() if self.measures is not None else None
            if self.kind == ".xlsx" and beside is not None:
                sheet = self._book.create_sheet("measures")
                flat = _flat(beside)
                sheet.append(flat.column_names)
                for row in zip(*(c.to_pylist() for c in flat.columns), strict=True):
                    sheet.append(list(row))
            moves = [(self._finish(), self.target)]
            if beside is not None and self.kind != ".xlsx":
                # The measures table, with the run's token, written and flushed with the determinations, and the
                # two moved into place back to back (publish): never last month's determinations beside this
                # month's measures (whose facts' bit order may differ), nor the other way round.
                side = Writer(measures_path(self.target), run=self.run)
                side(beside)
                moves.insert(0, (side._finish(), side.target))
            publish(*moves)
        except BaseException:
            self.abort()  # the partial files go, whatever stopped the close (a full disk, Ctrl-C)
            if side is not None:
                side.abort()
            raise
        self.written = True

    def _finish(self) -> Path:
        """The partial file complete (its writer closed, or its workbook saved), not yet moved into place."""
        assert self.path is not None
        if self.kind == ".xlsx":
            self._book.save(self.path)
        elif self._writer is not None:
            self._writer.close()
        return self.path

    def abort(self) -> None:
        """Let go of what is written so far without finishing it: the partial file is removed, and an earlier file
        at the target is left as it was."""
        with contextlib.suppress(Exception):
            if self._writer is not None:
                self._writer.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self._writer = None


class Behind:
    """A ``Writer`` fed from this thread and writing on a thread of its own, in order: while one part's Parquet
    is encoded (the encoder lets go of the GIL), the next part is decided. With one worker the machine's other
    core was idle through the write, a tenth of a run (issue 25). At most ``depth`` tables wait; an error in a
    write is raised at the next table or at ``close``. Only for one process: a fork must not copy a writing
    thread (the parallel paths write in their own order)."""

    def __init__(self, writer: Writer, depth: int = 4):
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        self.writer, self.depth = writer, depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="houfu-write")
        self._pending: deque[Future[None]] = deque()

    def __call__(self, table: pa.Table) -> None:
        while self._pending and (self._pending[0].done() or len(self._pending) >= self.depth):
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self.writer, table))

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        except BaseException:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self.writer.abort()
            raise
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.writer.close()

    def abort(self) -> None:
        """The writes still waiting dropped, the one under way let finish, and the partial file removed."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.writer.abort()


def _behind(writer: Writer | None) -> Writer | Behind | None:
    """Parquet written behind the deciding (``Behind``); the other formats are written in Python, which a
    thread would only slow."""
    return Behind(writer) if writer is not None and writer.kind == ".parquet" else writer


def _writer(output: Path | None, screener: Screener, entity: str, run: str | None = None) -> Writer | None:
    """The determinations' writer; for the wide form, with the measures table to write beside them."""
    if output is None:
        return None
    return Writer(output, None if screener.long else lambda: screener.shape(entity).measures_table(), run)


def _flat(table: pa.Table) -> pa.Table:
    """Text columns for CSV, XLSX and JSON Lines: dictionaries decoded, missing facts joined with ';'."""
    import pyarrow.compute as pc

    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        if pa.types.is_list(col.type):  # missing paths (long), a measure's facts (the measures table)
            col = pc.binary_join(col, ";")
        cols[name] = col
    return pa.table(cols)


def chunks(n: int, size: int = CHUNK) -> Iterator[npt.NDArray[np.intp]]:
    for start in range(0, n, size):
        yield np.arange(start, min(n, start + size), dtype=np.intp)


#: What forked workers share with the parent (copy-on-write): set just before the pool starts.
_JOB: tuple[KB, Evaluator, Loaded, dt.date, bool, bool, dict[str, dt.date] | None, bool, bool] | None = None


def _work(rows: npt.NDArray[np.intp]) -> tuple[list[pa.Table], list[pa.Table], list[pa.Table], ScreenTotals]:
    """One chunk in a worker process: its determinations, data requests and worklist rows (sent back as Arrow) and
    its totals."""
    assert _JOB is not None
    kb, evaluator, loaded, as_of, write, ask, due, listing, long = _JOB
    listed: list[pa.Table] = []
    screener = _WORKER_SCREENER.get(id(loaded)) or _WORKER_SCREENER.setdefault(
        id(loaded), Screener(kb, evaluator, as_of, due, long=long))
    screener.worklist = listed.append if listing else None
    tables: list[pa.Table] = []
    totals = ScreenTotals(loaded.entity, as_of, kb.version)
    asked: list[pa.Table] = []
    screener.chunk(loaded, rows, tables.append if write else None, totals, asked.append if ask else None)
    return tables, asked, listed, totals


_WORKER_SCREENER: dict[int, Screener] = {}


def screen(kb: KB, evaluator: Evaluator, loaded: Loaded, as_of: dt.date, output: Path | None,
           progress: Callable[[int], None] | None = None, workers: int = 1,
           request: Callable[[pa.Table], None] | None = None, due: dict[str, dt.date] | None = None,
           worklist: Callable[[pa.Table], None] | None = None, long: bool = False) -> ScreenTotals:
    """Screen a loaded caseload; every input row is screened or rejected, and the totals say which.

    With ``workers`` > 1 the chunks are decided in forked processes (they share the loaded caseload
    copy-on-write) and written here, in order, as they come back."""
    global _JOB
    started = time.perf_counter()
    totals = ScreenTotals(loaded.entity, as_of, kb.version, rows_in=loaded.rows_in,
                          rejected=loaded.rows_in - loaded.n, errors=list(loaded.errors))
    screener = Screener(kb, evaluator, as_of, due, worklist, long)
    writer = _writer(output, screener, loaded.entity, totals.run)
    parts = list(chunks(loaded.n, CHUNK if workers <= 1 else max(MIN_PART, min(CHUNK, loaded.n // (4 * workers) + 1))))
    single = workers <= 1 or len(parts) <= 1
    out = _behind(writer) if single else writer
    try:
        if single:
            for rows in parts:
                screener.chunk(loaded, rows, out, totals, request)
                if progress is not None:
                    progress(len(rows))
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            _JOB = (kb, evaluator, loaded, as_of, writer is not None, request is not None, due, worklist is not None,
                    long)
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                     initializer=_quiet_worker) as pool:
                for rows, (tables, asked, listed, part) in zip(parts, pool.map(_work, parts), strict=True):
                    for t in listed:
                        if worklist is not None:
                            worklist(t)
                    for t in tables:
                        if writer is not None:
                            writer(t)
                    for t in asked:
                        if request is not None:
                            request(t)
                    totals.merge(part)
                    if progress is not None:
                        progress(len(rows))
    except BaseException:
        _JOB = None
        if out is not None:
            out.abort()
        raise
    _JOB = None
    if out is not None:
        out.close()
    totals.written = writer is not None and writer.written
    totals.seconds = time.perf_counter() - started
    return totals


class _Rows:
    """Rows of a Parquet file read in order, in slices of any length (a buffer over its batches), from row
    ``start`` on (the row groups before it are not read; the rest of its own group is read and dropped).
    ``names_counted``: the unique text columns (ids, names) were counted already, by whoever split the file."""

    def __init__(self, spec: ColumnSpec, path: Path | None, level: str, limits: TableLimits = LIMITS,
                 start: int = 0, names_counted: bool = False):
        self.batches: Iterator[pa.RecordBatch] | None = None
        self.buffer: list[pa.RecordBatch] = []
        self.buffered = 0
        self.schema: pa.Schema | None = None
        self.budget: TextBudget | None = None
        if path is not None:
            from houfu.io.tables import _header_map, _strings

            f = check_parquet(path, limits)
            mapping, _ = _header_map(spec.kb, level, f.schema_arrow.names, spec)
            # Only the columns a field maps to; labels (low cardinality) as dictionaries, ids and names not: a
            # dictionary of unique strings costs more than the strings (each batch carries the page's dictionary).
            # The text of every column is counted before it is decoded (a file can repeat one long value for
            # every row): the labels' batch by batch, the household ids when _household_column reads them, the
            # rest (names) in a pass of their own, as dictionaries.
            unique = {"id", "household", "name"}
            strings = [c for c in _strings(f.schema_arrow) if c in mapping]
            labels = [c for c in strings if mapping[c] not in unique]
            self.budget = TextBudget(path, limits)
            read = {"id" if level == "household" else "household"}
            if not names_counted:
                for c in strings:
                    if c not in labels and mapping[c] not in read:
                        for b in _parquet(path, [c]).iter_batches(batch_size=65_536, columns=[c]):
                            self.budget.check(b)
            f = _parquet(path, labels)
            columns = [c for c in f.schema_arrow.names if c in mapping]
            self.schema = pa.schema([f.schema_arrow.field(c) for c in columns])
            groups: list[int] = []
            skip, seen = start, 0
            for g in range(f.metadata.num_row_groups):
                rows = f.metadata.row_group(g).num_rows
                if seen + rows > start or (not groups and g == f.metadata.num_row_groups - 1):
                    if not groups:
                        skip = start - seen
                    groups.append(g)
                seen += rows
            # Decoded on the reading thread, not Arrow's pool: the two cores are busy deciding and writing, and
            # what the decoding frees goes back to this thread's heap (at a million households, 15 MB less at
            # the peak and no slower; issue 25).
            self.batches = f.iter_batches(batch_size=65_536, columns=columns, row_groups=groups, use_threads=False)
            if skip > 0:
                budget, self.budget = self.budget, None  # rows before ``start`` are another part's to count
                self.take(skip)
                self.budget = budget
                for b in self.buffer:  # the rest of the first batch is this part's
                    budget.check(b)

    def take(self, n: int) -> pa.Table | None:
        if self.batches is None:
            return None
        while self.buffered < n:
            b = next(self.batches, None)
            if b is None:
                break
            if self.budget is not None:
                self.budget.check(b)
            self.buffer.append(b)
            self.buffered += b.num_rows
        table = pa.Table.from_batches(self.buffer, schema=self.schema) if self.buffer else \
            pa.Table.from_batches([], schema=self.schema)
        head, rest = table.slice(0, n), table.slice(n)
        self.buffer = rest.to_batches()
        self.buffered = rest.num_rows
        return head


def _parquet(path: Path, dictionaries: list[str]) -> Any:
    """A Parquet file to read in order, a buffer's worth at a time. pyarrow reads a row group's column chunks
    whole before its first batch (``pre_buffer``), so what a reader holds grew with the row group: a million
    households' files, one and four row groups, held 29 MB more than 100,000 households' (issue 25)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path, read_dictionary=dictionaries, pre_buffer=False, buffer_size=1 << 16)


def _id_column(spec: ColumnSpec, path: Path, level: str, limits: TableLimits = LIMITS) -> str:
    """The name of a Parquet file's household id column: the households' own ids, or the household each member or
    business row names."""
    from houfu.io.tables import TableError, _field, _header_map, refuse_nested

    schema = check_parquet(path, limits).schema_arrow
    mapping, _ = _header_map(spec.kb, level, schema.names, spec)
    refuse_nested(path, schema, mapping)
    name = "id" if level == "household" else "household"
    col = _field(mapping, name)
    if col is None:
        raise TableError(f"{path}: -: no household id column (户编号 or {name})")
    return col


def _household_column(spec: ColumnSpec, path: Path, limits: TableLimits = LIMITS) -> pa.Array:
    """The households' ids alone (a members or businesses file's are read batch by batch, by
    ``_household_positions``), read as dictionaries so their text is counted before it is decoded: every batch
    counted before any is decoded (a file over the budget only in all is refused before it costs its text); then
    each decoded on its own: the groups' dictionaries of unique ids were joined into one first, which took 1.8 s
    and 280 MB of Arrow memory for two million households (issue 25). On this thread (not Arrow's pool), so what
    it frees goes back with this thread's pool.

    Reading them as plain text would be a tenth of the time (Arrow hashes every value of a page written plain into
    the dictionary), but no bound on a plain read's text could be told from a file without trusting what the file
    says of itself: the reviews of issue 25 made footers and pages (front coding under a footer that denies it,
    long values in many small pages) that spelled gigabytes in one batch of a plain read (docs/performance.md)."""
    from houfu.io.tables import TableError

    col = _id_column(spec, path, "household", limits)
    budget = TextBudget(path, limits)
    batches = []
    try:
        for batch in _parquet(path, [col]).iter_batches(batch_size=1 << 20, columns=[col], use_threads=False):
            budget.check(batch)
            batches.append(batch)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"{path}: -: not a Parquet file ({exc})") from None
    pieces: list[pa.Array] = []
    while batches:  # each dictionary let go of as it is decoded (a few batches: a million rows each)
        pieces.append(_text(batches.pop(0).column(0), path, col))
    if not pieces:
        return pa.array([], pa.string())
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


def _household_positions(spec: ColumnSpec, path: Path, level: str, ids: pa.Array, limits: TableLimits = LIMITS
                         ) -> npt.NDArray[np.intp]:
    """Each row's household position in ``ids`` (-1: none) for a members or businesses file, read batch by batch
    as dictionaries (each batch's text counted before it is decoded): three million member rows are never joined
    into one dictionary, which cost over a second for a million households."""
    from houfu.io.tables import TableError

    col = _id_column(spec, path, level, limits)
    budget = TextBudget(path, limits)
    batches: list[pa.Array] = []
    try:
        for batch in _parquet(path, [col]).iter_batches(batch_size=1 << 20, columns=[col], use_threads=False):
            budget.check(batch)
            batches.append(_text(batch.column(0), path, col, keep_dictionary=True))
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"{path}: -: not a Parquet file ({exc})") from None
    return _positions(ids, batches)


def _text(values: pa.Array, path: Path, col: str, keep_dictionary: bool = False) -> pa.Array:
    """An id column's values trimmed, a blank as none (``_arr``); bytes that are not UTF-8 are refused."""
    from houfu.io.tables import TableError, _arr

    try:
        values.validate(full=True)  # every value UTF-8: Arrow's Parquet reader does not check
        return _arr(pa.table({col: values}), col, keep_dictionary)
    except pa.ArrowInvalid as exc:
        raise TableError(f"{path}: {col}: not UTF-8 text ({exc})") from None


def _positions(ids: pa.Array, columns: list[pa.Array]) -> npt.NDArray[np.intp]:
    """Each row's household place in ``ids`` (-1: none) over the batches of one column, working on each batch's
    distinct values. A row placed here may name a household whose id is repeated: the caller maps each place to
    its id's first row (``_first_row_global``), which is where a lookup in ``ids`` would have found it.

    The values are placed in the cheapest way that is exact (issue 25; a million households, their 3.3M members
    and 7,117 businesses):

    - a members file in the households' order lists each batch's values in that order, so they are checked
      against the same stretch of ``ids`` in one comparison and placed by position (0.3 s → 4 ms);
    - a few values (a businesses file) are looked for in ``ids`` the other way round, hashing only them
      (0.23 s → 16 ms);
    - otherwise the households' ids are hashed once and every batch's values looked up in one call."""
    coded = [_coded(c) for c in columns]
    if not coded:
        return np.zeros(0, np.intp)
    dictionaries = [values for values, _ in coded]
    at = _aligned(ids, dictionaries)
    if at is None:
        values = pa.concat_arrays(dictionaries)
        if 8 * len(values) < len(ids):
            at = _looked_up_backwards(ids, values)
        else:
            # A blank id (null) is no household's, not the place of a household with a blank id (skip_nulls).
            at = pc.index_in(values, value_set=ids, skip_nulls=True).fill_null(-1).to_numpy(
                zero_copy_only=False).astype(np.intp)
    at = np.append(at, -1)  # the last place is -1, for the rows with no id at all
    # Each batch's places written straight into the whole column's: a list of them joined at the end held the 3.3M
    # members' places twice (26 MB each) at the top of the pre-pass's memory (issue 25).
    out = np.empty(sum(len(c) for c in columns), dtype=np.intp)
    start = done = 0
    for values, codes in coded:
        pick = codes.astype(np.intp)
        pick += start
        pick[codes < 0] = len(at) - 1
        del codes
        np.take(at, pick, out=out[done:done + len(pick)], mode="clip")  # in range: no buffer for out
        done += len(pick)
        start += len(values)
    return out


def _coded(column: pa.Array) -> tuple[pa.Array, npt.NDArray[np.integer[Any]]]:
    """A batch's distinct values (a dictionary's, or made) and each row's place among them (-1: no value)."""
    enc = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    return enc.dictionary.cast(pa.string()), enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)


def _aligned(ids: pa.Array, dictionaries: list[pa.Array]) -> npt.NDArray[np.intp] | None:
    """The places of the batches' values when each batch's values are the next stretch of ``ids`` (a batch may
    begin with the household the one before ended on); None when they are not. A household with no members, a
    member of no household or a file out of order breaks the stretch, and the values are then looked up."""
    places: list[npt.NDArray[np.intp]] = []
    start = 0
    for d in dictionaries:
        if start and len(d) and d[0].equals(ids[start - 1]):
            start -= 1
        if start + len(d) > len(ids) or d.null_count:
            return None
        # A null id in the stretch compares as null, which `all` (skip_nulls=False) does not count as true.
        if len(d) and pc.all(pc.equal(d, ids.slice(start, len(d))), skip_nulls=False).as_py() is not True:
            return None
        places.append(np.arange(start, start + len(d), dtype=np.intp))
        start += len(d)
    return np.concatenate(places) if places else np.zeros(0, np.intp)


def _looked_up_backwards(ids: pa.Array, values: pa.Array) -> npt.NDArray[np.intp]:
    """The first place in ``ids`` of each of a few ``values`` (-1: none), hashing the values, not the ids."""
    enc = pc.dictionary_encode(values)  # the same id can end one batch and begin the next
    if not len(enc.dictionary):  # every value blank (read as null): no row names a household
        return np.full(len(values), -1, dtype=np.intp)
    found = pc.index_in(ids, value_set=enc.dictionary, skip_nulls=True).fill_null(-1).to_numpy(
        zero_copy_only=False).astype(np.intp)
    rows = np.flatnonzero(found >= 0)[::-1]  # backwards, so an id's first row is the one written last
    first = np.full(len(enc.dictionary), -1, dtype=np.intp)
    first[found[rows]] = rows
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    return np.where(codes >= 0, first[np.maximum(codes, 0)], -1)


def _ranges(positions: npt.NDArray[np.intp], cuts: npt.NDArray[np.intp]) -> npt.NDArray[np.intp] | None:
    """Row boundaries in a members or businesses file for households cut at ``cuts``, when its rows come in
    the households' order (an orphan row goes with the household before it); None when they do not.

    Without copies where every row names a household (the usual file): a copy, a carried index and a difference
    of the 3.3M members' places of a million households were 100 MB of the run's peak (issue 25)."""
    valid = positions >= 0
    filled = positions
    if not valid.all() and valid.any():
        # Carry the last known household over orphan rows, so every row falls in one part.
        idx = np.where(valid, np.arange(len(positions)), 0)
        np.maximum.accumulate(idx, out=idx)
        filled = np.where(valid[idx], positions[idx], -1)
        del idx
    del valid
    if len(filled) > 1 and bool(np.any(filled[1:] < filled[:-1])):
        return None
    return np.searchsorted(filled, cuts, side="left").astype(np.intp)


@dataclass
class _Stream:
    """What every part of a streamed Parquet caseload shares: set before the worker processes fork."""

    kb: KB
    evaluator: Evaluator
    path: Path
    members: Path | None
    businesses: Path | None
    as_of: dt.date
    spec: ColumnSpec
    jurisdiction: str | None
    limits: TableLimits
    due: dict[str, dt.date] | None
    long: bool
    cuts: npt.NDArray[np.intp]
    ranges: dict[str, npt.NDArray[np.intp]]
    dups: list[dict[int, int]]
    #: the members or businesses file not in the households' order, split by part: key -> (folder, schema)
    regrouped: dict[str, tuple[Path, pa.Schema]] = field(default_factory=dict)
    write: bool = False
    ask: bool = False
    listing: bool = False
    scratch: Path | None = None


@dataclass
class _Part:
    """One part's results: its totals, and (from a worker) what it read, said and handed on."""

    totals: ScreenTotals
    unresolved_sites: Counter[str] = field(default_factory=Counter)
    filled: Counter[str] = field(default_factory=Counter)
    unknown: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    notes: list[Note] = field(default_factory=list)
    item_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    text_bytes: dict[str, int] = field(default_factory=dict)
    asked: list[pa.Table] = field(default_factory=list)
    listed: list[pa.Table] = field(default_factory=list)


class _Reader:
    """A span of a streamed caseload's parts, read in turn from the three files."""

    def __init__(self, job: _Stream, first: int, counted: bool = False):
        a = int(job.cuts[first])
        start = {k: int(r[first]) for k, r in job.ranges.items()}
        self.main = _Rows(job.spec, job.path, "household", job.limits, a, counted)
        self.members = _Rows(job.spec, None if "members" in job.regrouped else job.members, "member", job.limits,
                             start.get("members", 0), counted)
        self.businesses = _Rows(job.spec, None if "businesses" in job.regrouped else job.businesses, "entity",
                                job.limits, start.get("businesses", 0), counted)

    def used(self) -> dict[str, int]:
        return {str(r.budget.path): r.budget.used for r in (self.main, self.members, self.businesses)
                if r.budget is not None}


_Raw = tuple[pa.Table, pa.Table | None, pa.Table | None]

#: the column a regrouped file's rows carry their place in the file in (``_regroup``)
_ROW = "__houfu_row"


def _read_part(job: _Stream, reader: _Reader, k: int) -> _Raw:
    """Part ``k``'s rows of the three files, as read (the parts are read in order)."""
    ranges = job.ranges
    table = reader.main.take(int(job.cuts[k + 1]) - int(job.cuts[k]))
    assert table is not None
    got: list[pa.Table | None] = []
    for key, rows in (("members", reader.members), ("businesses", reader.businesses)):
        if key in job.regrouped:
            got.append(_regrouped_part(*job.regrouped[key], k))
        elif key in ranges:
            got.append(rows.take(int(ranges[key][k + 1]) - int(ranges[key][k])))
        else:
            got.append(None)
    return table, got[0], got[1]


def _load_part(job: _Stream, reader: _Reader, k: int) -> Loaded:
    """Part ``k`` read from the three files (in order: the parts are read in turn) and loaded."""
    from houfu.io.tables import load_tables

    table, mt, et = _read_part(job, reader, k)
    ranges = job.ranges
    bases, rows = [int(job.cuts[k]), 0, 0], [None, None, None]
    for i, (key, t) in enumerate((("members", mt), ("businesses", et)), start=1):
        if key in ranges:
            bases[i] = int(ranges[key][k])
        elif t is not None and key in job.regrouped:  # each row numbered as its file numbers it
            rows[i] = t.column(_ROW).to_numpy() + 2
    if mt is not None and "members" in job.regrouped:
        mt = mt.drop_columns([_ROW])
    if et is not None and "businesses" in job.regrouped:
        et = et.drop_columns([_ROW])
    return load_tables(job.kb, table, job.path, mt, job.members, et, job.businesses, "household",
                       (bases[0], bases[1], bases[2]), job.dups[k], rows=(rows[0], rows[1], rows[2]), spec=job.spec,
                       jurisdiction=job.jurisdiction)


def _regroup(spec: ColumnSpec, path: Path, level: str, limits: TableLimits, pos: npt.NDArray[np.intp],
             cuts: npt.NDArray[np.intp], folder: Path) -> pa.Schema:
    """A members or businesses file not in the households' order, split by part into Arrow streams in
    ``folder`` (one per part, ``{k}.arrows``), each row with its place in the file (``_ROW``): read batch by batch
    as a file in order is (its text counted as it is read), so memory follows the batch, not the file. A file
    so listed was read whole, a million households' 3.3M members in 9 s and 1.95 GB (issue 25). Rows naming no
    household go with the first part, which reports them. Returns the streams' schema."""
    folder.mkdir()
    part_of = np.searchsorted(cuts, pos, side="right") - 1  # -1 for a row naming no household
    np.maximum(part_of, 0, out=part_of)
    rows = _Rows(spec, path, level, limits)
    schema = (rows.schema or pa.schema([])).append(pa.field(_ROW, pa.int64()))
    writers: dict[int, Any] = {}
    start = 0
    try:
        while True:
            t = rows.take(1 << 16)
            if t is None or t.num_rows == 0:
                break
            n = t.num_rows
            where = part_of[start:start + n]
            order = np.argsort(where, kind="stable")
            ks = where[order]
            t = t.take(pa.array(order)).append_column(_ROW, pa.array(order + start, pa.int64()))
            edges = (np.flatnonzero(np.diff(ks)) + 1).tolist()
            for a, b in zip([0, *edges], [*edges, n], strict=True):
                k = int(ks[a])
                if k not in writers:
                    # lz4: a million households' members take 118 MB, not 327 (a /tmp in memory holds them),
                    # for about 0.4 s more (5.3-5.5 s against 4.9-5.2).
                    writers[k] = pa.ipc.new_stream(str(folder / f"{k}.arrows"), schema,
                                                   options=pa.ipc.IpcWriteOptions(compression="lz4"))
                writers[k].write_table(t.slice(a, b - a))
            start += n
    finally:
        for w in writers.values():
            w.close()
    return schema


def _regrouped_part(folder: Path, schema: pa.Schema, k: int) -> pa.Table:
    """Part ``k``'s rows of a regrouped file (``_regroup``), in the file's order; its stream is deleted once
    read."""
    f = folder / f"{k}.arrows"
    if not f.exists():
        return schema.empty_table()
    with pa.OSFile(str(f)) as source:
        table = pa.ipc.open_stream(source).read_all()
    f.unlink()
    return table


def _stream_part(screener: Screener, loaded: Loaded, k: int, totals: ScreenTotals,
                 writer: Callable[[pa.Table], None] | None, request: Callable[[pa.Table], None] | None) -> _Part:
    """Decide part ``k`` (read and loaded: ``_load_part``) into ``totals``; its determinations go to
    ``writer``."""
    part = _Part(totals, loaded.counts.unresolved_sites, loaded.counts.filled, loaded.unknown_values,
                 loaded.notes if k == 0 else [])
    for key in ("members", "businesses"):  # (rows read, rows kept) of the files given
        if key in loaded.item_rows:
            part.item_rows[key] = loaded.item_rows[key]
    totals.rows_in += loaded.rows_in
    totals.rejected += loaded.rows_in - loaded.n
    totals.errors.extend(loaded.errors)
    # Into the totals directly: a list already full takes nothing from this part.
    screener.chunk(loaded, np.arange(loaded.n, dtype=np.intp), writer, totals, request)
    totals.parts += 1
    return part


#: the streamed caseload a worker process reads its span of (set just before the pool forks)
_STREAM: _Stream | None = None


def _stream_span(span: tuple[int, int]) -> int:
    """A worker's span of parts, in order: each part's determinations written to an Arrow file of its own in
    the run's scratch folder and its results pickled beside it, each renamed into place when complete (the
    parent takes them in order as they appear). Nothing is shared but the files read."""
    import pickle

    import pyarrow.feather as feather

    job = _STREAM
    assert job is not None and job.scratch is not None
    screener = Screener(job.kb, job.evaluator, job.as_of, job.due, long=job.long)
    reader = _Reader(job, span[0], counted=True)  # the parent counted the names' text before it split the files
    for k in range(*span):
        tables: list[pa.Table] = []
        part = _Part(ScreenTotals("household", job.as_of, job.kb.version))
        screener.worklist = part.listed.append if job.listing else None
        got = _stream_part(screener, _load_part(job, reader, k), k, part.totals,
                           tables.append if job.write else None,
                           part.asked.append if job.ask else None)
        got.asked, got.listed, got.text_bytes = part.asked, part.listed, reader.used()
        if tables:
            tmp = job.scratch / f"part-{k}.arrow.tmp"
            feather.write_feather(pa.concat_tables(tables), tmp, compression="uncompressed")
            tmp.rename(job.scratch / f"part-{k}.arrow")
        tmp = job.scratch / f"part-{k}.pickle.tmp"
        tmp.write_bytes(pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.rename(job.scratch / f"part-{k}.pickle")
        pa.default_memory_pool().release_unused()  # as one process does after each part (screen_stream)
    return span[1] - span[0]


def screen_stream(kb: KB, evaluator: Evaluator, path: Path, members: Path | None, businesses: Path | None,
                  as_of: dt.date, output: Path | None, progress: Callable[[int], None] | None = None,
                  spec: ColumnSpec | None = None, jurisdiction: str | None = None, limits: TableLimits = LIMITS,
                  said: list[Note] | None = None, request: Callable[[pa.Table], None] | None = None,
                  due: dict[str, dt.date] | None = None, worklist: Callable[[pa.Table], None] | None = None,
                  long: bool = False, workers: int = 1) -> ScreenTotals:
    """A Parquet caseload in parts of CHUNK households, with their members and businesses, so memory follows
    the part, not the caseload. Only the id columns are read whole, to find duplicates across parts and each
    part's rows in the other files. A members or businesses file not in the households' order is split by part
    first (``_regroup``).

    With ``workers`` > 1 the parts are cut into that many spans of consecutive parts, each read, decided and
    written (as Arrow) by a process of its own; this process takes the parts in order as they are done, writes
    the determinations and adds up the totals, so the result is the same as with one. With one process, the next
    part is read and loaded, and the last one's determinations written, on threads of their own while a part is
    decided."""
    from houfu.io.tables import _count_notes, _Counts

    spec = spec or spec_for(kb)
    started = time.perf_counter()

    # Where Arrow's jemalloc pool is the one in use (ARROW_DEFAULT_MEMORY_POOL=jemalloc), give freed memory back at
    # once, so memory follows the part. The wheels' default pool is mimalloc, which this does not touch: at a
    # million households jemalloc so peaks at 355 MB against mimalloc's 500, for about 3 s more system time
    # (docs/performance.md). A build without jemalloc has no knob.
    with contextlib.suppress(NotImplementedError, pa.ArrowNotImplementedError):
        pa.jemalloc_set_decay_ms(0)
    arrow_pool = pa.default_memory_pool()
    # The regrouped files' parts (``_regroup``): removed when the run ends, whatever ends it.
    regroup: tempfile.TemporaryDirectory[str] | None = None
    try:
        ids = _household_column(spec, path, limits)
        # Arrow's pool keeps what it frees: the id columns' reading and hashing below would otherwise stack up as the
        # run's peak (a million households' pre-pass once peaked at 500 MB, above the parts that follow), so each step
        # gives back what the one before freed (issue 25).
        arrow_pool.release_unused()
        n = len(ids)
        cuts = np.arange(0, n + CHUNK, CHUNK, dtype=np.intp)
        cuts[-1] = n
        cuts = np.unique(np.minimum(cuts, n))
        ranges = {}
        regrouped: dict[str, tuple[Path, pa.Schema]] = {}
        import tempfile
        from concurrent.futures import ThreadPoolExecutor

        # The duplicates are found on a thread of their own while the other files' rows are placed (Arrow's hashing
        # lets go of the GIL): each is a few tenths of a second for a million households, before any part is read.
        with ThreadPoolExecutor(1, thread_name_prefix="houfu-read") as pool:
            firsts = pool.submit(_first_rows_repeated, ids)
            for key, other, level in (("members", members, "member"), ("businesses", businesses, "entity")):
                if other is None:
                    continue
                pos = _household_positions(spec, other, level, ids, limits)
                arrow_pool.release_unused()
                # A row names its id's first household, as a lookup in the ids finds it (``_positions``): only where an
                # id is repeated does that move a row, and the mapping costs two copies of the rows' places (26 MB each
                # for 3.3M members), so it is made only then.
                first, repeated = firsts.result()
                if repeated:
                    placed = pos >= 0
                    np.maximum(pos, 0, out=pos)
                    pos = first[pos]
                    pos[~placed] = -1
                    del placed
                r = _ranges(pos, cuts)
                if r is None:
                    # Not in the households' order: its rows split by part into files of their own, read as each
                    # part is.
                    if regroup is None:
                        regroup = tempfile.TemporaryDirectory(prefix="houfu-regroup-")
                    folder = Path(regroup.name) / key
                    regrouped[key] = (folder, _regroup(spec, other, level, limits, pos, cuts, folder))
                    del pos
                    arrow_pool.release_unused()
                    continue
                # Every row is read by some part, to be joined or reported: the rows before the first household's
                # (no id, or an id of no household) go with the first part, the rows after the last with the last.
                r[0], r[-1] = 0, len(pos)
                ranges[key] = r
                del pos  # only the boundaries are kept
            first, _ = firsts.result()
        del ids
        dups = []
        for k in range(len(cuts) - 1):
            a, b = int(cuts[k]), int(cuts[k + 1])
            earlier = np.flatnonzero(first[a:b] < a)
            dups.append({int(i): int(first[a + i]) + 2 for i in earlier.tolist()})
        del first
        # The pre-pass's Arrow memory (the ids read as dictionaries and hashed) given back before the parts are read:
        # the pool keeps what it freed, so it stayed in the run's peak on top of the parts' own (issue 25).
        arrow_pool.release_unused()
        _trim_heap()
        job = _Stream(kb, evaluator, path, members, businesses, as_of, spec, jurisdiction, limits, due, long, cuts,
                      ranges, dups, regrouped)
        screener = Screener(kb, evaluator, as_of, due, worklist, long)
        totals = ScreenTotals("household", as_of, kb.version)
        single = workers <= 1 or len(cuts) < 3
        writer = _writer(output, screener, "household", totals.run)
        out = _behind(writer) if single else writer
        item_rows = {"members": [0, 0], "businesses": [0, 0]}
        counts, unknown = _Counts(), Counter[tuple[str, str, str]]()
        deadline = Deadline(limits.seconds)
        parts = len(cuts) - 1

        def take(part: _Part) -> None:
            counts.unresolved_sites.update(part.unresolved_sites)
            counts.filled.update(part.filled)
            unknown.update(part.unknown)
            if said is not None and part.notes:
                said.extend(part.notes)  # the columns' fates: the same for every part (the first part's)
            for key, (read, kept) in part.item_rows.items():
                item_rows[key][0] += read
                item_rows[key][1] += kept

        try:
            if single:
                reader = _Reader(job, 0)
                # The next part is read and loaded on a thread of its own while this one is decided (Parquet's
                # decoding and Arrow's kernels let go of the GIL); a read's error is raised when its part is taken,
                # as it was when read in turn.
                with ThreadPoolExecutor(1, thread_name_prefix="houfu-read") as ahead:
                    nxt = ahead.submit(_load_part, job, reader, 0) if parts else None
                    for k in range(parts):
                        deadline.check(str(path))
                        assert nxt is not None
                        got = nxt.result()
                        if k + 1 < parts:
                            nxt = ahead.submit(_load_part, job, reader, k + 1)
                        take(_stream_part(screener, got, k, totals, out, request))
                        # What the parts before freed goes back, not on top of the next (issue 25). Only the deciding
                        # thread's own heap: mimalloc collects the calling thread's, and the reading thread's pages go
                        # back when it frees them.
                        arrow_pool.release_unused()
                        if progress is not None:
                            progress(int(cuts[k + 1] - cuts[k]))
            else:
                _stream_parallel(job, min(workers, parts), screener, totals, writer, request, worklist, take, progress,
                                 deadline)
        except BaseException:
            if out is not None:
                out.abort()
            raise
        if out is not None:
            out.close()
        totals.written = writer is not None and writer.written
    finally:
        if regroup is not None:
            regroup.cleanup()
    totals.seconds = time.perf_counter() - started
    totals.item_rows = {k: (v[0], v[1]) for k, v in item_rows.items() if (members if k == "members" else businesses)}
    if said is not None:
        said += _count_notes(spec, counts, unknown, jurisdiction)
    return totals


def _stream_parallel(job: _Stream, workers: int, screener: Screener, totals: ScreenTotals,
                     writer: Writer | None, request: Callable[[pa.Table], None] | None,
                     worklist: Callable[[pa.Table], None] | None, take: Callable[[_Part], None],
                     progress: Callable[[int], None] | None, deadline: Deadline) -> None:
    """The parts in ``workers`` spans of consecutive parts, one process each (forked: the knowledge base and the
    compiled programs come with it; each reads its own rows). The parts are taken here in order."""
    global _STREAM
    import multiprocessing
    import pickle
    import shutil
    import tempfile
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    from houfu.io.limits import LimitError

    parts = len(job.cuts) - 1
    bounds = np.linspace(0, parts, workers + 1).round().astype(int).tolist()
    spans = [(bounds[i], bounds[i + 1]) for i in range(workers) if bounds[i] < bounds[i + 1]]
    scratch = Path(tempfile.mkdtemp(prefix="houfu-screen-"))
    job.scratch, job.write, job.ask, job.listing = scratch, writer is not None, request is not None, \
        worklist is not None
    # The names' and ids' text is counted here once, before the files are split (as one process would).
    names: dict[str, int] = {}
    for p, level in ((job.path, "household"), (job.members, "member"), (job.businesses, "entity")):
        if p is not None and (p == job.members and "members" in job.regrouped
                              or p == job.businesses and "businesses" in job.regrouped):
            continue  # counted as it was regrouped, and read from its parts
        budget = _Rows(job.spec, p, level, job.limits).budget
        if budget is not None:
            names[str(p)] = budget.used
    used: dict[str, list[int]] = {}  # file -> text bytes counted by each span so far
    _STREAM = job
    try:
        with ProcessPoolExecutor(len(spans), mp_context=multiprocessing.get_context("fork"),
                                 initializer=_quiet_worker) as pool:
            try:
                futures = [pool.submit(_stream_span, span) for span in spans]
                span_of = [i for i, (a, b) in enumerate(spans) for _ in range(a, b)]
                for k in range(parts):
                    done = scratch / f"part-{k}.pickle"
                    while not done.exists():
                        finished, _ = wait([futures[span_of[k]]], timeout=0.005, return_when=FIRST_EXCEPTION)
                        if finished:
                            futures[span_of[k]].result()  # raises the worker's error, if any
                            if not done.exists():
                                raise RuntimeError(f"a worker ended without part {k}")
                        deadline.check(str(job.path))
                    part: _Part = pickle.loads(done.read_bytes())
                    done.unlink()
                    for file, n in part.text_bytes.items():
                        mine = used.setdefault(file, [0] * len(spans))
                        mine[span_of[k]] = n
                        if names.get(file, 0) + sum(mine) > job.limits.parquet_text_bytes:
                            raise LimitError(f"{file}: -: more than {job.limits.parquet_text_bytes:,} bytes of text "
                                             "once decoded; at most that much is read")
                    arrow = scratch / f"part-{k}.arrow"
                    if writer is not None and arrow.exists():
                        with pa.memory_map(str(arrow)) as source:
                            writer(pa.ipc.open_file(source).read_all())
                        arrow.unlink()
                    for t in part.listed:
                        if worklist is not None:
                            worklist(t)
                    for t in part.asked:
                        if request is not None:
                            request(t)
                    totals.merge(part.totals)
                    totals.parts += part.totals.parts
                    take(part)
                    if progress is not None:
                        progress(int(job.cuts[k + 1] - job.cuts[k]))
            except BaseException:
                # An error, Ctrl-C or SIGTERM here: the scratch folder goes before the pool waits for its
                # workers, so each stops at its next part (its write fails) rather than deciding its whole span.
                shutil.rmtree(scratch, ignore_errors=True)
                raise
    finally:
        _STREAM = None
        shutil.rmtree(scratch, ignore_errors=True)


def _quiet_worker() -> None:
    """A worker process leaves Ctrl-C and SIGTERM to its parent, which stops the run (a terminal or a service
    manager signals the whole group: each worker printed its own traceback)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing). The pre-pass's
    arrays (a million households' ids hashed, 3.3 million members placed) leave about 25 MB free in glibc's heap,
    resident until reused: trimmed once before the parts, a million households peak 10 MB lower (issue 25). Not
    after each part: that was 10% slower for the same peak."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc (Windows' CDLL takes no None)
        return
    trim(0)


def _first_row_global(ids: pa.Array) -> npt.NDArray[np.intp]:
    """Each row's id's first row, a row with no id its own."""
    return _first_rows_repeated(ids)[0]


def _first_rows_repeated(ids: pa.Array) -> tuple[npt.NDArray[np.intp], bool]:
    """Each row's id's first row (a row with no id its own), and whether any id is repeated (only then does a
    row's first row move it): found in place, with no array of every row's place beside it (issue 25)."""
    from houfu.io.tables import _first_rows

    first, first_rows = _first_rows(ids)
    blank = np.flatnonzero(first < 0)
    first[blank] = blank
    # An id is repeated where fewer distinct ids than rows with an id.
    return first, len(first_rows) < len(first) - len(blank)


@dataclass
class ScreenRun:
    totals: ScreenTotals
    output: Path | None
    report: Path | None
    errors_path: Path | None
    notes: list[Note]
    item_rows: dict[str, tuple[int, int]]
    #: every column of every table and what became of it; which sheet became which table
    columns: list[ColumnFate] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    lang: str = "zh"
    requests: Path | None = None
    #: body id ("" for facts no register serves) -> the request list written for it
    requests_files: dict[str, str] = field(default_factory=dict)
    #: with --worklists: the run's screen id, each department's worklist, and the rows sent in all
    screen_id: str | None = None
    worklists: dict[str, str] = field(default_factory=dict)
    worklist_rows: int = 0
    #: with --since: the change list (summary.ChangeSummary); with the run kept: the tracker (summary.TrackerSummary)
    changes: Any = None
    tracker: Any = None
    #: with the run kept: each department's overdue worklist rows on the as-of date (summary.OverdueSummary)
    overdue: Any = None

    @property
    def warnings(self) -> list[Note]:
        return [n for n in self.notes if n.warning]

    def error_groups(self) -> list[ErrorGroup]:
        return group_errors(self.totals.errors)

    def reading(self, lang: str | None = None, listed: int | None = None) -> dict[str, Any]:
        """What the reader did, in the user's language: the same for the CLI's --json and the API."""
        lang = lang or self.lang
        groups = self.error_groups()
        many = len({g.file for g in groups}) > 1
        errors = self.totals.errors if listed is None else self.totals.errors[:listed]
        return {"tables": self.tables,
                "columns": [c.as_dict() for c in self.columns],
                "warnings": [n.text(lang) for n in self.notes if n.warning],
                "notes": [n.text(lang) for n in self.notes if not n.warning],
                "error_groups": [g.as_dict(lang, many) for g in groups],
                "errors": [{"file": e.file, "row": e.row, "column": e.column, "reason": e.text(lang), "kind": e.kind}
                           for e in errors],
                "errors_total": len(self.totals.errors)}
