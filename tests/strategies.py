"""Hypothesis strategies derived from the knowledge base: nothing here lists facts or places by hand.

* Records: every field of the input models (built from the KB's vocabulary) may be absent (unknown); values come
  from the field's type: booleans, the Literal's choices, and for numbers the thresholds the
  rules actually test (each one, one below and one above) plus the field's bounds.
* Jurisdictions: every jurisdiction in which some document is in force, written as its id,
  Chinese name or division code.
* Programs: random rule programs over the same vocabulary (see ``programs``), for the
  differential test of the durable-rules compiler against the reference evaluator.
"""

from __future__ import annotations

import datetime as dt
import types
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

from hypothesis import strategies as st
from pydantic import BaseModel

from houfu.engine.evaluator import documents_in_force
from houfu.engine.periods import period_of
from houfu.engine.program import Program, Target, concept_order, gates_of
from houfu.engine.results import TargetKind
from houfu.kb.conditions import (
    AllEntities,
    AllMembers,
    AllOf,
    AnyEntity,
    AnyMember,
    AnyOf,
    Assumed,
    ConceptIs,
    Condition,
    DeadlineRef,
    Fact,
    FactRef,
    MemberConceptIs,
    Not,
    ParamRef,
    walk,
)
from houfu.kb.facts import Household, Site, is_date
from houfu.kb.loader import KB, load_default
from houfu.kb.models import ENTITY_KIND
from houfu.kb.query import site_named

AS_OF = dt.date(2026, 1, 1)
#: Dates a generated record or program uses beside those of the rules: a day and the next across a half-year and
#: a year end, and 29 February (a birthday with no anniversary in most years).
DATES = [dt.date(2024, 6, 30), dt.date(2024, 7, 1), dt.date(2009, 12, 31), dt.date(2010, 1, 1),
         dt.date(2008, 2, 29), AS_OF, AS_OF - dt.timedelta(days=1), AS_OF + dt.timedelta(days=1)]
# Free-text fields: a name is never a fact; an entity id groups members of one business.
TEXT_VALUES = {"name": ["甲", "乙"], "id_number": ["36073119800101123X", "420304 19660508 0012"], "site": ["dingnan_county_seat", "县城集中安置点", "青龙泉社区"]}


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _unwrap(ann: Any) -> list[Any]:
    if get_origin(ann) in (Union, types.UnionType):
        return [a for a in get_args(ann) if a is not type(None)]
    return [ann]


def _bounds(field: Any) -> tuple[float, float]:
    lo, hi = 0.0, 60.0
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo) if getattr(meta, "ge", None) is not None else lo
        hi = getattr(meta, "le", hi) if getattr(meta, "le", None) is not None else hi
    return lo, hi


def thresholds(kb: KB) -> dict[str, set[float]]:
    """Every number a rule or concept compares a fact with, by fact name."""
    out: dict[str, set[float]] = defaultdict(set)
    conds = [c.when for c in kb.concepts.values()]
    conds += [x for m in kb.measures.values() if m.rule for x in (m.rule.when, m.rule.requires) if x is not None]
    for cond in conds:
        for node, _ in walk(cond):
            if not isinstance(node, Fact):
                continue
            v = node.value
            if isinstance(v, ParamRef):
                out[node.fact].add(kb.parameters[v.param].value * v.times)
            elif isinstance(v, Assumed):
                out[node.fact].add(v.assumed)
            elif isinstance(v, int | float) and not isinstance(v, bool):
                out[node.fact].add(float(v))
    return out


def date_thresholds(kb: KB) -> dict[str, set[dt.date]]:
    """Every date a rule compares a date fact with (a date or a deadline), and for the date an integer is derived
    from (age from birth_date), the days that put it one below, at and one above each number the rules test."""
    out: dict[str, set[dt.date]] = defaultdict(set)
    deadlines = {d.id: d.date for dkb in kb.documents.values() for d in dkb.doc.deadlines}
    conds = [c.when for c in kb.concepts.values()]
    conds += [x for m in kb.measures.values() if m.rule for x in (m.rule.when, m.rule.requires) if x is not None]
    for cond in conds:
        for node, _ in walk(cond):
            if isinstance(node, Fact) and isinstance(node.value, dt.date):
                out[node.fact].add(node.value)
            elif isinstance(node, Fact) and isinstance(node.value, DeadlineRef):
                out[node.fact].add(deadlines[node.value.deadline])
    numbers = thresholds(kb)
    for label in kb.fact_labels.values():
        if label.years_since is not None:
            for t in numbers.get(label.id, set()) | {0.0}:
                for years in (int(t) - 1, int(t), int(t) + 1):
                    born = AS_OF.replace(year=AS_OF.year - years)
                    out[label.years_since] |= {born - dt.timedelta(days=1), born, born + dt.timedelta(days=1)}
    return out


