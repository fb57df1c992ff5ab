"""Semantic checks over a loaded knowledge base.

``validate(kb)`` returns every defect it finds, each naming its file and key.
What it rejects, and why (the fidelity rules of the project):

* a cleaned source text that is not the scrape with its declared chrome and
  repairs applied (no silent edits);
* a clause text that is not verbatim in the cleaned source, and a measure or
  concept quote that is not verbatim in its clause;
* a dangling id (part, topic, body, concept, parameter, jurisdiction, clause);
* a dingnan-style parenthesised responsibility list not fully encoded;
* a parameter whose number is not in its quote, and a number in a quote that
  no parameter carries;
* a rule naming a fact outside the input vocabulary;
* a household, person or site measure with neither a rule nor a reason why it
  cannot be decided from household or site facts.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from .conditions import (
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
    ParamRef,
    QuantifierVisitor,
    visit,
    walk,
)
from .loader import KB, DocumentKB, KBError, rebuild_source
from .models import Clause, LetterKind, Measure
from .query import owners_of

__all__ = ["validate", "drafts", "parse_responsibility_list", "numbers_in", "qualifier_marks"]

_DOC_REF = re.compile(r"〔\d{4}〕\s*\d+\s*号|\d{4}年\d{1,2}月\d{1,2}日")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?")

def parse_responsibility_list(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """Split the responsibility list a clause ends with into the list's role (lead, shared or mixed) and each
    name as written with its own role: the same reader as `houfu kb scaffold` (kb.ingest), in every wording
    it knows."""
    from .ingest import parse_responsibility

    r = parse_responsibility(text)
    if r is None:
        return None
    roles = {b.role for b in r.bodies}
    return (roles.pop() if len(roles) == 1 else "mixed"), [(b.as_written, b.role) for b in r.bodies]


def numbers_in(text: str) -> list[float]:
    """Arabic numbers in a policy phrase, with 万 scaled (1万元 -> 10000)."""
    text = _DOC_REF.sub("", text)
    return [float(n) * (10000 if wan else 1) for n, wan in _NUMBER.findall(text)]


def _resolve_name(kb: KB, written: str) -> set[str]:
    return {b.id for b in kb.bodies.values() if written == b.name or written in b.aliases}


def validate(kb: KB) -> list[KBError]:
    errors: list[KBError] = []
    for dkb in kb.documents.values():
        errors += _check_document(kb, dkb)
    errors += _check_registries(kb)
    return errors


def _check_registries(kb: KB) -> list[KBError]:
    errs = []
    for b in kb.bodies.values():
        path = kb.folder / "bodies.yaml"
        if b.successor and b.successor not in kb.bodies:
            errs.append(KBError(path, f"bodies[{b.id}].successor", f"unknown body id {b.successor!r}"))
        if b.jurisdiction and b.jurisdiction not in kb.jurisdictions:
            errs.append(KBError(path, f"bodies[{b.id}].jurisdiction", f"unknown jurisdiction {b.jurisdiction!r}"))
    for label in kb.fact_labels.values():
        if label.unit is not None and label.unit not in kb.units:
            errs.append(KBError(kb.folder / "vocabulary.yaml", f"facts[{label.id}].unit",
                                f"unknown unit {label.unit!r}; units: {', '.join(kb.units)}"))
        if label.type == "list" and (label.id, label.records) not in (("members", ["household"]),
                                                                 ("entities", ["household"])):
            errs.append(KBError(kb.folder / "vocabulary.yaml", f"facts[{label.id}].type",
                                "only a household's members and entities are lists"))
        if label.ask_if is not None:
            scope = next((s for s in ("member", "entity", "household", "site")
                          if label.id in kb.models.paths(s)), None)
            if scope is None:
                errs.append(KBError(kb.folder / "vocabulary.yaml", f"facts[{label.id}].ask_if",
                                    "only a fact of a member, business, household or site can be gated"))
            else:
                errs += _check_condition(kb, label.ask_if, scope, kb.folder / "vocabulary.yaml",
                                         f"facts[{label.id}].ask_if")
    for check in kb.checks.values():
        errs += _check_condition(kb, check.when, check.entity, kb.folder / "consistency.yaml",
                                 f"checks[{check.id}].when")
    errs += _check_columns(kb)
    for site in kb.sites.values():
        path = kb.folder / "sites.yaml"
        if site.jurisdiction not in kb.jurisdictions:
            errs.append(KBError(path, f"sites[{site.id}].jurisdiction", f"unknown jurisdiction {site.jurisdiction!r}"))
        if site.document is not None and site.document not in kb.documents:
            errs.append(KBError(path, f"sites[{site.id}].document", f"unknown document {site.document!r}"))
        for fact, value in site.facts.items():
            if fact not in kb.models.paths("site"):
                errs.append(KBError(path, f"sites[{site.id}].facts.{fact}", "not a site fact of the vocabulary"))
                continue
            try:
                kb.models.site.model_validate({"id": site.id, fact: value})
            except ValidationError as exc:
                errs.append(KBError(path, f"sites[{site.id}].facts.{fact}", f"{value!r}: {exc.errors()[0]['msg']}"))
    for j in kb.jurisdictions.values():
        if j.parent and j.parent not in kb.jurisdictions:
            errs.append(KBError(kb.folder / "jurisdictions.yaml", f"jurisdictions[{j.id}].parent",
                                f"unknown jurisdiction {j.parent!r}"))
    return errs


def _check_columns(kb: KB) -> list[KBError]:
    """columns.yaml names real fields, and its value spellings map to real codes."""
    path = kb.folder / "columns.yaml"
    errs = []
    fields = {"household": set(kb.models.paths("household")) | {"id", "name", "site", "jurisdiction"},
              "member": set(kb.models.paths("member")) | {"household", "name"},
              "entity": set(kb.models.paths("entity")) | {"household", "id", "name"},
              "site": set(kb.models.paths("site")) | {"id", "name", "jurisdiction"}}
    c = kb.columns
    for level, allowed in fields.items():
        for name in getattr(c, level):
            if name not in allowed:
                errs.append(KBError(path, f"{level}.{name}", f"not a {level} field"))
    for fact, spellings in c.values.items():
        label = kb.fact_labels.get(fact)
        codes = set(label.labels) if label else set()
        for spelling, code in spellings.items():
            if code not in codes:
                errs.append(KBError(path, f"values.{fact}.{spelling}", f"{code!r} is not a code of {fact}"))
    for item in c.lists:
        errs += _check_condition(kb, item.when, "household", path, f"lists[{item.id}].when")
    return errs


def _check_document(kb: KB, dkb: DocumentKB) -> list[KBError]:
    errs: list[KBError] = []
    doc, folder = dkb.doc, dkb.folder
    doc_path, clauses_path = folder / "document.yaml", folder / "clauses.yaml"

    try:
        rebuilt = rebuild_source(dkb.scraped_text, doc, doc_path)
        if rebuilt != dkb.source_text:
            line = next(i for i, (a, b) in enumerate(zip(rebuilt.splitlines() + [""], dkb.source_text.splitlines() + [""], strict=False), 1) if a != b)
            errs.append(KBError(folder / "source.txt", f"line {line}",
                                "differs from scraped.txt with the declared chrome and repairs applied; "
                                "declare the edit under `repairs` in document.yaml"))
    except KBError as exc:
        errs.append(exc)

    if doc.jurisdiction not in kb.jurisdictions:
        errs.append(KBError(doc_path, "jurisdiction", f"unknown jurisdiction {doc.jurisdiction!r}"))
    if doc.period is not None:
        if doc.period.quote not in dkb.source_text:
            errs.append(KBError(doc_path, "period.quote", "not a verbatim substring of source.txt"))
        if doc.period.clause not in kb.clauses:
            errs.append(KBError(doc_path, "period.clause", f"unknown clause id {doc.period.clause!r}"))
    if doc.one_stop_window is not None:
        if doc.one_stop_window.clause not in kb.clauses:
            errs.append(KBError(doc_path, "one_stop_window.clause", f"unknown clause {doc.one_stop_window.clause!r}"))
        elif doc.one_stop_window.quote not in kb.clauses[doc.one_stop_window.clause].text:
            errs.append(KBError(doc_path, "one_stop_window.quote", "not a verbatim substring of the clause"))
    if doc.convention is not None and doc.convention.quote and doc.convention.quote not in dkb.source_text:
        errs.append(KBError(doc_path, "convention.quote", "not a verbatim substring of source.txt"))
    if doc.in_force_until is not None and doc.in_force_until < doc.in_force_from:
        errs.append(KBError(doc_path, "in_force_until", "ends before it starts"))
    clause_ids = {c.id: c for c in dkb.clauses}
    for i, deadline in enumerate(doc.deadlines):
        where = f"deadlines[{deadline.id}]"
        if [d.id for d in doc.deadlines].index(deadline.id) != i:
            errs.append(KBError(doc_path, where, f"duplicate deadline id {deadline.id!r}"))
        if deadline.clause not in clause_ids:
            errs.append(KBError(doc_path, f"{where}.clause", f"unknown clause {deadline.clause!r}"))
        elif deadline.text not in clause_ids[deadline.clause].text:
            errs.append(KBError(doc_path, f"{where}.text", "not a verbatim substring of the clause"))
    for i, parent in enumerate(doc.parents):
        if parent.quote not in dkb.source_text:
            errs.append(KBError(doc_path, f"parents[{i}].quote", "not a verbatim substring of source.txt"))
    if doc.scope.clause not in kb.clauses:
        errs.append(KBError(doc_path, "scope.clause", f"unknown clause id {doc.scope.clause!r}"))
    elif len(doc.scope.site_types) < 4 and doc.scope.zh not in kb.clauses[doc.scope.clause].text:
        errs.append(KBError(doc_path, "scope.zh", "a restricting scope must quote its clause verbatim"))
    for i, rep in enumerate(doc.repairs):
        if rep.clause and rep.clause not in kb.clauses:
            errs.append(KBError(doc_path, f"repairs[{i}].clause", f"unknown clause id {rep.clause!r}"))

    part_ids = {p.id for p in dkb.parts}
    for clause in dkb.clauses:
        key = f"clauses[{clause.id}]"
        if clause.part not in part_ids:
            errs.append(KBError(clauses_path, f"{key}.part", f"unknown part id {clause.part!r}"))
        if clause.text not in dkb.source_text:
            errs.append(KBError(clauses_path, f"{key}.text", "not a verbatim substring of source.txt"))
        for t in clause.topics:
            if t not in kb.topics:
                errs.append(KBError(clauses_path, f"{key}.topics", f"unknown topic {t!r}"))
        errs += _check_responsibility(kb, clause, clauses_path, key)
        for i, ne in enumerate(clause.not_encoded):
            if ne.text not in clause.text:
                errs.append(KBError(clauses_path, f"{key}.not_encoded[{i}].text", "not a verbatim substring of the clause"))
        for concept in clause.concepts:
            ckey = f"{key}.concepts[{concept.name}]"
            if concept.quote not in clause.text:
                errs.append(KBError(clauses_path, f"{ckey}.quote", "not a verbatim substring of the clause text"))
            errs += _check_condition(kb, concept.when, concept.entity, clauses_path, f"{ckey}.when")
        for m in clause.measures:
            errs += _check_measure(kb, clause, m, clauses_path, f"{key}.measures[{m.id}]")
    return errs + drafts(dkb)


def drafts(dkb: DocumentKB) -> list[KBError]:
    """What `houfu kb scaffold` drafted and a person has not yet reviewed: each is listed as a TODO, so a
    draft document fails validation on exactly these until they are done."""
    doc, folder = dkb.doc, dkb.folder
    doc_path, clauses_path = folder / "document.yaml", folder / "clauses.yaml"
    out = [KBError(doc_path, "todo", f"TODO: {t}") for t in doc.todo]
    out += [KBError(doc_path, f"chrome[{i}]", f"TODO: proposed chrome ({c.reason}); keep it, or drop the line")
            for i, c in enumerate(doc.chrome) if c.draft]
    out += [KBError(doc_path, f"deadlines[{d.id}]", "TODO: proposed deadline; check its date, then name it in "
                                                   "the rule it binds (rule.due)") for d in doc.deadlines if d.draft]
    out += [KBError(doc_path, f"repairs[{i}]", f"TODO: proposed repair ({r.reason}); accept it (drop `draft`) or "
                                               "remove it") for i, r in enumerate(doc.repairs) if r.draft]
    for clause in dkb.clauses:
        key = f"clauses[{clause.id}]"
        out += [KBError(clauses_path, f"{key}.not_encoded[{i}]", ne.reason) for i, ne in enumerate(clause.not_encoded)
                if ne.reason.startswith("TODO")]
        if clause.responsibility and clause.responsibility.draft:
            out.append(KBError(clauses_path, f"{key}.responsibility", "TODO: check the bodies and roles read"))
        for m in clause.measures:
            if m.draft:
                out.append(KBError(clauses_path, f"{key}.measures[{m.id}]",
                                   "TODO: draft measure: check force, subject and gloss; write its rule or why none"))
            out += [KBError(clauses_path, f"{key}.measures[{m.id}].parameters[{p.id}]",
                            "TODO: draft parameter: check value, unit and bound") for p in m.parameters if p.draft]
    return out


def _check_responsibility(kb: KB, clause: Clause, path: Path, key: str) -> list[KBError]:
    errs = []
    parsed = parse_responsibility_list(clause.text)
    resp = clause.responsibility
    if parsed and not resp:
        return [KBError(path, f"{key}.responsibility", "the clause ends in a responsibility list that is not encoded")]
    if not resp:
        return []
    if not clause.text.endswith(resp.list_text):
        errs.append(KBError(path, f"{key}.responsibility.list_text", "not the verbatim list at the end of the clause"))
    role, pairs = parsed or ("", [])
    names = [n for n, _ in pairs]
    written = [b.as_written for b in resp.bodies]
    if written != names:
        missing = [n for n in names if n not in written]
        extra = [n for n in written if n not in names]
        errs.append(KBError(path, f"{key}.responsibility.bodies",
                            f"does not match the list in the text (missing {missing}, not in text {extra})"))
    if parsed and resp.role != role:
        errs.append(KBError(path, f"{key}.responsibility.role", f"the text says {role!r}"))
    elif parsed and role == "mixed" and written == names:
        for b, (_, said) in zip(resp.bodies, pairs, strict=True):
            if b.list_role != said:
                errs.append(KBError(path, f"{key}.responsibility.bodies[{b.body}].list_role",
                                    f"the text makes {b.as_written} {said!r}"))
    for b in resp.bodies:
        if b.body not in kb.bodies:
            errs.append(KBError(path, f"{key}.responsibility.bodies", f"unknown body id {b.body!r}"))
        elif b.body not in _resolve_name(kb, b.as_written):
            errs.append(KBError(path, f"{key}.responsibility.bodies",
                                f"{b.as_written!r} is not a name or alias of body {b.body!r}"))
    return errs


def _check_measure(kb: KB, clause: Clause, m: Measure, path: Path, key: str) -> list[KBError]:
    errs = []
    if not m.id.startswith(clause.id + "."):
        errs.append(KBError(path, f"{key}.id", f"a measure id must start with its clause id {clause.id!r}."))
    if m.quote not in clause.text:
        errs.append(KBError(path, f"{key}.quote", "not a verbatim substring of the clause text"))
    for t in m.topics:
        if t not in kb.topics:
            errs.append(KBError(path, f"{key}.topics", f"unknown topic {t!r}"))
    for n in m.named:
        if n.body not in kb.bodies:
            errs.append(KBError(path, f"{key}.named", f"unknown body id {n.body!r}"))
        elif n.as_written not in m.quote:
            errs.append(KBError(path, f"{key}.named", f"{n.as_written!r} does not appear in the quote"))
        elif n.body not in _resolve_name(kb, n.as_written):
            errs.append(KBError(path, f"{key}.named", f"{n.as_written!r} is not a name or alias of body {n.body!r}"))
    covered: list[float] = []
    for p in m.parameters:
        pkey = f"{key}.parameters[{p.id}]"
        if p.unit not in kb.units:
            errs.append(KBError(path, f"{pkey}.unit", f"unknown unit {p.unit!r}; units are listed in units.yaml"))
        if p.text not in m.quote:
            errs.append(KBError(path, f"{pkey}.text", f"{p.text!r} does not appear in the quote"))
        nums = numbers_in(p.text) or _frequency(p.text)
        if p.value not in nums:
            errs.append(KBError(path, f"{pkey}.value", f"{p.value:g} is not the number in {p.text!r} ({nums})"))
        covered += nums
    doc = kb.documents[kb.clause_doc[clause.id]].doc
    for deadline in doc.deadlines:  # a date's numbers are the deadline's, not a parameter's
        if deadline.text in m.quote:
            covered += numbers_in(deadline.text)
    for num in numbers_in(m.quote):
        if num not in covered:
            errs.append(KBError(path, f"{key}.parameters",
                                f"the quote carries the number {num:g}, which no parameter encodes"))
    errs += _check_record(kb, m, path, key)
    needs_rule = m.subject.value in ("household", "person", "site")
    if needs_rule and not m.rule and not m.not_decidable:
        errs.append(KBError(path, f"{key}.rule",
                            f"a {m.subject.value} measure needs a rule or a `not_decidable` reason"))
    if m.rule:
        rule = m.rule
        for part, cond in (("when", rule.when), ("satisfied_if", rule.satisfied_if), ("requires", rule.requires)):
            errs += _check_condition(kb, cond, rule.entity, path, f"{key}.rule.{part}")
        if rule.requires and rule.entity != "site":
            errs.append(KBError(path, f"{key}.rule.requires", "`requires` (met/violated) is for site rules only"))
        if rule.due is not None:
            if not rule.requires:
                errs.append(KBError(path, f"{key}.rule.due", "a deadline needs `requires`: what must be done by it"))
            if rule.due not in {d.id for d in doc.deadlines}:
                errs.append(KBError(path, f"{key}.rule.due", f"unknown deadline {rule.due!r} of {doc.id}"))
        if m.reaches == "households":
            # Each household decides it from its own facts: the site facts a household gives (site_type).
            errs += [KBError(e.file, f"{key}.reaches", f"a site rule that reaches households tests only facts a "
                                                        f"household gives too: {e.message}")
                     for e in _check_condition(kb, rule.when, "household", path, f"{key}.rule.when")]
        if rule.satisfied_if and rule.entity != "household":
            errs.append(KBError(path, f"{key}.rule.satisfied_if", "`satisfied_if` is for household rules; "
                                                                   "a site rule is met through `requires`"))
        if rule.quota:
            if rule.entity != "site" or rule.requires:
                errs.append(KBError(path, f"{key}.rule.quota", "`quota` is for site rules without `requires`"))
            periodic = dict(kb.models.periodic)
            if periodic.get(rule.quota.count) != rule.quota.period:
                errs.append(KBError(path, f"{key}.rule.quota.count", f"{rule.quota.count!r} is not a per-"
                                    f"{rule.quota.period} count; per-period facts: {periodic}"))
            if isinstance(rule.quota.min, ParamRef) and rule.quota.min.param not in kb.parameters:
                errs.append(KBError(path, f"{key}.rule.quota.min", f"unknown parameter {rule.quota.min.param!r}"))
        # The applicability test must never be "not yet done": that is the fulfilment test's job.
        for part, cond in (("satisfied_if", rule.satisfied_if), ("requires", rule.requires)):
            for fact in sorted(_negated_facts(rule.when) & _facts_in(cond)):
                errs.append(KBError(path, f"{key}.rule.when", f"applies because {fact} is not yet true, which "
                                    f"`{part}` tests: keep whom the norm covers apart from whether it is met"))
    return errs


class _ConditionCheck(QuantifierVisitor[list[str]]):
    """Problems of one condition node (not its children), as messages."""

    def __init__(self, kb: KB, scope: str, in_member: bool, entity: str):
        self.kb, self.scope, self.in_member, self.entity = kb, scope, in_member, entity

    def fact(self, c: Fact) -> list[str]:
        out = []
        if c.fact not in self.kb.models.paths(self.scope):
            out.append(f"unknown {self.scope} fact {c.fact!r}")
        value = c.value
        if isinstance(value, ParamRef) and value.param not in self.kb.parameters:
            out.append(f"unknown parameter {value.param!r}")
        if isinstance(value, FactRef) and value.fact_ref not in self.kb.models.paths(self.scope):
            out.append(f"unknown {self.scope} fact {value.fact_ref!r}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value != 0:
            out.append(f"literal number {value:g}: take it from a parameter ({{param: ...}}) so it cites its clause")
        return out

    def all_of(self, c: AllOf) -> list[str]:
        return []

    def any_of(self, c: AnyOf) -> list[str]:
        return []

    def not_(self, c: Not) -> list[str]:
        return []

    def quantified(self, collection: str, every: bool, inner: Condition) -> list[str]:
        if self.scope != "household":
            return [f"a quantifier over {collection} applies to households only"]
        return []

    def concept(self, c: ConceptIs) -> list[str]:
        found = self.kb.concepts.get(c.concept)
        if found is None:
            return [f"unknown concept {c.concept!r}"]
        if found.entity not in (self.scope, "any"):
            return [f"concept {c.concept!r} is a {found.entity} concept, used on a {self.scope}"]
        return []

    def member_concept(self, c: MemberConceptIs) -> list[str]:
        found = self.kb.concepts.get(c.member_concept)
        if found is None or found.entity != "member":
            return [f"unknown member concept {c.member_concept!r}"]
        if not self.in_member and self.entity != "member":
            return ["member_concept must sit inside any_member or all_members"]
        return []


#: Words that narrow or loosen a sentence; each needs a qualifier of this kind (never silently dropped).
_TRIGGERS = {"符合条件的": "qualified", "原则上": "floor_in_principle"}
_EXCEPTION = re.compile(r"除[^,。;]*外")
#: 等 closing a list, not the 等 of 均等/平等/同等/对等/等级.
_OPEN_LIST = re.compile(r"(?<![均平同对相])等(?!级)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def qualifier_marks(quote: str) -> list[tuple[str, str]]:
    """(kind, words) for each mark in a quote that narrows or loosens it and so needs a qualifier."""
    out = [(kind, word) for word, kind in _TRIGGERS.items() if word in quote]
    out += [("exception", m.group(0)) for m in _EXCEPTION.finditer(quote)][:1]
    hit = _OPEN_LIST.search(quote)
    if hit:
        out.append(("open_list", quote[max(0, hit.start() - 4):hit.end()]))
    return out


def _key_terms(kb: KB) -> set[str]:
    """Terms a gloss may not add: glossary terms and the names of bodies."""
    terms = {t.zh.split("(")[0] for t in kb.glossary.values()}
    terms |= {b.name for b in kb.bodies.values()}
    return {t for t in terms if len(t) >= 2}


def _check_record(kb: KB, m: Measure, path: Path, key: str) -> list[KBError]:
    """Modality, bearer, qualifiers and references; and that the glosses claim no more than the quote."""
    errs = []
    kinds = {q.kind for q in m.qualifiers}
    for i, q in enumerate(m.qualifiers):
        if q.text not in m.quote:
            errs.append(KBError(path, f"{key}.qualifiers[{i}].text", f"{q.text!r} does not appear in the quote"))
    for kind, words in qualifier_marks(m.quote):
        if kind in kinds:
            continue
        if kind == "exception":
            errs.append(KBError(path, f"{key}.qualifiers", "the quote has an exception (除…外); record it"))
        elif kind == "open_list":
            errs.append(KBError(path, f"{key}.qualifiers", "the quote has an open list (…等); record it"))
        else:
            errs.append(KBError(path, f"{key}.qualifiers", f"the quote says {words}; record it as a {kind} qualifier"))
    for i, r in enumerate(m.references):
        if r.text not in m.quote:
            errs.append(KBError(path, f"{key}.references[{i}].text", f"{r.text!r} does not appear in the quote"))
    if m.handler is not None and m.handler.body not in {o["id"] for o in owners_of(kb, m.id)}:
        errs.append(KBError(path, f"{key}.handler.body", f"{m.handler.body!r} is not among the measure's owners "
                                                         "in the text; a handler must be one of them"))
    if m.bearer is not None and m.bearer.body not in kb.bodies:
        errs.append(KBError(path, f"{key}.bearer.body", f"unknown body id {m.bearer.body!r}"))
    if m.modality.value == "prohibition" and not any(w in m.quote for w in ("不得", "限制", "禁止", "严禁")):
        errs.append(KBError(path, f"{key}.modality", "a prohibition needs 不得, 限制 or 禁止 in its quote"))
    if m.modality.value == "permission" and "可" not in m.quote:
        errs.append(KBError(path, f"{key}.modality", "a permission needs 可/也可以 in its quote"))
    if "不得" in m.quote and m.modality.value != "prohibition" and "," not in m.quote:
        errs.append(KBError(path, f"{key}.modality", "the quote is a prohibition (不得)"))
    errs += _check_plain(kb, m, path, key)
    # A gloss may paraphrase, but not add a term or a number the quote lacks; nor may the plain words of a letter.
    glosses = [("zh", m.zh), ("en", m.en)]
    if m.plain is not None:
        glosses += [("plain.zh", m.plain.zh), ("plain.en", m.plain.en)]
        glosses += [(f"plain.act_{lang}", text) for lang, text in (("zh", m.plain.act_zh), ("en", m.plain.act_en))
                    if text]
    for term in _key_terms(kb):
        for where, gloss in glosses:
            if not where.endswith("zh"):
                continue
            if term in gloss and term not in m.quote:
                errs.append(KBError(path, f"{key}.{where}", f"the gloss says {term!r}, which the quote does not"))
    allowed = _derivable_numbers(m.quote)
    for where, gloss in glosses:
        for n in numbers_in(gloss.replace(",", "") if where.endswith("en") else gloss):
            if n not in allowed:
                errs.append(KBError(path, f"{key}.{where}",
                                    f"the gloss has the number {n:g}, which the quote does not"))
    return errs


def _check_plain(kb: KB, m: Measure, path: Path, key: str) -> list[KBError]:
    """Every measure a household's letter can show has plain words, placed consistently (issue 10)."""
    if m.plain is None:
        if m.rule is not None and (m.rule.entity == "household" or m.reaches == "households"):
            return [KBError(path, f"{key}.plain", "a measure with a household rule (or one that reaches households) "
                                                   "needs plain zh/en words and a letter kind (money, apply, "
                                                   "entitlement, general, restriction)")]
        return []
    errs = []
    if (m.plain.kind is LetterKind.restriction) != m.binds_household:
        errs.append(KBError(path, f"{key}.plain.kind", "kind restriction goes with binds_household: true, and only "
                                                        "with it"))
    if m.plain.act_if is not None:
        errs += _check_condition(kb, m.plain.act_if, "household", path, f"{key}.plain.act_if")
        if not (m.plain.act_zh and m.plain.act_en):
            errs.append(KBError(path, f"{key}.plain.act_zh", "act_if needs the action worded in act_zh and act_en"))
    at = m.plain.apply_at
    if at == "site_window":
        if kb.documents[kb.clause_doc[kb.measure_clause[m.id]]].doc.one_stop_window is None:
            errs.append(KBError(path, f"{key}.plain.apply_at", "site_window, but the document names no one-stop "
                                                                "window"))
    elif at is not None and at not in {o["id"] for o in owners_of(kb, m.id)} | {n.body for n in m.named}:
        errs.append(KBError(path, f"{key}.plain.apply_at", f"{at!r} is neither site_window nor a body the text "
                                                            "names for this measure"))
    return errs


