"""The rule program evaluated over a whole caseload as columns: a third evaluator of the same data.

Every fact is a float64 column with NaN for unknown: booleans are 0/1, numbers themselves, dates the number
yyyymmdd (as durable-rules holds them), and the codes of an enumerated fact (``Literal`` in ``kb.facts``) their
index in its list of values. A condition compiles to
a node that yields two boolean masks, *known true* and *known false*; a row in neither is unknown. So
``all`` is true where every part is true and false where any is false, and ``any`` the reverse: Kleene logic,
the reference evaluator's (``engine.logic``), with no per-row Python.

Members and businesses are second tables, one row per member, sorted by household, with the household's row
index beside each. "Some member" is true where a household counts a true member and false where all its
members are false; "every member" the reverse. A household whose list is unknown is unknown; an empty list
makes "some" false and "every" true, as in the reference evaluator.

Missing facts are masks too: a leaf's fact is missing on the rows where the condition above it is still
unknown and the fact's column is NaN. They are collected per target into (row, path) pairs, ``members[i].x``
for a member's fact, with no per-row Python either.

tests/test_differential.py runs this evaluator beside the other two on generated households, sites and
rule programs; any disagreement is a bug.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin

import numpy as np
import numpy.typing as npt

from houfu.kb.conditions import (
    ENTITIES,
    MEMBERS,
    AllOf,
    AnyOf,
    ConceptIs,
    Condition,
    Fact,
    FactRef,
    MemberConceptIs,
    Not,
    Op,
    QuantifierVisitor,
    visit,
)
from houfu.kb.facts import RecordModels, is_date

from .logic import date_number, number_date, resolve
from .program import Program
from .results import TargetKind

__all__ = ["Caseload", "Codec", "ColumnProgram", "Level", "Masks", "codec_for", "caseload_from_facts"]

Mask = npt.NDArray[np.bool_]
Column = npt.NDArray[np.float64]
#: known true, known false
Masks = tuple[Mask, Mask]
Level = Literal["main", "members", "entities"]
_COLLECTION_LEVEL: dict[str, Level] = {MEMBERS: "members", ENTITIES: "entities"}


# --- encoding -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Codec:
    """How each fact of one level is held as a float column: its kind and, for an enum, its values."""

    kinds: Mapping[str, str]  # fact -> bool | number | enum | date
    values: Mapping[str, tuple[str, ...]]  # enum fact -> values in code order

    def encode_constant(self, fact: str, value: Any) -> float | None:
        """A rule's constant in the column's terms; None for a string no code matches (equal to nothing)."""
        if isinstance(value, dt.date):
            return float(date_number(value))
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, int | float):
            return float(value)
        values = self.values.get(fact)
        if values is not None and value in values:
            return float(values.index(value))
        return None

    def encode(self, fact: str, raw: Iterable[Any]) -> Column:
        """One column from plain values (None for unknown)."""
        kind = self.kinds.get(fact, "number")
        if kind == "enum":
            index = {v: float(i) for i, v in enumerate(self.values[fact])}
            return np.fromiter((np.nan if v is None else index.get(v, -1.0) for v in raw), dtype=np.float64)
        if kind == "date":
            return np.fromiter((np.nan if v is None else float(date_number(v)) for v in raw), dtype=np.float64)
        return np.fromiter((np.nan if v is None else float(v) for v in raw), dtype=np.float64)

    def decode(self, fact: str, value: float) -> Any:
        if np.isnan(value):
            return None
        kind = self.kinds.get(fact, "number")
        if kind == "bool":
            return bool(value)
        if kind == "enum":
            return self.values[fact][int(value)]
        if kind == "date":
            return number_date(value)
        return float(value)


def _codec(models: RecordModels, level: str) -> Codec:
    kinds: dict[str, str] = {}
    values: dict[str, tuple[str, ...]] = {}
    for name, ann in models.paths(level).items():
        options = [a for a in get_args(ann) if a is not type(None)] if get_origin(ann) is not Literal else [ann]
        base = options[0] if options else ann
        if is_date(ann):
            kinds[name] = "date"
        elif get_origin(base) is Literal:
            kinds[name] = "enum"
            values[name] = tuple(str(v) for v in get_args(base))
        elif base is bool:
            kinds[name] = "bool"
        elif isinstance(base, type) and issubclass(base, str):  # a str Enum (site_type)
            kinds[name] = "enum"
            values[name] = tuple(str(getattr(v, "value", v)) for v in base)  # type: ignore[attr-defined]
        else:
            kinds[name] = "number"
    return Codec(kinds, values)


@lru_cache(maxsize=64)
def codec_for(models: RecordModels, level: str) -> Codec:
    """The codec of household, site, member or entity facts, under one knowledge base's vocabulary."""
    return _codec(models, level)