def period_labels(kb: KB, period: str) -> list[str]:
    """Every period from the earliest start of force of a document to the one under way on AS_OF."""
    start = min(dkb.doc.in_force_from for dkb in kb.documents.values())
    labels, day = [], start
    while day <= AS_OF:
        label, _, last = period_of(period, day)
        labels.append(label)
        day = last + dt.timedelta(days=1)
    return labels


def _counts(labels: list[str]) -> st.SearchStrategy[dict[str, int]]:
    """Counts per period: some periods recorded, or every one (often enough for every period to be met)."""
    def every(lo: int) -> st.SearchStrategy[dict[str, int]]:
        return st.fixed_dictionaries({label: st.integers(lo, 3) for label in labels})

    return st.one_of(every(2), every(1), every(0), st.dictionaries(st.sampled_from(labels), st.integers(0, 3)))


def _value(name: str, field: Any, limits: dict[str, set[float]], periodic: Mapping[str, str],
           prefix: str = "", kb: KB | None = None) -> st.SearchStrategy[Any]:
    options = _unwrap(field.annotation)
    ann = options[0]
    if name in TEXT_VALUES:
        return st.sampled_from(TEXT_VALUES[name])
    if name in periodic:  # counts for every period a document's force covers up to AS_OF, some or all recorded
        return _counts(period_labels(kb or load_default(), periodic[name]))
    if is_date(field.annotation):
        near = sorted(date_thresholds(kb or load_default()).get(prefix + name, set()) | set(DATES))
        return st.one_of(st.sampled_from(near), st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)))
    if get_origin(ann) is Literal:
        return st.sampled_from(list(get_args(ann)))
    if ann is bool:
        return st.booleans()
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return _model_dict(ann, limits, periodic, prefix + name + ".", kb=kb)
    if ann in (int, float):
        lo, hi = _bounds(field)
        near = {t + d for t in limits.get(prefix + name, set()) for d in (-1, 0, 1)}
        values = sorted(v for v in near | {lo, min(hi, 3.0), min(hi, 40.0)} if lo <= v <= hi)
        if ann is int:
            return st.one_of(st.sampled_from([int(v) for v in values]), st.integers(int(lo), int(min(hi, 9000))))
        return st.one_of(st.sampled_from(values), st.floats(lo, min(hi, 9000.0), allow_nan=False))
    raise TypeError(f"no strategy for field {name!r} of type {ann!r}: extend tests/strategies.py")


def _model_dict(model: type[BaseModel], limits: dict[str, set[float]], periodic: Mapping[str, str],
                prefix: str = "", skip: tuple[str, ...] = (), kb: KB | None = None) -> st.SearchStrategy[dict[str, Any]]:
    fields = {n: maybe(_value(n, f, limits, periodic, prefix, kb)) for n, f in model.model_fields.items()
              if n not in skip and n not in ("members", "entities")}
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


def jurisdiction_names(kb: KB) -> list[str]:
    """Each jurisdiction where some document is in force, as id, Chinese name and division code."""
    out = []
    for j in kb.jurisdictions.values():
        if documents_in_force(kb, j.id, AS_OF):
            out += [j.id, j.name] + ([j.code] if j.code else [])
    return out