def _frequency(text: str) -> list[float]:
    """每月/每季度/每年 with no numeral is once per period."""
    return [1.0] if any(w in text for w in ("每月", "每季度", "每年", "每半年")) else []


_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
#: Named periods and the years they stand for.
_PERIODS = {"十三五": (2016, 2020), "十四五": (2021, 2025)}


def _derivable_numbers(quote: str) -> set[float]:
    """Numbers a gloss may state: the quote's own, in months (x12), its Chinese numerals, a named period's years."""
    nums = set(numbers_in(quote))
    nums |= {n * 12 for n in nums}
    nums |= {float(v) for c, v in _CN_DIGITS.items() if c in quote}
    for name, (start, end) in _PERIODS.items():
        if name in quote:
            nums |= {float(start), float(end)}
    return nums


def _negated_facts(cond: Condition | None) -> set[str]:
    """Facts a condition requires to be false (eq false / ne true), the "not yet done" pattern."""
    out = set()
    for n, _ in walk(cond):
        if isinstance(n, Fact) and ((n.op.value == "eq" and n.value is False) or (n.op.value == "ne" and n.value is True)):
            out.add(n.fact)
    return out


def _facts_in(cond: Condition | None) -> set[str]:
    return {n.fact for n, _ in walk(cond) if isinstance(n, Fact)}


_SCOPE = {MEMBERS: "member", ENTITIES: "entity"}


def _check_condition(kb: KB, cond: Condition | None, entity: str, path: Path, key: str) -> list[KBError]:
    errs = []
    for node, within in walk(cond):
        scope = _SCOPE[within] if within else entity
        errs += [KBError(path, key, msg) for msg in visit(node, _ConditionCheck(kb, scope, within == MEMBERS, entity))]
    return errs