@dataclass
class Table:
    """One level of a caseload: float columns by fact name; absent columns are all unknown."""

    n: int
    columns: dict[str, Column]
    codec: Codec

    def column(self, fact: str) -> Column:
        col = self.columns.get(fact)
        if col is None:
            col = self.columns[fact] = np.full(self.n, np.nan)
        return col


@dataclass
class Items:
    """Members or businesses: a table sorted by household, the household row of each, and which households'
    lists are known (an unknown list is not an empty one)."""

    table: Table
    owner: npt.NDArray[np.intp]  # household row of each item, non-decreasing
    known: Mask  # per household: the list is given
    count: npt.NDArray[np.intp] = field(init=False)  # items per household
    start: npt.NDArray[np.intp] = field(init=False)  # first item row per household
    position: npt.NDArray[np.intp] = field(init=False)  # 0-based place of each item in its household's list
    owner3: npt.NDArray[np.intp] = field(init=False)  # 3 × owner: a code per (owner, truth) for _counts

    def __post_init__(self) -> None:
        n = len(self.known)
        self.count = np.bincount(self.owner, minlength=n).astype(np.intp)
        self.start = np.concatenate(([0], np.cumsum(self.count)[:-1])).astype(np.intp)
        self.position = np.arange(len(self.owner), dtype=np.intp) - self.start[self.owner]
        self.owner3 = self.owner * 3