def households(kb: KB | None = None) -> st.SearchStrategy[Household]:
    kb = kb or load_default()
    limits = thresholds(kb)
    models = kb.models
    member = _model_dict(models.member, limits, models.periodic, kb=kb)
    entity = _model_dict(models.entity, limits, models.periodic, skip=("id", "owners"), kb=kb)
    base = _model_dict(models.household, limits, models.periodic, skip=("id", "jurisdiction"), kb=kb)

    def build(b: dict[str, Any], j: str, ms: list[dict[str, Any]] | None, es: list[dict[str, Any]] | None) -> Household:
        raw: dict[str, Any] = {**b, "id": "H", "jurisdiction": j}
        # A household that names a recorded site agrees with its record where it gives the same fact: a
        # contradiction is an input warning, and no answer is monotone in it (the household's own wins).
        site = site_named(kb, raw.get("site"))
        for fact, value in (site.facts if site is not None else {}).items():
            if raw.get(fact) is not None:
                raw[fact] = value
        if ms is not None:
            raw["members"] = ms
        if es is not None:
            raw["entities"] = [{**_of_its_kind(e), "id": f"e{i}"} for i, e in enumerate(es)]
        return models.household.model_validate(raw)

    def _of_its_kind(e: dict[str, Any]) -> dict[str, Any]:
        return of_its_kind(models, e, "household")

    return st.builds(build, base, st.sampled_from(jurisdiction_names(kb)), maybe(st.lists(member, max_size=4)),
                     maybe(st.lists(entity, max_size=2)))


def of_its_kind(models: Any, e: dict[str, Any], within: str) -> dict[str, Any]:
    """A declared kind's facts (a workshop's workers) only on an entity of that kind, or of no kind given; and a
    kind only on the record it is linked to (a training class on a site, a workshop or business on a household):
    a kind drawn for the other record is dropped (not known)."""
    kind = e.get(ENTITY_KIND)
    decl = models.records.get(kind) if kind is not None else None
    if kind is not None and (decl.within if decl is not None else "household") != within:
        e, kind = {k: v for k, v in e.items() if k != ENTITY_KIND}, None
    return {k: v for k, v in e.items() if kind is None or models.kind_of.get(k, kind) == kind}


def consistent(record: Any, as_of: dt.date = AS_OF) -> Any:
    """The record with every derived fact given beside its date (an age beside a date of birth) made to agree with
    it on ``as_of``. Knowing more never overturns a decision only for facts that agree: when an age and a date of
    birth disagree (an input warning), forgetting one of them may rightly change the answer."""
    from houfu.engine.evaluator import years_since
    from houfu.engine.logic import date_number, full_years

    kb = load_default()
    raw = record.model_dump(exclude_none=True)
    for fact, source, records in years_since(kb):
        items = [raw] if ("site" if isinstance(record, Site) else "household") in records else []
        items += raw.get("members", []) if "member" in records else []
        items += raw.get("entities", []) if "entity" in records else []
        for item in items:
            day = item.get(source)
            if item.get(fact) is not None and day is not None:
                if day > as_of:
                    del item[source]
                else:
                    item[fact] = full_years(date_number(day), date_number(as_of))
    return type(record).model_validate(raw)


def sites(kb: KB | None = None) -> st.SearchStrategy[Site]:
    kb = kb or load_default()
    models = kb.models
    base = _model_dict(models.site, thresholds(kb), models.periodic, skip=("id", "jurisdiction"), kb=kb)
    if "entities" not in models.site.model_fields:
        return st.builds(lambda b, j: models.site.model_validate({**b, "id": "S", "jurisdiction": j}),
                         base, st.sampled_from(jurisdiction_names(kb)))
    # A kind linked to a site (a training class): the site lists its records.
    entity = _model_dict(models.entity, thresholds(kb), models.periodic, skip=("id", "owners"), kb=kb)

    def build(b: dict[str, Any], j: str, es: list[dict[str, Any]] | None) -> Site:
        raw: dict[str, Any] = {**b, "id": "S", "jurisdiction": j}
        if es is not None:
            raw["entities"] = [{**of_its_kind(models, e, "site"), "id": f"e{i}"} for i, e in enumerate(es)]
        return models.site.model_validate(raw)

    return st.builds(build, base, st.sampled_from(jurisdiction_names(kb)), maybe(st.lists(entity, max_size=2)))


# --- generated rule programs ---------------------------------------------------------------


