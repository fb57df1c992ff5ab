"""Determinations: which measures apply to a household or site, why, and who owns them.

``determine(kb, record)`` runs the durable-rules engine (``engine="rete"``, the
default) or the plain reference evaluator (``engine="plain"``) over the rule
data of the documents in force, and turns truth values into determinations a
caseworker can act on.  Status words:

* household: ``applies`` | ``does_not_apply`` | ``undetermined``
* site: ``met`` | ``violated`` | ``applies`` (no compliance test) |
  ``does_not_apply`` | ``undetermined``
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from houfu.kb.facts import Household, Site
from houfu.kb.loader import KB
from houfu.kb.models import Measure
from houfu.kb.query import owners_of

from .amounts import compute
from houfu.app.inputs import InputError, flatten, parse_file, resolve_jurisdiction
from .logic import Truth, describe, failed_tests, missing_facts, truth
from .program import Program, build_program, evaluate_plain
from .rete import ReteEngine

__all__ = ["determine", "determine_file", "documents_in_force", "engine_for", "explain"]

def engine_for(kb: KB, program: Program) -> ReteEngine:
    """The compiled durable-rules engine for a program, built once per KB."""
    key = ("engine", program.entity, program.documents)
    if key not in kb.cache:
        kb.cache[key] = ReteEngine(kb, program)
    return kb.cache[key]


def documents_in_force(kb: KB, jurisdiction: str, as_of: dt.date) -> list[str]:
    """Documents whose jurisdiction contains ``jurisdiction`` and that were issued by ``as_of``."""
    chain, j = [], jurisdiction
    while j:
        chain.append(j)
        j = kb.jurisdictions[j].parent
    return [d for d, dkb in kb.documents.items()
            if dkb.doc.jurisdiction in chain and dkb.doc.in_force_from <= as_of]


def _listed(m: Measure, entity: str) -> bool:
    if m.rule:
        return m.rule.entity == entity
    subjects = ("household", "person") if entity == "household" else ("site",)
    return m.subject.value in subjects


def determine(kb: KB, record: Household | Site, as_of: dt.date | None = None,
              engine: str = "rete", source: str = "-") -> dict[str, Any]:
    entity = "site" if isinstance(record, Site) else "household"
    as_of = as_of or dt.date.today()
    jurisdiction = resolve_jurisdiction(kb, record.jurisdiction, source)
    docs = documents_in_force(kb, jurisdiction, as_of)
    facts = flatten(record)
    program = build_program(kb, entity, tuple(docs))
    if engine == "rete":
        results, trace = engine_for(kb, program).evaluate(facts)
    elif engine == "plain":
        results, trace = evaluate_plain(kb, program, facts), []
    else:
        raise InputError(source, "--engine", f"unknown engine {engine!r}; use rete or plain")
    concepts = {t.name: results[t.key] for t in program.concepts}
    targets = {t.key: t for t in program.targets}
    entries = []
    for doc_id in docs:
        for clause in kb.documents[doc_id].clauses:
            for m in clause.measures:
                if _listed(m, entity):
                    entries.append(_entry(kb, m, doc_id, clause, facts, results, concepts, targets, trace))
    return {
        "entity": entity,
        "id": record.id,
        "jurisdiction": jurisdiction,
        "as_of": as_of.isoformat(),
        "documents": [{"id": d, "title": kb.documents[d].doc.title} for d in docs],
        "member_names": [m.get("name") for m in facts.get("members") or []],
        "summary": dict(Counter(e["status"] for e in entries)),
        "questions": _questions(entries),
        "measures": entries,
    }


def _entry(kb, m: Measure, doc_id, clause, facts, results: dict[str, Truth], concepts, targets, trace):
    e: dict[str, Any] = {
        "id": m.id, "document": doc_id, "clause": clause.number, "clause_id": clause.id,
        "heading": clause.heading, "zh": m.zh, "en": m.en, "subject": m.subject.value,
        "force": m.force.value, "quote": m.quote, "binds_household": m.binds_household,
        "departments": [{"name": o["name"], "role": o["role"], "id": o["id"]} for o in owners_of(kb, m.id)],
        "amounts": {p.id: {"value": p.value, "unit": p.unit.value, "text": p.text} for p in m.parameters},
        "missing": [], "failed": [], "why": [], "note": m.rule.note if m.rule and m.rule.note else m.note,
    }
    if not m.rule:
        e.update(status="undetermined", not_decidable=m.not_decidable)
        return e
    target = targets[f"measure:{m.id}"]
    value = results[target.key]
    e["condition"] = describe(kb, target.when)
    if value is None:
        e["status"] = "undetermined"
        e["missing"] = missing_facts(kb, target.when, facts, concepts)
    elif value is False:
        e["status"] = "does_not_apply"
        e["failed"] = failed_tests(kb, target.when, facts, concepts)
    else:
        e["status"] = "applies"
        req = targets.get(f"requires:{m.id}")
        if req is not None:
            r = results[req.key]
            if r is None:
                e["status"] = "undetermined"
                e["missing"] = missing_facts(kb, req.when, facts, concepts)
            elif r:
                e["status"] = "met"
            else:
                e["status"] = "violated"
                e["gap"] = _gap(kb, m, facts)
        if m.rule.amounts:
            e["amounts"]["computed"] = compute(kb, m.rule.amounts, facts)
    used = {f"concept:{n}" for n in _concept_names(kb, target.when)}
    e["why"] = [f for f in trace if f"{f['kind']}:{f['name']}" in used
                or (f["name"] == m.id and f["kind"] in ("measure", "requires"))]
    return e


def _concept_names(kb: KB, cond) -> set[str]:
    out: set[str] = set()
    for node, _ in cond.walk() if cond else ():
        if node.concept and node.concept not in out:
            out.add(node.concept)
            if node.concept in kb.concepts:
                out |= _concept_names(kb, kb.concepts[node.concept].when)
    return out


def _gap(kb: KB, m: Measure, facts) -> dict[str, str]:
    mins = [p.value for p in m.parameters if p.bound == "min"]

    def fill(template: str | None, lang: str) -> str:
        values = {k: _fmt(v, lang) for k, v in facts.items() if k != "members"}
        values["min"] = _fmt(mins[-1], lang) if mins else "?"
        return re.sub(r"\{([\w.]+)\}", lambda g: str(values.get(g.group(1), "?")), template or "")

    return {"zh": fill(m.rule.gap_zh, "zh"), "en": fill(m.rule.gap_en, "en")}


def _fmt(v: Any, lang: str) -> str:
    if v is None:
        return "未知" if lang == "zh" else "unknown"
    if isinstance(v, bool):
        return ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")
    return f"{v:g}" if isinstance(v, float) else str(v)


def _questions(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Missing facts, most decisive first: the number of undetermined measures each would help decide."""
    counts: Counter[str] = Counter()
    for e in entries:
        for f in e["missing"]:
            counts[f] += 1
    return [{"fact": f, "decides": n} for f, n in counts.most_common()]