@dataclass
class Caseload:
    """Households or sites as columns, with their members and businesses."""

    entity: str
    main: Table
    members: Items
    entities: Items
    #: periodic counts (sites): fact -> (map known, {period label: count column}) for every period recorded
    periods: dict[str, tuple[Mask, dict[str, Column]]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.main.n

    def level(self, level: Level) -> Table:
        return self.main if level == "main" else self.members.table if level == "members" else self.entities.table

    def take(self, rows: npt.NDArray[np.intp]) -> Caseload:
        """The households at ``rows`` (sorted, no repeats), with their members and businesses."""
        keep = np.zeros(self.n, bool)
        keep[rows] = True
        new_index = np.full(self.n, -1, dtype=np.intp)
        new_index[rows] = np.arange(len(rows), dtype=np.intp)

        def items(it: Items) -> Items:
            # The kept items' places, found once: a gather by index is three times a boolean mask's speed on
            # every column, whose scattered trues the mask indexing stumbles on (issue 25).
            k = np.flatnonzero(keep[it.owner]) if len(it.owner) else np.zeros(0, np.intp)
            return Items(Table(len(k), {f: c[k] for f, c in it.table.columns.items()}, it.table.codec),
                         new_index[it.owner[k]], it.known[rows])

        return Caseload(self.entity, Table(len(rows), {f: c[rows] for f, c in self.main.columns.items()},
                                           self.main.codec), items(self.members), items(self.entities),
                        {k: (known[rows], {p: c[rows] for p, c in cols.items()})
                         for k, (known, cols) in self.periods.items()})


def _items(rows: Sequence[Mapping[str, Any]], key: str, codec: Codec) -> Items:
    owner: list[int] = []
    flat: list[Mapping[str, Any]] = []
    known = np.zeros(len(rows), dtype=bool)
    for i, r in enumerate(rows):
        items = r.get(key)
        if items is not None:
            known[i] = True
            owner += [i] * len(items)
            flat += items
    names = set(codec.kinds) | {k for it in flat for k in it}
    cols = {f: codec.encode(f, (it.get(f) for it in flat)) for f in names if f in codec.kinds}
    return Items(Table(len(flat), cols, codec), np.asarray(owner, dtype=np.intp), known)


def caseload_from_facts(models: RecordModels, entity: str, rows: Sequence[Mapping[str, Any]],
                        as_of: dt.date | None = None) -> Caseload:
    """A caseload from flattened records (``engine.evaluator.flatten``); the slow, simple way in, for tests and
    small files. Large files are read straight into columns by the screener."""
    codec = codec_for(models, entity)
    cols = {f: codec.encode(f, (r.get(f) for r in rows)) for f in codec.kinds}
    periods = {}
    if entity == "site":
        # Every period any site recorded: a quota reads those of its plan (engine.periods), unknown if absent.
        for name in models.periodic:
            maps = [r.get(name) for r in rows]
            labels = sorted({label for m in maps if m for label in m})
            periods[name] = (np.array([m is not None for m in maps], dtype=bool),
                             {label: codec.encode("", ((m or {}).get(label) for m in maps)) for label in labels})
    return Caseload(entity, Table(len(rows), cols, codec), _items(rows, MEMBERS, codec_for(models, "member")),
                    _items(rows, ENTITIES, codec_for(models, "entity")), periods)


# --- compiling conditions -------------------------------------------------------------------------------------

class _Ctx:
    """One evaluation: the caseload, the concept columns so far, and each node's masks (computed once)."""

    def __init__(self, caseload: Caseload):
        self.caseload = caseload
        self.concepts: dict[str, Masks] = {}
        self.cache: dict[int, Masks] = {}
        self.unknown: dict[int, Mask] = {}
        self._nan: dict[tuple[Level, str], Mask] = {}

    def nan(self, level: Level, fact: str) -> Mask:
        """Where a fact is unknown on a level's rows: computed once per evaluation."""
        got = self._nan.get((level, fact))
        if got is None:
            got = self._nan[(level, fact)] = np.isnan(self.caseload.level(level).column(fact))
        return got


#: places of a level's rows, ascending
Rows = npt.NDArray[np.intp]
#: (level, fact or path, the rows of that level where it is missing)
MissingRows = tuple[Level, str, Rows]


class Node:
    level: Level

    def masks(self, ctx: _Ctx) -> Masks:
        got = ctx.cache.get(id(self))
        if got is None:
            got = ctx.cache[id(self)] = self._masks(ctx)
        return got

    def unknown(self, ctx: _Ctx) -> Mask:
        got = ctx.unknown.get(id(self))
        if got is None:
            t, f = self.masks(ctx)
            got = ctx.unknown[id(self)] = ~(t | f)
        return got

    def _masks(self, ctx: _Ctx) -> Masks:
        raise NotImplementedError

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        """The facts missing on the ``wanted`` rows (of this node's level) where this node is unknown. Each node
        narrows ``wanted`` itself (a leaf: to where its fact is missing, which is where it is unknown), so a caller
        hands on its rows as they are (narrowing them before as well repeated a gather at every concept, negation and
        quantifier: 2-3% of the walk, issue 25).

        By the rows' places, not masks over every row: a measure is open on a few rows in ten (a median of 8% in
        the benchmark caseload), and a mask cost the whole part at every node (issue 25)."""
        raise NotImplementedError

    def open_rows(self, ctx: _Ctx, wanted: Rows) -> Rows:
        """The ``wanted`` rows where this node is unknown."""
        return wanted[self.unknown(ctx)[wanted]]


class _Leaf(Node):
    def __init__(self, level: Level, c: Fact, program: Program):
        self.level, self.fact, self.op = level, c.fact, c.op
        raw = c.value
        self.ref = raw.fact_ref if isinstance(raw, FactRef) else None
        self.constant = None if self.ref is not None else resolve(program, raw)

    def _masks(self, ctx: _Ctx) -> Masks:
        table = ctx.caseload.level(self.level)
        left = table.column(self.fact)
        known = ~ctx.nan(self.level, self.fact)
        if self.ref is not None:
            right = table.column(self.ref)
            known &= ~ctx.nan(self.level, self.ref)
            cmp = _compare(self.op, left, right)
        elif self.op is Op.in_:
            assert isinstance(self.constant, list)
            codes = [c for c in (table.codec.encode_constant(self.fact, v) for v in self.constant) if c is not None]
            cmp = np.isin(left, codes)
        else:
            c = table.codec.encode_constant(self.fact, self.constant)
            if c is None:  # a value the fact never takes: equal to nothing
                cmp = np.full(table.n, self.op is Op.ne)
            else:
                cmp = _compare(self.op, left, np.float64(c))
        return known & cmp, known & ~cmp

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        yield self.level, self.fact, wanted[ctx.nan(self.level, self.fact)[wanted]]
        if self.ref is not None:
            yield self.level, self.ref, wanted[ctx.nan(self.level, self.ref)[wanted]]


def _compare(op: Op, left: Column, right: Column | np.float64) -> Mask:
    with np.errstate(invalid="ignore"):
        match op:
            case Op.eq:
                return np.asarray(left == right)
            case Op.ne:
                return np.asarray(left != right)
            case Op.ge:
                return np.asarray(left >= right)
            case Op.gt:
                return np.asarray(left > right)
            case Op.le:
                return np.asarray(left <= right)
            case Op.lt:
                return np.asarray(left < right)
    raise ValueError(f"{op} compares a list")


class _And(Node):
    def __init__(self, level: Level, parts: list[Node]):
        self.level, self.parts = level, parts

    def _masks(self, ctx: _Ctx) -> Masks:
        t, f = self.parts[0].masks(ctx)
        for p in self.parts[1:]:
            pt, pf = p.masks(ctx)
            t, f = t & pt, f | pf
        return t, f

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        wanted = self.open_rows(ctx, wanted)
        if not len(wanted):  # nothing open here: no part needs walking
            return
        for p in self.parts:
            # Each part narrows ``wanted`` to where it is itself unknown (a leaf: where its facts are missing).
            yield from p.missing(ctx, wanted)


class _Or(_And):
    def _masks(self, ctx: _Ctx) -> Masks:
        t, f = self.parts[0].masks(ctx)
        for p in self.parts[1:]:
            pt, pf = p.masks(ctx)
            t, f = t | pt, f & pf
        return t, f


class _Not(Node):
    def __init__(self, level: Level, inner: Node):
        self.level, self.inner = level, inner

    def _masks(self, ctx: _Ctx) -> Masks:
        t, f = self.inner.masks(ctx)
        return f, t

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        # Unknown where the inner test is: the inner node narrows ``wanted`` itself (_Leaf.missing).
        yield from self.inner.missing(ctx, wanted)


class _Quantified(Node):
    def __init__(self, level: Level, collection: str, every: bool, inner: Node):
        self.level, self.collection, self.every, self.inner = level, collection, every, inner

    def _items(self, ctx: _Ctx) -> Items:
        return ctx.caseload.members if self.collection == MEMBERS else ctx.caseload.entities

    def _masks(self, ctx: _Ctx) -> Masks:
        items = self._items(ctx)
        it, if_ = self.inner.masks(ctx)
        n_true, n_false = _counts(it, if_, items)
        if self.every:  # true where every item holds (an empty list too), false where one fails
            t, f = n_true == items.count, n_false > 0
        else:  # true where one item holds, false where every item fails (an empty list too)
            t, f = n_true > 0, n_false == items.count
        return t & items.known, f & items.known

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        items = self._items(ctx)
        wanted = self.open_rows(ctx, wanted)
        if not len(wanted):
            return
        known = items.known[wanted]
        yield self.level, self.collection, wanted[~known]
        # The items of the households with a known list: each household's run of items (they are sorted by
        # household), in household order.
        owners = wanted[known]
        count = items.count[owners]
        ends = np.cumsum(count)
        places = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.intp) + np.repeat(items.start[owners] - ends
                                                                                          + count, count)
        yield from self.inner.missing(ctx, places)  # which the inner node narrows to where it is open


