"""Determinations: which measures apply to a household or site, why, and who owns them.

``Evaluator(kb)`` owns everything compiled from a knowledge base: rule programs,
durable-rules engines and amount calculators.  The KB itself stays immutable.
``determine`` runs the durable-rules engine (``EngineKind.rete``, the default) or the
plain reference evaluator (``EngineKind.plain``) and turns truth values into a typed
``Report``.  Evaluation is re-entrant and thread-safe: each call has its own trace.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import weakref
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel

from houfu._version import __version__
from houfu.kb.conditions import (
    ENTITIES,
    MEMBERS,
    AllEntities,
    AllMembers,
    AnyEntity,
    AnyMember,
    ConceptIs,
    Condition,
    MemberConceptIs,
    walk,
)
from houfu.kb.facts import Household, Site
from houfu.kb.loader import KB, FieldError, scope_concept_name
from houfu.kb.models import Clause, ConsistencyCheck, Document, Measure, Quota, ValueWords
from houfu.kb.names import did_you_mean, suggest
from houfu.kb.query import deadline_of, owners_of, resolve_jurisdiction, site_named

from .calculators import Calculator, check_calculators, load_calculators
from .closures import Closure, compiled
from .logic import (
    Facts,
    Truth,
    date_number,
    describe,
    evaluate_plain,
    failed_tests,
    full_years,
    kind_tested,
    missing_facts,
    resolve,
    split_fact_path,
    truth,
)
from .periods import judge, quota_plan
from .program import Gates, Program, Target, build_program, gates_of
from .results import (
    Amount,
    Choice,
    Determination,
    DocumentRef,
    Explanation,
    Firing,
    Gap,
    HandlerRef,
    InputWarning,
    MemberTest,
    MemberTruth,
    Notice,
    Owner,
    ParameterValue,
    PeriodCheck,
    Question,
    Report,
    ScopeNote,
    Status,
    TargetKind,
    UsedConcept,
)

if TYPE_CHECKING:  # durable-rules only when asked for: the default engine is the closures (a cold check)
    from .rete import ReteEngine

__all__ = ["EngineKind", "Evaluator", "HOUFU_VERSION", "anniversary", "derive_facts", "documents_in_force",
           "evaluator_for", "flatten", "years_since"]

#: houfu's version, as a report names it (from the package, not importlib.metadata: importing that was 20 ms of
#: a cold check, issue 25; tests/test_cli.py holds it to the installed metadata)
HOUFU_VERSION = __version__


class EngineKind(str, Enum):
    rete = "rete"  # durable-rules, the checked reference
    plain = "plain"  # the reference evaluator, walking the condition tree
    compiled = "compiled"  # the conditions as closures (engine.closures): the default, the fast single path


#: What ``determine`` runs unless told otherwise: the closures, checked against durable-rules and the reference
#: evaluator by tests/test_differential.py and every rule case (issue 25: a warm check in a millisecond).
DEFAULT_ENGINE = EngineKind.compiled


#: Decimal places kept for fractional numbers (yuan to the fen); both evaluators see the same value.
DECIMALS = 2


def flatten(record: BaseModel) -> dict[str, Any]:
    """Normalised facts: a flat dict with dotted nested names, fractions rounded to the fen;
    members and entities as lists of flat dicts (None when the list is unknown)."""
    out: dict[str, Any] = {}
    values = record.__dict__
    for name in _facts_of(type(record)):
        value = values[name]
        if name in (MEMBERS, ENTITIES):
            out[name] = None if value is None else [flatten(m) for m in value]
        elif isinstance(value, BaseModel):
            for k, v in flatten(value).items():
                out[f"{name}.{k}"] = v
        elif isinstance(value, float):
            out[name] = round(value, DECIMALS)
        else:
            out[name] = value
    return out


_FACTS_OF: weakref.WeakKeyDictionary[type[BaseModel], tuple[str, ...]] = weakref.WeakKeyDictionary()


def _facts_of(model: type[BaseModel]) -> tuple[str, ...]:
    """A record model's fields that are facts, in order: all but those never kept (a member's ID number is
    ``exclude``). Looked up once per model, not on every field of every record (issue 25)."""
    names = _FACTS_OF.get(model)
    if names is None:
        names = _FACTS_OF[model] = tuple(n for n, spec in model.model_fields.items() if not spec.exclude)
    return names


#: A fact derived from a date fact of the same record: (fact, date fact, the records it is a fact of).
Derivation = tuple[str, str, tuple[str, ...]]


def years_since(kb: KB) -> list[Derivation]:
    """The facts the vocabulary derives as the full years since a date (``years_since``: age from birth_date)."""
    return [(label.id, label.years_since, tuple(label.records)) for label in kb.fact_labels.values()
            if label.years_since is not None]


def derive_facts(derivations: list[Derivation], entity: str, facts: dict[str, Any],
                 as_of: dt.date) -> dict[str, Any]:
    """``facts`` with each derived fact filled in where it is not given and its date is known and not after
    ``as_of`` (a date of birth after the as-of date gives no age, and a warning). The input is not changed."""
    on = date_number(as_of)

    def fill(item: dict[str, Any], fact: str, source: str) -> dict[str, Any]:
        day = item.get(source)
        if item.get(fact) is not None or day is None or day > as_of:
            return item
        return {**item, fact: full_years(date_number(day), on)}

    out = facts
    for fact, source, records in derivations:
        if entity in records:
            out = fill(out, fact, source)
        for record, collection in (("member", MEMBERS), ("entity", ENTITIES)):
            items = out.get(collection)
            if record in records and items:
                out = {**out, collection: [fill(item, fact, source) for item in items]}
    return out


def documents_covering(kb: KB, jurisdiction: str) -> list[str]:
    """Documents issued for ``jurisdiction`` or an area that contains it."""
    chain: list[str] = []
    j: str | None = jurisdiction
    while j:
        chain.append(j)
        j = kb.jurisdictions[j].parent
    # A scaffold's draft is not yet a reading of its text: it decides nothing until a person has finished it.
    return [d for d, dkb in kb.documents.items() if dkb.doc.jurisdiction in chain and not dkb.draft]


def in_force(kb: KB, doc_id: str, as_of: dt.date) -> bool:
    doc = kb.documents[doc_id].doc
    return doc.in_force_from <= as_of and (doc.in_force_until is None or as_of <= doc.in_force_until)


def documents_in_force(kb: KB, jurisdiction: str, as_of: dt.date) -> list[str]:
    """Documents covering ``jurisdiction`` that are in force on ``as_of`` (issued, and not ended)."""
    return [d for d in documents_covering(kb, jurisdiction) if in_force(kb, d, as_of)]


def notices(kb: KB, jurisdiction: str, as_of: dt.date) -> list[Notice]:
    """A document that has ended, or that is old and names no end date, is pointed out, never hidden."""
    out = []
    for d in documents_covering(kb, jurisdiction):
        doc = kb.documents[d].doc
        if doc.in_force_from > as_of:
            continue
        values = {"doc_id": d, "title": doc.title, "year": doc.signed.year, "until": doc.in_force_until}
        if doc.in_force_until is not None and as_of > doc.in_force_until:
            text = kb.notices["ended"]
        elif doc.in_force_until is None and "no_end_date" in kb.notices:
            text = kb.notices["no_end_date"]
            years = text.after_years or 0
            # "已超过5年": more than five years, so not on the anniversary itself (policies/notices.yaml).
            if as_of <= anniversary(doc.signed, years):
                continue
            values["years"] = years
        else:
            continue
        out.append(Notice(code=text.id, document=d, zh=text.zh.format(**values), en=text.en.format(**values)))
    return out


def anniversary(day: dt.date, years: int) -> dt.date:
    """The last day of a span of ``years`` years from ``day``: its same day ``years`` later, or the month's last
    day where that month has no such day (29 February). 民法典 第二百零二条: 按照年、月计算期间的,到期月的对应日
    为期间的最后一日;没有对应日的,月末日为期间的最后一日."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year that has none
        return dt.date(day.year + years, 2, 28)