def _leaf_strategies(model: type[BaseModel], limits: dict[str, set[float]],
                     periodic: Mapping[str, str]) -> list[st.SearchStrategy[Condition]]:
    """Comparisons over the model's own facts: every operator, `in` lists, and fact-to-fact."""
    out: list[st.SearchStrategy[Condition]] = []
    numeric: list[str] = []
    dates: list[str] = []
    for name, field in model.model_fields.items():
        if name in ("id", "name", "jurisdiction", "members", "entities", "owners") or name in TEXT_VALUES \
                or name in periodic:
            continue
        if is_date(field.annotation):
            dates.append(name)
            continue
        ann = _unwrap(field.annotation)[0]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            for sub, sub_field in ann.model_fields.items():
                if _unwrap(sub_field.annotation)[0] is bool:
                    out.append(st.builds(lambda f, v: Fact.model_validate({"fact": f, "eq": v}),
                                         st.just(f"{name}.{sub}"), st.booleans()))
            continue
        if ann is bool:
            out.append(st.builds(lambda f, op, v: Fact.model_validate({"fact": f, op: v}),
                                 st.just(name), st.sampled_from(["eq", "ne"]), st.booleans()))
        elif get_origin(ann) is Literal:
            choices = list(get_args(ann))
            out.append(st.builds(lambda f, op, v: Fact.model_validate({"fact": f, op: v}),
                                 st.just(name), st.sampled_from(["eq", "ne"]), st.sampled_from(choices)))
            out.append(st.builds(lambda f, vs: Fact.model_validate({"fact": f, "in": vs}),
                                 st.just(name), st.lists(st.sampled_from(choices), min_size=1, max_size=3, unique=True)))
        elif ann in (int, float):
            numeric.append(name)
            values = sorted(limits.get(name, set()) | {0.0, 1.0, 2.0})
            out.append(st.builds(lambda f, op, v: Fact.model_validate({"fact": f, op: int(v)}),
                                 st.just(name), st.sampled_from(["eq", "ne", "ge", "gt", "le", "lt"]),
                                 st.sampled_from(values)))
    if len(numeric) >= 2:
        out.append(st.builds(lambda a, b, op: Fact.model_validate({"fact": a, op: FactRef(fact_ref=b)}),
                             st.sampled_from(numeric), st.sampled_from(numeric),
                             st.sampled_from(["eq", "ge", "gt", "le", "lt"])))
    if dates:  # a date with a date, a deadline (PROGRAM_DEADLINES) or a date fact (itself when it is the only one)
        ops = st.sampled_from(["eq", "ne", "ge", "gt", "le", "lt"])
        right = st.one_of(st.sampled_from(DATES), st.sampled_from(sorted(PROGRAM_DEADLINES)).map(
            lambda d: DeadlineRef(deadline=d)), st.sampled_from(dates).map(lambda f: FactRef(fact_ref=f)))
        out.append(st.builds(lambda f, op, v: Fact.model_validate({"fact": f, op: v}), st.sampled_from(dates), ops,
                             right))
    return out


#: The deadlines of generated programs.
PROGRAM_DEADLINES = {"d.half_year": dt.date(2024, 6, 30), "d.year_end": dt.date(2009, 12, 31)}


def _tree(leaves: st.SearchStrategy[Condition], max_leaves: int = 4) -> st.SearchStrategy[Condition]:
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            st.lists(kids, min_size=1, max_size=3).map(lambda xs: AllOf(all=xs)),
            st.lists(kids, min_size=1, max_size=3).map(lambda xs: AnyOf(any=xs)),
            kids.map(lambda x: Not(not_=x)),
        ),
        max_leaves=max_leaves,
    )