def _counts(true: Mask, false: Mask, items: Items) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """How many of each household's items are known true, and how many known false: one count of (owner, state)
    codes over the items (about 110 µs for 44,000 members of 11,000 households, against 170 µs for two counts
    weighted by each mask; 2.8 ms to count the owners picked out by a mask and 3.8 ms for a segment reduction over
    the sorted items were slower still, issue 25)."""
    n = len(items.known)
    state = true.view(np.uint8) + (false.view(np.uint8) << 1)  # 0 unknown, 1 true, 2 false: never both
    both = np.bincount(items.owner3 + state, minlength=3 * n).reshape(n, 3)
    return both[:, 1], both[:, 2]


class _Concept(Node):
    def __init__(self, level: Level, name: str, value: bool, definition: Node):
        self.level, self.name, self.value, self.definition = level, name, value, definition

    def _masks(self, ctx: _Ctx) -> Masks:
        got = ctx.concepts.get(self.name) if self.level == "main" else None
        if got is None:  # a household concept read inside a quantifier is unknown, as in the reference evaluator
            n = ctx.caseload.level(self.level).n
            return np.zeros(n, bool), np.zeros(n, bool)
        t, f = got
        return (t, f) if self.value else (f, t)

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        yield from self.definition.missing(ctx, wanted)  # which the definition narrows to where it is open