def explain(kb: KB, record: Household | Site, measure_id: str, as_of: dt.date | None = None,
            source: str = "-") -> dict[str, Any]:
    """One measure's determination with the chain of rules that fired, each citing its clause."""
    report = determine(kb, record, as_of, source=source)
    entry = next((e for e in report["measures"] if e["id"] == measure_id), None)
    if entry is None:
        import difflib

        listed = [e["id"] for e in report["measures"]]
        hint = difflib.get_close_matches(measure_id, listed, n=3, cutoff=0.5)
        raise InputError(source, "MEASURE_ID", f"{measure_id!r} is not a {report['entity']} measure of the "
                         "documents in force" + (f"; did you mean {', '.join(hint)}?" if hint else ""))
    for f in entry["why"]:
        f["clause_number"] = kb.clauses[f["clause"]].number
    entry["member_tests"] = _member_tests(kb, kb.measures[measure_id], flatten(record))
    return entry


def _member_tests(kb: KB, m: Measure, facts) -> list[dict[str, Any]]:
    """Per member, the truth of each member condition of the rule, with the concepts it uses cited."""
    out = []
    for node, _ in m.rule.when.walk() if m.rule and m.rule.when else ():
        inner = node.any_member or node.all_members
        if inner is None:
            continue
        concepts = [{"name": n.member_concept, "document": kb.clause_doc[kb.concept_clause[n.member_concept]],
                     "clause": kb.clauses[kb.concept_clause[n.member_concept]].number,
                     "quote": kb.concepts[n.member_concept].quote} for n, _ in inner.walk() if n.member_concept]
        members = [{"member": i, "name": mf.get("name"), "value": truth(kb, inner, mf, {})}
                   for i, mf in enumerate(facts.get("members") or [])]
        out.append({"test": describe(kb, node), "concepts": concepts, "members": members})
    return out


def determine_file(kb: KB, path: str, model: type[Household] | type[Site], as_of: dt.date | None = None,
                   progress=None) -> dict[str, Any]:
    """Determine every record of a file; bad records are reported and every input accounted for.

    ``progress`` wraps the list of parsed records (e.g. a progress bar) when given.
    """
    good, rejected = parse_file(path, model)
    records = len(good) + len(rejected)
    reports = []
    for where, record in progress(good) if progress else good:
        try:
            reports.append(determine(kb, record, as_of, source=where))
        except InputError as exc:
            rejected.append(exc)
    return {"records": records, "evaluated": len(reports), "rejected": len(rejected),
            "errors": rejected, "results": reports}