class _ProgramParts:
    """The strategies ``programs`` draws from, built once per knowledge base and entity kind: a strategy built
    afresh in every draw is validated afresh each time, which cost Hypothesis more than the tests themselves."""

    _made: dict[tuple[int, str], tuple[KB, _ProgramParts]] = {}

    @classmethod
    def of(cls, kb: KB, entity: str) -> _ProgramParts:
        kept = cls._made.get((id(kb), entity))
        if kept is None or kept[0] is not kb:
            kept = cls._made[(id(kb), entity)] = (kb, cls(kb, entity))
        return kept[1]

    def __init__(self, kb: KB, entity: str) -> None:
        self.kb, self.entity, self.limits = kb, entity, thresholds(kb)
        self._cache: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {}

    def _kept(self, key: tuple[Any, ...], make: Callable[[], st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _leaves(self, model: type[BaseModel]) -> st.SearchStrategy[Condition]:
        return self._kept(("leaves", model.__name__), lambda: st.one_of(
            *_leaf_strategies(model, self.limits, self.kb.models.periodic)))

    def _member_refs(self, n: int) -> list[st.SearchStrategy[Condition]]:
        return [st.builds(MemberConceptIs, member_concept=st.just(f"mc{j}"), value=st.booleans()) for j in range(n)]

    def member_concept(self, i: int) -> st.SearchStrategy[Condition]:
        """The i-th member concept: member facts, and the member concepts before it."""
        return self._kept(("mc", i), lambda: _tree(st.one_of(self._leaves(self.kb.models.member),
                                                             *self._member_refs(i)), 3))

    def _entity_leaves(self, members: int) -> st.SearchStrategy[Condition]:
        if self.entity != "household":
            return self._leaves(self.kb.models.site)

        def make() -> st.SearchStrategy[Condition]:
            member_cond = _tree(st.one_of(self._leaves(self.kb.models.member), *self._member_refs(members)), 3)
            quantified = st.one_of(member_cond.map(lambda c: AnyMember(any_member=c)),
                                   member_cond.map(lambda c: AllMembers(all_members=c)))
            business_cond = _tree(self._leaves(self.kb.models.entity), 3)
            businesses = st.one_of(business_cond.map(lambda c: AnyEntity(any_entity=c)),
                                   business_cond.map(lambda c: AllEntities(all_entities=c)))
            return st.one_of(self._leaves(self.kb.models.household), quantified, quantified, businesses)

        return self._kept(("entity", members), make)

    def _refs(self, n: int) -> list[st.SearchStrategy[Condition]]:
        return [st.builds(ConceptIs, concept=st.just(f"c{j}"), value=st.booleans()) for j in range(n)]

    def concept(self, members: int, i: int) -> st.SearchStrategy[Condition]:
        """The i-th entity concept: the entity's facts, its members' concepts and the concepts before it."""
        return self._kept(("c", members, i), lambda: _tree(st.one_of(self._entity_leaves(members),
                                                                     *self._refs(i)), 4))

    def when(self, members: int, concepts: int) -> st.SearchStrategy[Condition | None]:
        """A measure's condition, or none."""
        return self._kept(("when", members, concepts), lambda: st.one_of(st.none(), _tree(st.one_of(
            self._entity_leaves(members), *self._refs(concepts)), 5)))


@st.composite
def programs(draw: st.DrawFn, entity: str, kb: KB | None = None) -> Program:
    """A random program: member concepts, chained entity concepts, and measure targets.

    Households mix nested all/any/not, any_member and all_members (both in one rule),
    member concepts inside quantifiers, concepts that rest on concepts, fact-to-fact
    comparisons and `in` lists.
    """
    kb = kb or load_default()
    parts = _ProgramParts.of(kb, entity)
    concepts: dict[str, Condition] = {}
    members = 0
    if entity == "household":
        for i in range(draw(st.integers(0, 2))):
            concepts[f"mc{i}"] = draw(parts.member_concept(i))
        members = len(concepts)
    entity_concepts: list[str] = []
    for i in range(draw(st.integers(0, 3))):
        name = f"c{i}"
        concepts[name] = draw(parts.concept(members, i))
        entity_concepts.append(name)
    whens = [draw(parts.when(members, len(entity_concepts))) for _ in range(draw(st.integers(1, 4)))]
    gates = gates_of(kb) if draw(st.booleans()) else None
    if gates is not None:
        # Half the programs are compiled with the vocabulary's ask_if gates, as build_program compiles rules.
        concepts = {n: gates.apply(c) for n, c in concepts.items()}
        whens = [None if w is None else gates.apply(w) for w in whens]
    targets = [Target(TargetKind.concept, n, "generated", n, n, concepts[n])
               for n in concept_order(concepts, entity_concepts)]
    targets += [Target(TargetKind.measure, f"m{i}", "generated", f"m{i}", f"m{i}", w) for i, w in enumerate(whens)]
    # The knowledge base's parameters: a vocabulary's gate may compare with one (a document's ask_if: age ≥
    # {param: xf.2.1.min_age}), as build_program gives them.
    return Program(entity, ("generated",), tuple(targets), concepts, {pid: p.value for pid, p in kb.parameters.items()},
                   PROGRAM_DEADLINES, gates.all() if gates is not None else {})