class _MemberConcept(Node):
    """A member concept is evaluated inline, on the member's own facts (as the reference evaluator does)."""

    def __init__(self, level: Level, value: bool, definition: Node):
        self.level, self.value, self.definition = level, value, definition

    def _masks(self, ctx: _Ctx) -> Masks:
        t, f = self.definition.masks(ctx)
        return (t, f) if self.value else (f, t)

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        yield from self.definition.missing(ctx, wanted)  # which the definition narrows to where it is open


class _Always(Node):
    def __init__(self, level: Level):
        self.level = level

    def _masks(self, ctx: _Ctx) -> Masks:
        n = ctx.caseload.level(self.level).n
        return np.ones(n, bool), np.zeros(n, bool)

    def missing(self, ctx: _Ctx, wanted: Rows) -> Iterable[MissingRows]:
        return ()


#: what a program's compilers share: a concept's node by (name, level), and every node by its shape (``_Compiler.
#: _intern``)
Compiled = dict[tuple[Any, ...], Node]


class _Compiler(QuantifierVisitor[Node]):
    """Conditions to nodes, each shape once: the same test in two measures (a scope concept's parts, a gate, "some
    member of working age") is one node, so one set of masks per evaluation. The rules repeat themselves: the
    Shiyan household program's 202 nodes are 92 shapes, Dingnan's 263 are 136 (issue 25)."""

    def __init__(self, program: Program, level: Level, compiled: Compiled):
        self.program, self.level, self.compiled = program, level, compiled

    def _intern(self, node: Node, *shape: Any) -> Node:
        """The node of this shape made first; ``shape`` names a node's children by identity, as they are interned
        themselves before their parent."""
        return self.compiled.setdefault(("node", type(node).__name__, node.level, *shape), node)

    def _concept_node(self, name: str, level: Level) -> Node:
        key = (name, level)
        if key not in self.compiled:
            self.compiled[key] = visit(self.program.concepts[name], _Compiler(self.program, level, self.compiled))
        return self.compiled[key]

    def fact(self, c: Fact) -> Node:
        leaf = _Leaf(self.level, c, self.program)
        return self._intern(leaf, leaf.fact, leaf.op, leaf.ref, repr(leaf.constant))

    def all_of(self, c: AllOf) -> Node:
        parts = [visit(x, self) for x in c.all]
        return self._intern(_And(self.level, parts), *map(id, parts))

    def any_of(self, c: AnyOf) -> Node:
        parts = [visit(x, self) for x in c.any]
        return self._intern(_Or(self.level, parts), *map(id, parts))

    def not_(self, c: Not) -> Node:
        inner = visit(c.not_, self)
        return self._intern(_Not(self.level, inner), id(inner))

    def quantified(self, collection: str, every: bool, inner: Condition) -> Node:
        sub = _Compiler(self.program, _COLLECTION_LEVEL[collection], self.compiled)
        node = visit(inner, sub)
        return self._intern(_Quantified(self.level, collection, every, node), collection, every, id(node))

    def concept(self, c: ConceptIs) -> Node:
        definition = self._concept_node(c.concept, self.level)
        return self._intern(_Concept(self.level, c.concept, c.value, definition), c.concept, c.value, id(definition))

    def member_concept(self, c: MemberConceptIs) -> Node:
        definition = self._concept_node(c.member_concept, self.level)
        return self._intern(_MemberConcept(self.level, c.value, definition), c.value, id(definition))


# --- a compiled program -----------------------------------------------------------------------------------------