def _listed(m: Measure, entity: str) -> bool:
    if m.rule:
        # A site measure that reaches the site's households is in each household's report too.
        return m.rule.entity == entity or (entity == "household" and m.reaches == "households")
    subjects = ("household", "person") if entity == "household" else ("site",)
    return m.subject.value in subjects


@dataclass(frozen=True, slots=True)
class _Plan:
    """One measure of a program, with what deciding it needs that is the same for every record (issue 25: a warm
    check looked each of these up again for each of its 34 measures)."""

    m: Measure
    doc_id: str
    base: dict[str, Any]  # the determination's fields that do not depend on the record (``_static``)
    scope_name: str  # the document's scope concept
    target: Target | None  # the measure's applicability target; None when it has no rule
    satisfied: Target | None
    requires: Target | None
    quota: Quota | None  # a periodic quota the measure itself is judged by (not one judged through its site)
    through_site: bool
    used: frozenset[str]  # the concepts its rule uses, whose firings are its ``why``
    act_if: Condition | None  # the letter's act_if, gated
    members_act: Closure | None  # act_if compiled


def _first(pair: tuple[int, Firing]) -> int:
    return pair[0]


class Evaluator:
    """Decides households and sites against one knowledge base; safe to share between threads."""

    def __init__(self, kb: KB):
        self.kb = kb
        #: Every input fact's type, for the choices a question offers.
        self.fact_types: dict[str, Any] = {k: v for kind in ("household", "site", "member", "entity")
                                           for k, v in kb.models.paths(kind).items()}
        self.calculators: Mapping[str, Calculator] = load_calculators(kb)
        # A rule naming an unknown calculator would fail mid-evaluation: refuse the KB up front.
        defects = check_calculators(kb, self.calculators)
        if defects:
            raise defects[0]
        self._programs: dict[tuple[str, tuple[str, ...]], Program] = {}
        self._engines: dict[tuple[str, tuple[str, ...]], ReteEngine] = {}
        self._descriptions: dict[tuple[str, tuple[str, ...], str], str] = {}
        self._statics: dict[str, dict[str, Any]] = {}
        self._member_test: dict[tuple[str, tuple[str, ...], str], Condition | None] = {}
        #: per (entity, documents): the measures a report lists, in order, each with what deciding it needs
        self._plans: dict[tuple[str, tuple[str, ...]], list[_Plan]] = {}
        #: the vocabulary's ask_if gates, for conditions outside the rules (a letter's act_if)
        self.gates = gates_of(kb)
        self._act_ifs: dict[str, Condition] | None = None  # every measure's gated act_if, made once (or cached)
        self._used: dict[tuple[str, tuple[str, ...], str], frozenset[str]] = {}
        self._years_since = years_since(kb)
        self._lock = threading.Lock()

    # --- compiled state, built once per (entity, documents) ---------------------------

    def program(self, entity: str, documents: tuple[str, ...]) -> Program:
        key = (entity, tuple(sorted(documents)))
        with self._lock:
            if key not in self._programs:
                self._programs[key] = _cached_program(self.kb, entity, key[1])
            return self._programs[key]

    def _describe(self, program: Program, target: Target) -> str:
        key = (program.entity, program.documents, target.key)
        text = self._descriptions.get(key)
        if text is None:  # the same for every record: computed once
            text = self._descriptions[key] = describe(program, target.when)
        return text

    def rule_text(self, measure_id: str) -> str | None:
        """A measure's rule in words (the determination's ``condition``, without a record); None if it has no
        rule. The document's scope is part of the rule, as in every determination."""
        m = self.kb.measures[measure_id]
        if m.rule is None:
            return None
        program = self.program(m.rule.entity, (self.kb.clause_doc[self.kb.measure_clause[measure_id]],))
        target = program.by_key.get(f"{TargetKind.measure.value}:{measure_id}")
        return self._describe(program, target) if target is not None else None

    def jurisdiction(self, value: str | None) -> str:
        """The jurisdiction id, which some document must cover (a province or another county is an error)."""
        kb = self.kb
        j = resolve_jurisdiction(kb, value)
        if not documents_covering(kb, j):
            have = "; ".join(f"{d} ({kb.jurisdictions[dkb.doc.jurisdiction].name} and the areas in it)"
                             for d, dkb in kb.documents.items())
            level = kb.jurisdictions[j].level
            raise FieldError("jurisdiction", f"no document houfu has covers {kb.jurisdictions[j].name} ({level}); "
                                             f"houfu has {have}")
        return j

    def rete(self, program: Program) -> ReteEngine:
        from .rete import ReteEngine

        key = (program.entity, program.documents)
        with self._lock:
            if key not in self._engines:
                self._engines[key] = ReteEngine(program)
            return self._engines[key]

    # --- determinations ------------------------------------------------------------------

    def truths(self, record: Household | Site, as_of: dt.date,
               engine: EngineKind = EngineKind.rete) -> tuple[Program, Facts, dict[str, Truth], list[Firing]]:
        """The raw truth of every target for one record (the differential test compares these)."""
        _, program = self._program_for(record, as_of)
        facts, _ = self.facts(record, as_of)
        results, trace = self._evaluate(program, facts, engine)
        return program, facts, results, trace

    def facts(self, record: Household | Site, as_of: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
        """The record's facts as the rules read them (``flatten``): with what the record of the site a household
        names (policies/sites.yaml) says of the site where the household itself does not say it, and those the
        vocabulary derives on ``as_of`` where they are not given (an age from a date of birth, ``years_since``);
        and the facts taken from the site record. Only facts a household and a site share (site_type) are taken
        from the site, and never over the household's own."""
        facts = flatten(record)
        taken: dict[str, Any] = {}
        if isinstance(record, Household):
            site = site_named(self.kb, record.site)
            shared = self.kb.models.paths("household")
            for k, v in (site.facts if site is not None else {}).items():
                if k in shared and facts.get(k) is None:
                    facts[k] = taken[k] = v
        entity = "site" if isinstance(record, Site) else "household"
        return derive_facts(self._years_since, entity, facts, as_of), taken

    def _program_for(self, record: Household | Site, as_of: dt.date) -> tuple[str, Program]:
        """The record's jurisdiction id and the program of the documents in force there on ``as_of``."""
        entity = "site" if isinstance(record, Site) else "household"
        jurisdiction = self.jurisdiction(record.jurisdiction)
        return jurisdiction, self.program(entity, tuple(documents_in_force(self.kb, jurisdiction, as_of)))

    def _evaluate(self, program: Program, facts: Facts,
                  engine: EngineKind | None) -> tuple[dict[str, Truth], list[Firing]]:
        if engine is EngineKind.rete:
            return self.rete(program).evaluate(facts)
        if engine is EngineKind.plain:
            return evaluate_plain(program, facts), []
        return compiled(program).evaluate(facts)

    def determine(self, record: Household | Site, as_of: dt.date | None = None,
                  engine: EngineKind | None = None) -> Report:
        """The record's report; ``engine`` None is the default (``DEFAULT_ENGINE``, the compiled closures)."""
        kb = self.kb
        as_of = as_of or dt.date.today()
        entity = "site" if isinstance(record, Site) else "household"
        jurisdiction, program = self._program_for(record, as_of)
        facts, from_site = self.facts(record, as_of)
        results, trace = self._evaluate(program, facts, engine)
        concepts = {t.name: results[t.key] for t in program.concept_targets}
        index = _trace_index(trace)
        plans = self._plans.get((entity, program.documents))
        if plans is None:
            plans = self._plans[(entity, program.documents)] = [
                self._plan(program, m, doc_id, clause) for doc_id in program.documents
                for clause in kb.documents[doc_id].clauses for m in clause.measures if _listed(m, entity)]
        entries = [self._determination(program, plan, facts, results, concepts, index, as_of) for plan in plans]
        warnings = self.consistency(program, entity, facts, as_of) + self._site_record_differs(record)
        return Report(
            entity=entity, id=record.id, jurisdiction=jurisdiction, as_of=as_of,
            documents=[DocumentRef(id=d, title=kb.documents[d].doc.title) for d in program.documents],
            name=facts.get("name"), site=facts.get("site"), site_facts=from_site,
            member_names=[m.get("name") for m in facts.get("members") or []],
            entity_names=[e.get("name") or e["id"] for e in facts.get("entities") or []],
            summary=dict(Counter(e.status for e in entries)),
            questions=self._questions(program, entries, facts),
            determinations=entries, notices=notices(kb, jurisdiction, as_of),
            warnings=warnings,
            kb_version=kb.version, houfu_version=HOUFU_VERSION,
        )

    def _site_record_differs(self, record: Household | Site) -> list[InputWarning]:
        """A site fact the household gives that the record of the site it names contradicts (its own is used)."""
        text = self.kb.notices.get("site_record_differs")
        if not isinstance(record, Household) or text is None:
            return []
        site = site_named(self.kb, record.site)
        if site is None:
            return []
        given = flatten(record)
        out = []
        for fact, recorded in site.facts.items():
            if given.get(fact) is not None and given[fact] != recorded:
                values = dict(fact=fact, given=given[fact], site=record.site, recorded=recorded)
                out.append(InputWarning(code=text.id, fields=[fact, "site"], zh=text.zh.format(**values),
                                        en=text.en.format(**values)))
        return out

    def _plan(self, program: Program, m: Measure, doc_id: str, clause: Clause) -> _Plan:
        """What deciding ``m`` in ``program`` needs that is the same for every record, looked up once."""
        by_key = program.by_key
        target = by_key[f"{TargetKind.measure.value}:{m.id}"] if m.rule else None
        base = self._static(m, doc_id, clause)
        if target is not None:
            base["condition"] = self._describe(program, target)
        act_if = self._gated_act_if(m) if target is not None else None
        return _Plan(
            m=m, doc_id=doc_id, base=base, scope_name=scope_concept_name(doc_id), target=target,
            satisfied=by_key.get(f"{TargetKind.satisfied.value}:{m.id}"),
            requires=by_key.get(f"{TargetKind.requires.value}:{m.id}"),
            quota=m.rule.quota if m.rule is not None and m.id not in program.through_site else None,
            through_site=m.id in program.through_site,
            used=self._used_concepts(program, target) if target is not None else frozenset(),
            act_if=act_if,
            members_act=compiled(program).closure(act_if) if act_if is not None else None)

    def _determination(self, program: Program, plan: _Plan, facts: Facts, results: Mapping[str, Truth],
                       concepts: Mapping[str, Truth], trace: _TraceIndex, as_of: dt.date) -> Determination:
        kb = self.kb
        m, doc_id = plan.m, plan.doc_id
        base = dict(plan.base)
        # Each report its own lists: the static ones are shared by every check (trusted does not copy them).
        base["owners"], base["parameters"] = list(base["owners"]), list(base["parameters"])
        scope_note = None
        if concepts.get(plan.scope_name) is False:
            # The document does not cover this household or site at all: say so, citing its scope clause.
            scope = kb.documents[doc_id].doc.scope
            scope_note = ScopeNote(document=doc_id, clause_id=scope.clause,
                                   clause_number=kb.clauses[scope.clause].number, quote=scope.zh,
                                   failed=failed_tests(program, program.concepts[plan.scope_name], facts, concepts,
                                                       known_false=True))
        target = plan.target
        if target is None:
            if scope_note is not None:
                return Determination.trusted(status=Status.out_of_scope, out_of_scope=scope_note, **base)
            return Determination.trusted(status=Status.undetermined, not_decidable=m.not_decidable, **base)
        assert m.rule is not None  # a measure has a target only where it has a rule
        value = results[target.key]
        amounts: list[Amount] = []
        gap = None
        periods: list[PeriodCheck] = []
        due: dt.date | None = base["due"]  # the deadline the rule names (rule.due), if any
        missing: list[str] = []
        failed: list[str] = []
        not_yet_done = False
        if scope_note is not None:
            status = Status.out_of_scope
        elif value is None:
            status = Status.undetermined
            missing = missing_facts(program, target.when, facts, concepts)
        elif value is False:
            status = Status.does_not_apply
            failed = failed_tests(program, target.when, facts, concepts, known_false=True)  # decided above
        else:
            status = Status.applies
            sat = plan.satisfied
            if sat is not None:
                s = results[sat.key]
                if s is True:
                    status = Status.satisfied
                elif s is None:  # covered; whether it is already met is still to ask
                    missing = missing_facts(program, sat.when, facts, concepts)
                else:
                    not_yet_done = True  # covered, and known not met: the letter says what to do
            req = plan.requires
            if req is not None:
                r = results[req.key]
                if r is None:
                    status = Status.undetermined
                    missing = missing_facts(program, req.when, facts, concepts)
                elif r:
                    status, late, missing = _on_time(m, facts, due, as_of)
                    if late:
                        gap = _gap(kb, m, facts, late=due)
                elif due is not None and as_of <= due:
                    status = Status.not_due  # 2024年底前: not done, and the date has not passed
                else:
                    status = Status.violated
                    gap = _gap(kb, m, facts)
            if plan.quota is not None:
                status, periods, missing = _judge_quota(plan.quota, kb.documents[doc_id].doc, program, facts, as_of)
                if status is Status.violated:
                    gap = _gap(kb, m, facts, periods)
            if m.rule.amounts and status is Status.applies:
                amounts = self.calculators[m.rule.amounts](program, facts)
        for_members: list[int] = []
        act = False
        if status is Status.applies or status is Status.satisfied:
            for_members = self._for_members(program, target, facts)
            # Presentation data, not a determination: whether the letter should lead with this item.
            act = plan.members_act is not None and plan.members_act(facts, concepts) is True
            if act:
                assert plan.act_if is not None
                for_members = _members_where(program, plan.act_if, facts)
        # The firings of the concepts the rule uses and of the measure itself, in the trace's order.
        concept_firings, measure_firings = trace
        pairs = [p for name in plan.used for p in concept_firings.get(name, ())] + measure_firings.get(m.id, [])
        why = [f for _, f in sorted(pairs, key=_first)]
        return Determination.trusted(status=status, amounts=amounts, missing=missing, failed=failed, gap=gap, why=why,
                                     out_of_scope=scope_note, periods=periods, for_members=for_members, act=act,
                                     not_yet_done=not_yet_done and status is Status.applies,
                                     through_site=plan.through_site, **base)

    def _gated_act_if(self, m: Measure) -> Condition | None:
        """The letter's act_if with the vocabulary's gates, as the rules have them (no child acts on a job)."""
        if self._act_ifs is None:
            with self._lock:  # Gates builds each gate once, and is not safe to build from two threads at once
                if self._act_ifs is None:
                    self._act_ifs = _cached_act_ifs(self.kb, self.gates)
        return self._act_ifs.get(m.id)

    def _for_members(self, program: Program, target: Target, facts: Facts) -> list[int]:
        """The members for whom the rule's first "some member" test holds, gates included: whom a letter names."""
        key = (program.entity, program.documents, target.key)
        if key not in self._member_test:
            node = next((n for n, _ in walk(target.when) if isinstance(n, AnyMember)), None)
            self._member_test[key] = node.any_member if node is not None else None
        inner = self._member_test[key]
        if inner is None:
            return []
        holds = compiled(program).closure(inner)  # looked up once, not once per member
        return [i for i, mf in enumerate(facts.get(MEMBERS) or []) if holds(mf, {}) is True]


    def _static(self, m: Measure, doc_id: str, clause: Clause) -> dict[str, Any]:
        """The parts of a determination that are the same for every record (built once per measure)."""
        base = self._statics.get(m.id)
        if base is None:
            base = self._statics[m.id] = dict(
                measure_id=m.id, document=doc_id, clause_id=clause.id, clause_number=clause.number,
                heading=clause.heading, zh=m.zh, en=m.en, subject=m.subject.value, force=m.force.value,
                quote=m.quote, binds_household=m.binds_household,
                due=deadline.date if (deadline := deadline_of(self.kb, m.id)) else None,
                owners=[Owner(body_id=o["id"], name=o["name"], role=o["role"],
                              handles=m.handler is not None and m.handler.body == o["id"])
                        for o in owners_of(self.kb, m.id)],
                handler=None if m.handler is None else HandlerRef(
                    body_id=m.handler.body, name=self.kb.bodies[m.handler.body].name, basis=m.handler.basis,
                    text=m.handler.text, reason=m.handler.reason,
                    on_list=m.handler.body in {o["id"] for o in owners_of(self.kb, m.id)}),
                parameters=[ParameterValue(id=p.id, value=p.value, unit=p.unit, text=p.text)
                            for p in m.parameters],
                note=m.rule.note if m.rule and m.rule.note else m.note)
        return dict(base)

    def _used_concepts(self, program: Program, target: Target) -> frozenset[str]:
        key = (program.entity, program.documents, target.key)
        used = self._used.get(key)
        if used is None:
            used = self._used[key] = frozenset(_concept_names(program, target.when))
        return used

    def _questions(self, program: Program, entries: list[Determination], facts: Facts) -> list[Question]:
        """Missing facts worth asking, most decisive first (ties: household facts before member facts).

        A fact whose ``ask_if`` (policies/vocabulary.yaml) is known false for the person or business it is
        about is not asked: no school questions for a 72-year-old, no job questions for a 10-year-old.
        """
        counts: Counter[str] = Counter()
        for e in entries:
            for f in e.missing:
                counts[f] += 1
        out = []
        for f, n in counts.items():
            collection, index, key = split_fact_path(f)
            items = facts.get(collection) if collection else None
            subject = items[index] if items is not None and index is not None and index < len(items) else facts
            label = self.kb.fact_labels.get(key)
            gate = program.gates.get(key, label.ask_if if label is not None else None)
            if gate is not None and truth(program, gate, subject, {}) is False:
                continue
            about = None
            if collection == MEMBERS:
                about = subject.get("name")
            elif collection == ENTITIES:
                about = subject.get("name") or subject.get("id")
            out.append(Question(
                fact=f, member=index if collection == MEMBERS else None,
                entity=index if collection == ENTITIES else None, about=about,
                number=None if index is None else index + 1,
                zh=label.zh if label else key, en=label.en if label else key,
                choices=_choices(self.kb, key, self.fact_types.get(key)), decides=n))
        out.sort(key=lambda q: (-q.decides, q.number is not None, q.number or 0, q.fact))
        return out

    def consistency(self, program: Program, entity: str, facts: Facts, as_of: dt.date) -> list[InputWarning]:
        """The data-declared consistency checks that hold for this record, each naming its fields."""
        out = []
        for check in self.kb.checks.values():
            if check.entity in ("household", "site"):
                if check.entity == entity and self._holds(program, check, facts, as_of):
                    out.append(InputWarning(code=check.id, fields=list(check.fields), zh=check.zh, en=check.en))
                continue
            collection = MEMBERS if check.entity == "member" else ENTITIES
            for i, item in enumerate(facts.get(collection) or []):
                if self._holds(program, check, item, as_of):
                    out.append(InputWarning(code=check.id, fields=[f"{collection}[{i}].{f}" for f in check.fields],
                                            zh=check.zh, en=check.en))
        return out

    def _holds(self, program: Program, check: ConsistencyCheck, facts: Facts, as_of: dt.date) -> bool:
        """Whether a consistency check finds a contradiction in one record's (or member's, business's) facts."""
        if check.when is not None:
            return truth(program, check.when, facts, {}) is True
        if check.after_as_of is not None:
            day = facts.get(check.after_as_of)
            return day is not None and day > as_of
        label = self.kb.fact_labels[check.derived or ""]
        given, source = facts.get(label.id), facts.get(label.years_since or "")
        return given is not None and source is not None and source <= as_of and \
            given != full_years(date_number(source), date_number(as_of))

    def explain(self, record: Household | Site, measure_id: str, as_of: dt.date | None = None) -> Explanation:
        """One measure's determination with the rules that fired, and each member against the member tests."""
        report = self.determine(record, as_of)
        entry = report.by_id(measure_id)
        if entry is None:
            listed = [e.measure_id for e in report.determinations]
            raise FieldError("measure", f"{measure_id!r} is not a {report.entity} measure of the documents in force"
                             + did_you_mean(suggest(measure_id, listed, n=3), quoted=False))
        # The member tests need only the program and the facts, not a second evaluation.
        _, program = self._program_for(record, report.as_of)
        facts, _ = self.facts(record, report.as_of)
        return Explanation(determination=entry, member_tests=self._member_tests(program, self.kb.measures[measure_id],
                                                                                 facts),
                           notices=report.notices, kb_version=report.kb_version, houfu_version=report.houfu_version)

    def _member_tests(self, program: Program, m: Measure, facts: Facts) -> list[MemberTest]:
        """Per member, the truth of each member condition of the rule, with the concepts it uses cited."""
        kb = self.kb
        out = []
        target = program.by_key.get(f"{TargetKind.measure.value}:{m.id}")
        for node, _ in walk(target.when if target is not None else None):
            if isinstance(node, AnyMember):
                inner, items = node.any_member, facts.get(MEMBERS)
            elif isinstance(node, AllMembers):
                inner, items = node.all_members, facts.get(MEMBERS)
            elif isinstance(node, AnyEntity):
                inner, items = node.any_entity, facts.get(ENTITIES)
            elif isinstance(node, AllEntities):
                inner, items = node.all_entities, facts.get(ENTITIES)
            else:
                continue
            used = [UsedConcept(name=n.member_concept, document=kb.clause_doc[kb.concept_clause[n.member_concept]],
                                clause_number=kb.clauses[kb.concept_clause[n.member_concept]].number,
                                quote=kb.concepts[n.member_concept].quote)
                    for n, _ in walk(inner) if isinstance(n, MemberConceptIs)]
            members = [MemberTruth(member=i, name=mf.get("name") or mf.get("id"), value=truth(program, inner, mf, {}))
                       for i, mf in enumerate(items or [])]
            of = MEMBERS if isinstance(node, AnyMember | AllMembers) else ENTITIES
            decl = kb.models.records.get(kind_tested(inner) or "") if of == ENTITIES else None
            out.append(MemberTest(test=describe(program, node), concepts=used, members=members, of=of,
                                  kind_zh=decl.zh if decl else None, kind_en=decl.en if decl else None))
        return out


_TraceIndex = tuple[dict[str, list[tuple[int, Firing]]], dict[str, list[tuple[int, Firing]]]]


def _trace_index(trace: list[Firing]) -> _TraceIndex:
    """A record's firings by name, concepts apart, with their places in the trace (built once per report, which
    looks up every measure's)."""
    concepts: dict[str, list[tuple[int, Firing]]] = {}
    measures: dict[str, list[tuple[int, Firing]]] = {}
    for i, f in enumerate(trace):
        (concepts if f.kind is TargetKind.concept else measures).setdefault(f.name, []).append((i, f))
    return concepts, measures


def _concept_names(program: Program, cond: Condition | None) -> set[str]:
    out: set[str] = set()
    for node, _ in walk(cond):
        if isinstance(node, ConceptIs) and node.concept not in out:
            out.add(node.concept)
            if node.concept in program.concepts:
                out |= _concept_names(program, program.concepts[node.concept])
    return out


def _judge_quota(quota: Quota, doc: Document, program: Program, facts: Facts,
                 as_of: dt.date) -> tuple[Status, list[PeriodCheck], list[str]]:
    """每年/每季度不少于N次: every period of the document's force up to ``as_of`` (``engine.periods``)."""
    plan = quota_plan(quota, doc, float(resolve(program, quota.min)), as_of)
    status, checks, ask = judge(plan, facts.get(quota.count))
    return status, checks, [quota.count] if ask else []


def _on_time(m: Measure, facts: Facts, due: dt.date | None, as_of: dt.date) -> tuple[Status, bool, list[str]]:
    """A task the site has done (``requires`` true): met, unless its deadline has passed and the rule records when
    it was done (``done_on``): then met on or before the deadline, violated (late) after it, undetermined while the
    date is unknown. Before the deadline, done is met whatever date is given. Returns (status, late, missing)."""
    done_on = m.rule.done_on if m.rule else None
    if done_on is None or due is None or as_of <= due:
        return Status.met, False, []
    day = facts.get(done_on)
    if day is None:
        return Status.undetermined, False, [done_on]
    return (Status.violated, True, []) if day > due else (Status.met, False, [])


def _gap(kb: KB, m: Measure, facts: Facts, periods: list[PeriodCheck] | None = None,
         late: dt.date | None = None) -> Gap:
    """The rule's gap sentence filled in; for a quota, once for each period missed (joined); for a task done after
    its deadline (``late``, the deadline), the rule's late_zh/late_en."""
    mins = [p.value for p in m.parameters if p.bound == "min"]
    rule = m.rule

    declared = kb.wording.values if kb.wording is not None else {}

    def fill(template: str | None, lang: Literal["zh", "en"], period: PeriodCheck | None) -> str:
        words = declared.get(lang)
        values = {k: _fmt(v, words) for k, v in facts.items() if k != "members"}
        values["min"] = _fmt(mins[-1], words) if mins else "?"
        if late is not None:
            values["due"] = late.isoformat()
        if period is not None:
            values.update(period=period.period, count=_fmt(period.count, words), min=_fmt(period.required, words))
        return re.sub(r"\{([\w.]+)\}", lambda g: str(values.get(g.group(1), "?")), template or "")

    missed: list[PeriodCheck | None] = [p for p in periods or [] if p.status is Status.violated] or [None]
    zh = (rule.late_zh if late is not None else rule.gap_zh) if rule else None
    en = (rule.late_en if late is not None else rule.gap_en) if rule else None
    return Gap(zh="；".join(fill(zh, "zh", p) for p in missed), en="; ".join(fill(en, "en", p) for p in missed))


def _fmt(v: Any, words: ValueWords | None) -> str:
    # Gap sentences come from data (rule.gap_zh / gap_en), and so do the words for a value that is no number
    # (policies/wording.yaml, values); only numbers are formatted here.
    if v is None:
        return words.unknown if words else "?"
    if isinstance(v, bool):
        return (words.yes if v else words.no) if words else str(v).lower()
    return f"{v:g}" if isinstance(v, float) else str(v)


def _choices(kb: KB, key: str, ann: Any) -> list[Choice]:
    labels = kb.fact_labels[key].labels if key in kb.fact_labels else {}
    if labels:
        return [Choice(code=code, zh=zh, en=code.replace("_", " ")) for code, zh in labels.items()]
    if ann is bool or bool in get_args(ann):
        return [Choice(code="true", zh="是", en="yes"), Choice(code="false", zh="否", en="no")]
    return []



def _cached_program(kb: KB, entity: str, documents: tuple[str, ...]) -> Program:
    """The program, from the disk cache of a cached KB (``houfu.kb.cache``) when it was built there before: a cold
    check then builds no condition model. Keyed by the KB's key and the source of the modules that build it."""
    if not kb.cache_key:
        return build_program(kb, entity, documents)
    from pathlib import Path

    from houfu.kb import cache

    here = Path(__file__).parent
    key = cache.derived_key(kb.cache_key, "program", entity, *documents,
                            sources=tuple(here / f for f in ("program.py", "logic.py", "results.py")))
    program = cache.read(key)
    if isinstance(program, Program) and program.entity == entity and program.documents == documents:
        return program
    program = build_program(kb, entity, documents)
    cache.write(key, program)
    return program


def _cached_act_ifs(kb: KB, gates: Gates) -> dict[str, Condition]:
    """Every measure's letter act_if with the gates joined, from the disk cache of a cached KB as the programs
    are (``_cached_program``): joining them builds condition models, whose five validators took about 20 ms
    of a cold check to build (issue 25)."""
    def made() -> dict[str, Condition]:
        return {m.id: gates.apply(m.plain.act_if) for m in kb.measures.values()
                if m.plain is not None and m.plain.act_if is not None}

    if not kb.cache_key:
        return made()
    from pathlib import Path

    from houfu.kb import cache

    key = cache.derived_key(kb.cache_key, "act_if", sources=(Path(__file__).parent / "program.py",))
    kept = cache.read(key)
    if isinstance(kept, dict):
        return kept
    act_ifs = made()
    cache.write(key, act_ifs)
    return act_ifs


_EVALUATORS: dict[int, tuple[KB, Evaluator]] = {}
_EVALUATORS_LOCK = threading.Lock()


def evaluator_for(kb: KB) -> Evaluator:
    """The shared evaluator of a loaded KB, built once (compiling is the slow part)."""
    with _EVALUATORS_LOCK:
        hit = _EVALUATORS.get(id(kb))
        if hit is None or hit[0] is not kb:
            hit = (kb, Evaluator(kb))
            _EVALUATORS[id(kb)] = hit
        return hit[1]


def _members_where(program: Program, cond: Condition | None, facts: Facts) -> list[int]:
    """The members for whom the first "some member" test of ``cond`` holds."""
    node = next((n for n, _ in walk(cond) if isinstance(n, AnyMember)), None)
    if node is None:
        return []
    return [i for i, mf in enumerate(facts.get(MEMBERS) or []) if truth(program, node.any_member, mf, {}) is True]