class ColumnProgram:
    """A ``Program`` compiled once to column nodes; ``evaluate`` decides every target for a whole caseload."""

    def __init__(self, program: Program):
        self.program = program
        #: every node by its shape: what else is compiled for this program into it (the amounts' member concepts
        #: and gates, ``engine.vector``) shares the nodes, so one evaluation's masks serve both
        self.compiled: Compiled = {}
        compiler = _Compiler(program, "main", self.compiled)
        self.nodes: dict[str, Node] = {}
        #: the last evaluation's masks, for ``missing`` and the amounts' inputs (``engine.vector``), until the next
        #: evaluation or ``release``
        self._ctx: _Ctx | None = None
        for t in program.targets:
            if t.when is None:
                self.nodes[t.key] = _Always("main")
            elif t.kind is TargetKind.concept and t.name in program.concepts:
                self.nodes[t.key] = compiler._concept_node(t.name, "main")  # shared with the concept's readers
            else:
                self.nodes[t.key] = visit(t.when, compiler)

    def evaluate(self, caseload: Caseload) -> dict[str, Masks]:
        """Known-true and known-false masks for every target, concepts first (Target.key -> masks)."""
        self._ctx = None  # the last evaluation's masks are not kept while the next ones are made
        ctx = _Ctx(caseload)
        out: dict[str, Masks] = {}
        for t in self.program.targets:
            masks = self.nodes[t.key].masks(ctx)
            if t.kind is TargetKind.concept:
                ctx.concepts[t.name] = masks
            out[t.key] = masks
        self._ctx = ctx
        return out

    def release(self) -> None:
        """Let go of the last evaluation's masks: a part's (several MB) need not stay until the next part's are
        made, on top of them (issue 25)."""
        self._ctx = None

    def missing(self, caseload: Caseload, key: str, rows: Mask,
                ctx: _Ctx | None = None) -> list[tuple[npt.NDArray[np.intp], list[str]]]:
        """For target ``key``, where ``rows`` hold and it is unknown: for each missing fact or path, the rows
        it is missing on. Member facts are named ``members[i].fact`` as the reference evaluator names them."""
        ctx = ctx or self._ctx
        if ctx is None:
            raise ValueError("missing() needs an evaluation first (evaluate)")
        node = self.nodes[key]
        out: list[tuple[npt.NDArray[np.intp], list[str]]] = []
        found: dict[tuple[Level, str], list[Rows]] = {}
        for level, fact, hits in node.missing(ctx, np.flatnonzero(rows & node.unknown(ctx))):
            if len(hits):  # most facts are given on most rows
                found.setdefault((level, fact), []).append(hits)
        for (level, fact), got in found.items():
            # A fact read twice under one target (16 ≤ age ≤ 60: two leaves) is missing once on a row, as the
            # reference evaluator lists it (logic._Missing's _unique); each walk's rows are ascending.
            hits = got[0] if len(got) == 1 else _union(got)
            if level == "main":
                out.append((hits, [fact]))
            else:
                items = caseload.members if level == "members" else caseload.entities
                collection = MEMBERS if level == "members" else ENTITIES
                # One group per place in the list (members[0], members[1] …), each in household order.
                pos = items.position[hits]
                owners = items.owner[hits]
                counts = np.bincount(pos)
                present = np.flatnonzero(counts)
                if len(present) == 1:
                    out.append((owners, [f"{collection}[{int(present[0])}].{fact}"]))
                    continue
                # A stable sort of the places as 8- or 16-bit codes is numpy's radix sort, linear in the rows:
                # 1.3-3.8× a mask per place from 82 to 13,700 rows (issue 25; a sort of the intp places was slower,
                # and is kept only for a list longer than any caseload's).
                code = np.uint8 if len(counts) <= 1 << 8 else np.uint16 if len(counts) <= 1 << 16 else np.intp
                grouped = owners[np.argsort(pos.astype(code), kind="stable")]
                ends = np.cumsum(counts).tolist()
                sizes = counts.tolist()
                for place in present.tolist():
                    out.append((grouped[ends[place] - sizes[place]:ends[place]], [f"{collection}[{place}].{fact}"]))
        return out


def _union(runs: list[Rows]) -> Rows:
    """The rows of several ascending runs, each once: a stable sort of runs is a merge (timsort), 7-15× ``np.unique``
    (which sorts from scratch) from a hundred rows to twenty thousand."""
    rows = np.concatenate(runs)
    rows.sort(kind="stable")
    keep = np.empty(len(rows), bool)
    keep[:1] = True
    np.not_equal(rows[1:], rows[:-1], out=keep[1:])
    return rows[keep]


def truth_values(masks: Masks) -> list[bool | None]:
    """Masks as the reference evaluator's values, for tests: True, False or None per row."""
    t, f = masks
    return [True if a else False if b else None for a, b in zip(t.tolist(), f.tolist(), strict=True)]


Expr = Callable[[Caseload], Masks]
