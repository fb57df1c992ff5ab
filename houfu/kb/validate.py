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

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from .conditions import (
    ENTITIES,
    MEMBERS,
    AllOf,
    AnyOf,
    ConceptIs,
    Condition,
    DeadlineRef,
    Fact,
    FactRef,
    MemberConceptIs,
    Not,
    ParamRef,
    QuantifierVisitor,
    visit,
    walk,
)
from .facts import is_date
from .loader import KB, DocumentKB, KBError, covers_every_site_type, rebuild_source
from .models import Clause, ForceRubric, HandlerBasis, LetterKind, Measure
from .query import owners_of
from .readings import content_words, force_reading, open_list_marks

__all__ = ["validate", "drafts", "parse_responsibility_list", "numbers_in", "qualifier_marks"]

_DOC_REF = re.compile(r"〔\d{4}〕\s*\d+\s*号|\d{4}年\d{1,2}月\d{1,2}日")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?")

def parse_responsibility_list(text: str, first_leads: str | None = None) -> tuple[str, list[tuple[str, str]]] | None:
    """Split the responsibility list a clause ends with into the list's role (lead, shared or mixed) and each
    name as written with its own role: the same grammar as `houfu kb scaffold` (kb.ingest), with the
    document's own first-listed-leads convention when it states one."""
    from .ingest import parse_responsibility

    r = parse_responsibility(text, first_leads=first_leads)
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
        if label.years_since is not None:
            errs += _check_years_since(kb, label.id, label.years_since, label.records)
    for check in kb.checks.values():
        path, key = kb.folder / "consistency.yaml", f"checks[{check.id}]"
        errs += _check_condition(kb, check.when, check.entity, path, f"{key}.when")
        facts = kb.models.paths(check.entity)
        if check.derived is not None and (check.derived not in facts or kb.fact_labels[check.derived].years_since
                                          is None):
            errs.append(KBError(path, f"{key}.derived", f"{check.derived!r} is not a {check.entity} fact the "
                                                        "vocabulary derives (`years_since`)"))
        if check.after_as_of is not None and not is_date(facts.get(check.after_as_of)):
            errs.append(KBError(path, f"{key}.after_as_of", f"{check.after_as_of!r} is not a {check.entity} date fact"))
    errs += _check_columns(kb)
    errs += _check_holders(kb)
    for item in kb.lists:
        errs += _check_condition(kb, item.when, "household", kb.folder / "lists.yaml", f"lists[{item.id}].when")
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


def _check_years_since(kb: KB, fact: str, source: str, records: Sequence[str]) -> list[KBError]:
    """An integer derived from a date: the date is a fact of the same record, and neither is in a group."""
    for record in records:
        if "." in fact or not is_date(kb.models.paths(record).get(source)):
            return [KBError(kb.folder / "vocabulary.yaml", f"facts[{fact}].years_since",
                            f"{source!r} is not a date fact of the {record}")]
    return []


def _check_holders(kb: KB) -> list[KBError]:
    """Each register names a body and its basis as a handler does (the clause's own words naming the body, or the
    statute that makes it keep the record); each fact's holders are known registers, one per jurisdiction; and
    every register holds some fact."""
    path = kb.folder / "vocabulary.yaml"
    errs = []
    for r in kb.registers.values():
        where = f"registers[{r.id}]"
        body = kb.bodies.get(r.body)
        if body is None:
            errs.append(KBError(path, f"{where}.body", f"unknown body id {r.body!r}"))
            continue
        if r.basis is HandlerBasis.text:
            clause = kb.clauses.get(r.clause or "")
            if clause is None:
                errs.append(KBError(path, f"{where}.clause", f"basis text names the clause; unknown clause {r.clause!r}"))
            elif not r.text or r.text not in clause.text:
                errs.append(KBError(path, f"{where}.text", "basis text needs the clause's own words naming the body, "
                                                           "verbatim"))
            elif not any(n and n in r.text for n in (body.name, *body.aliases)):
                errs.append(KBError(path, f"{where}.text", f"the words do not name {body.name}"))
        else:
            if r.text is not None or r.clause is not None:
                errs.append(KBError(path, f"{where}.text", "basis duty quotes no words of a text; give the reason"))
            if not _INSTRUMENT.search(r.reason):
                errs.append(KBError(path, f"{where}.reason", "basis duty names the statute or document that makes the "
                                                             "body keep the record (《…》 or 〔year〕N号)"))
    used: set[str] = set()
    for label in kb.fact_labels.values():
        served: dict[str | None, str] = {}
        for rid in label.holder:
            held = kb.registers.get(rid)
            if held is None:
                errs.append(KBError(path, f"facts[{label.id}].holder", f"unknown register {rid!r}"))
                continue
            used.add(rid)
            body = kb.bodies.get(held.body)
            area = body.jurisdiction if body is not None else None
            if area in served:
                errs.append(KBError(path, f"facts[{label.id}].holder", f"{served[area]!r} and {rid!r} both serve "
                                                                       f"{area or 'every jurisdiction'}: one register "
                                                                       "per jurisdiction"))
            served[area] = rid
    for rid in sorted(set(kb.registers) - used):
        errs.append(KBError(path, f"registers[{rid}]", "no fact names it as its holder"))
    return errs


def _check_columns(kb: KB) -> list[KBError]:
    """columns.yaml names real fields, and its value spellings map to real codes."""
    path = kb.folder / "columns.yaml"
    errs = []
    fields = {"household": set(kb.models.paths("household")) | {"id", "name", "site", "jurisdiction"},
              # id_number (身份证号): never kept; it gives a member's birth date and sex where no column does
              "member": set(kb.models.paths("member")) | {"household", "name", "id_number"},
              "entity": set(kb.models.paths("entity")) | {"household", "id", "name"},
              "site": set(kb.models.paths("site")) | {"id", "name", "jurisdiction"}}
    c = kb.columns
    for level, allowed in fields.items():
        for name in getattr(c, level):
            if name not in allowed:
                errs.append(KBError(path, f"{level}.{name}", f"not a {level} field"))
    for fact in c.values:
        label = kb.fact_labels.get(fact)
        codes = set(label.labels) if label else set()
        for spelling, code in c.spellings(fact).items():
            if code is not None and code not in codes:
                errs.append(KBError(path, f"values.{fact}.{spelling}", f"{code!r} is not a code of {fact}"))
    # One word, one reading: a spelling read as yes and as no (or as a code and as unknown) would be a guess.
    yes, no, unknown = set(c.words(True)), set(c.words(False)), {w.word for w in c.unknown}
    for word in sorted((yes & no) | (yes & unknown) | (no & unknown)):
        errs.append(KBError(path, "booleans", f"{word!r} is given two readings"))
    declared = {_header_key(h) for level in fields for spellings in getattr(c, level).values() for h in spellings}
    for header in c.ignored:
        if _header_key(header) in declared:
            errs.append(KBError(path, f"ignored.{header}", "is also the header of a field"))
    for item in c.lists:
        errs += _check_condition(kb, item.when, "household", path, f"lists[{item.id}].when")
    return errs


def _header_key(header: str) -> str:
    """A header as the screener matches it (spaces and full-width brackets aside)."""
    return header.strip().replace("（", "(").replace("）", ")").replace(" ", "").lower()


def _check_document(kb: KB, dkb: DocumentKB) -> list[KBError]:
    errs: list[KBError] = []
    doc, folder = dkb.doc, dkb.folder
    doc_path, clauses_path = folder / "document.yaml", folder / "clauses.yaml"
    from .ingest import first_listed_leads

    leads = first_listed_leads(dkb.source_text)

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
    elif not covers_every_site_type(doc.scope, kb.fact_labels) and doc.scope.zh not in kb.clauses[doc.scope.clause].text:
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
        errs += _check_responsibility(kb, clause, clauses_path, key, leads)
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
    return out + placeholders(folder)


#: A placeholder the scaffold writes (``TODO``, ``TODO: an English gloss``, ``TODO:县人社局``), as a word.
_PLACEHOLDER = re.compile(r"\bTODO\b")


def placeholders(folder: Path) -> list[KBError]:
    """Every ``TODO`` placeholder left in a document's files (issue 26, item 7): a folder whose todo list and
    draft flags are cleared still fails while one is left.  What ``drafts`` already lists is not listed twice:
    a mapping still marked ``draft: true``, the ``todo`` list and a not-encoded reason that starts with TODO.
    A ``bodies.proposed.yaml`` left beside the files is one too: its names belong in policies/bodies.yaml."""
    from .loader import _read_yaml

    out: list[KBError] = []

    def walk_(node: object, path: Path, key: str) -> None:
        if isinstance(node, dict):
            if node.get("draft") is True:
                return
            for k, v in node.items():
                if key == "" and k == "todo":
                    continue
                if k == "reason" and isinstance(v, str) and v.startswith("TODO") and key.endswith("]") \
                        and ".not_encoded[" in key:
                    continue
                walk_(v, path, f"{key}.{k}" if key else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                ident = v.get("id") if isinstance(v, dict) else None
                walk_(v, path, f"{key}[{ident if isinstance(ident, str) else i}]")
        elif isinstance(node, str) and _PLACEHOLDER.search(node):
            out.append(KBError(path, key, f"TODO: placeholder left: {node[:60]!r}; write the real value"))

    files = [folder / n for n in ("document.yaml", "clauses.yaml", "vocabulary.yaml", "calculators.yaml")]
    files += sorted((folder / "tests").glob("*.yaml")) if (folder / "tests").is_dir() else []
    for path in files:
        if path.exists():
            walk_(_read_yaml(path), path, "")
    proposed = folder / "bodies.proposed.yaml"
    if proposed.exists():
        out.append(KBError(proposed, "bodies", "TODO: merge these proposals into policies/bodies.yaml (or drop "
                                               "them), then delete this file"))
    return out


def _check_responsibility(kb: KB, clause: Clause, path: Path, key: str, first_leads: str | None = None
                          ) -> list[KBError]:
    errs = []
    parsed = parse_responsibility_list(clause.text, first_leads)
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
    errs += _check_record(kb, clause, m, path, key)
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
        if rule.done_on is not None:
            if rule.due is None:
                errs.append(KBError(path, f"{key}.rule.done_on", "a completion date is compared with a deadline: "
                                                                  "the rule needs `due`"))
            if not is_date(kb.models.paths(rule.entity).get(rule.done_on)):
                errs.append(KBError(path, f"{key}.rule.done_on", f"{rule.done_on!r} is not a {rule.entity} date fact"))
            if not (rule.late_zh and rule.late_en):
                errs.append(KBError(path, f"{key}.rule.late_zh", "a task done late needs its own gap "
                                                                 "(late_zh and late_en)"))
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
            cut = _cut_periods(rule.quota.period, doc.in_force_from, doc.in_force_until)
            if cut and rule.quota.partial is None:
                errs.append(KBError(path, f"{key}.rule.quota.partial", f"the document's force covers {cut} only "
                                    "in part: say how that period is read (not_judged or pro_rata) and why"))
        # The applicability test must never be "not yet done": that is the fulfilment test's job.
        for part, cond in (("satisfied_if", rule.satisfied_if), ("requires", rule.requires)):
            for fact in sorted(_negated_facts(rule.when) & _facts_in(cond)):
                errs.append(KBError(path, f"{key}.rule.when", f"applies because {fact} is not yet true, which "
                                    f"`{part}` tests: keep whom the norm covers apart from whether it is met"))
    return errs


def _cut_periods(period: str, start: dt.date, until: dt.date | None) -> str:
    """The calendar periods (year or quarter) a document's force starts or ends inside, in words; '' if none."""
    months = 12 if period == "year" else 3
    cut = []
    if start.day != 1 or (start.month - 1) % months:
        cut.append(f"the {period} of {start.isoformat()}")
    if until is not None:
        after = until + dt.timedelta(days=1)
        if after.day != 1 or (after.month - 1) % months:
            cut.append(f"the {period} of {until.isoformat()}")
    return " and ".join(cut)


class _ConditionCheck(QuantifierVisitor[list[str]]):
    """Problems of one condition node (not its children), as messages."""

    def __init__(self, kb: KB, scope: str, in_member: bool, entity: str):
        self.kb, self.scope, self.in_member, self.entity = kb, scope, in_member, entity

    def fact(self, c: Fact) -> list[str]:
        out = []
        paths = self.kb.models.paths(self.scope)
        if c.fact not in paths:
            out.append(f"unknown {self.scope} fact {c.fact!r}")
        value = c.value
        out += self._dates(c, paths)
        if isinstance(value, ParamRef) and value.param not in self.kb.parameters:
            out.append(f"unknown parameter {value.param!r}")
        if isinstance(value, FactRef) and value.fact_ref not in self.kb.models.paths(self.scope):
            out.append(f"unknown {self.scope} fact {value.fact_ref!r}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value != 0:
            out.append(f"literal number {value:g}: take it from a parameter ({{param: ...}}) so it cites its clause")
        return out

    def _dates(self, c: Fact, paths: dict[str, object]) -> list[str]:
        """A date fact compares with a date, a deadline or another date fact; nothing else compares with those."""
        value = c.value
        deadlines = {d.id for dkb in self.kb.documents.values() for d in dkb.doc.deadlines}
        if isinstance(value, DeadlineRef) and value.deadline not in deadlines:
            return [f"unknown deadline {value.deadline!r}"]
        if c.fact not in paths:
            return []
        ref_is_date = isinstance(value, FactRef) and is_date(paths.get(value.fact_ref))
        if is_date(paths[c.fact]):
            if c.op.value == "in" or not (isinstance(value, dt.date | DeadlineRef) or ref_is_date):
                return [f"{c.fact!r} is a date: compare it (eq ne ge gt le lt) with a date written unquoted "
                        "(2024-07-01), a deadline ({deadline: id}) or another date fact"]
        elif isinstance(value, dt.date | DeadlineRef) or ref_is_date:
            return [f"{c.fact!r} is not a date fact; only a date fact compares with a date or a deadline"]
        return []

    def all_of(self, c: AllOf) -> list[str]:
        return []

    def any_of(self, c: AnyOf) -> list[str]:
        return []

    def not_(self, c: Not) -> list[str]:
        return []

    def quantified(self, collection: str, every: bool, inner: Condition) -> list[str]:
        if self.scope == "household":
            return []
        if self.scope == "site" and collection == ENTITIES and ENTITIES in self.kb.models.site.model_fields:
            return []  # a site's records, of the kinds declared `within: site`
        return [f"a quantifier over {collection} applies to households, and over entities to sites once a record "
                "kind is declared `within: site`"]

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
#: 按规定 and 依法 hand the detail to rules outside the text (临时救助 按规定, 依法依规办理居住证): the measure gives
#: no more than those rules do, so a reader must see them.
_TRIGGERS = {"符合条件的": "qualified", "原则上": "floor_in_principle", "按规定": "qualified", "依法": "qualified",
             "有条件的": "qualified", "具备条件的": "qualified", "符合规定的": "qualified"}
_EXCEPTION = re.compile(r"除[^,。;]*外")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _default_rubric() -> ForceRubric:
    from .loader import _parse, _read_yaml, default_policies_dir

    path = default_policies_dir() / "force_rubric.yaml"
    return _parse(ForceRubric, _read_yaml(path), path)


def qualifier_marks(quote: str, rubric: ForceRubric | None = None) -> list[tuple[str, str]]:
    """(kind, words) for each mark in a quote that narrows or loosens it and so needs a qualifier.

    The 等 of an open list is a word of its own (…托育等服务), never the 等 inside 同等, 等级 or 等待."""
    out = [(kind, word) for word, kind in _TRIGGERS.items() if word in quote]
    out += [("exception", m.group(0)) for m in _EXCEPTION.finditer(quote)][:1]
    # Every 等 of the quote, each with the words before it (the scaffold drafts one qualifier for each).
    out += [("open_list", quote[max(0, mark - 4):mark + 1]) for mark in open_list_marks(quote, rubric or _default_rubric())]
    return out


def _occurrences(text: str, part: str) -> list[int]:
    out, at = [], text.find(part)
    while at >= 0:
        out.append(at)
        at = text.find(part, at + 1)
    return out


def _key_terms(kb: KB) -> set[str]:
    """Terms a gloss may not add: glossary terms and the names of bodies."""
    terms = {t.zh.split("(")[0] for t in kb.glossary.values()}
    terms |= {b.name for b in kb.bodies.values()}
    return {t for t in terms if len(t) >= 2}


def _check_record(kb: KB, clause: Clause, m: Measure, path: Path, key: str) -> list[KBError]:
    """Modality, bearer, qualifiers and references; and that the glosses claim no more than the quote."""
    errs = []
    kinds = {q.kind for q in m.qualifiers}
    for i, q in enumerate(m.qualifiers):
        if q.text not in m.quote:
            errs.append(KBError(path, f"{key}.qualifiers[{i}].text", f"{q.text!r} does not appear in the quote"))
        elif q.kind == "open_list" and not open_list_marks(q.text, kb.rubric):
            errs.append(KBError(path, f"{key}.qualifiers[{i}]", f"{q.text!r} holds no 等 closing a list (同等, 等级 "
                                                                 "and 等待 are words of their own)"))
    for kind, words in qualifier_marks(m.quote, kb.rubric):
        # A word (按规定, 依法, 符合条件的) needs a qualifier that quotes it: one 符合条件的 does not record a 按规定.
        if kind in ("exception", "open_list") and kind in kinds:
            continue
        if kind not in ("exception", "open_list") and any(q.kind == kind and words in q.text for q in m.qualifiers):
            continue
        if kind == "exception":
            errs.append(KBError(path, f"{key}.qualifiers", "the quote has an exception (除…外); record it"))
        elif kind == "open_list":
            errs.append(KBError(path, f"{key}.qualifiers", "the quote has an open list (…等); record it"))
        else:
            errs.append(KBError(path, f"{key}.qualifiers", f"the quote says {words}; record it as a {kind} qualifier"))
    # Every 等 of the quote, not only the first, is recorded: an open-list qualifier's text spans each one.
    spans = [(at, at + len(q.text)) for q in m.qualifiers if q.kind == "open_list"
             for at in _occurrences(m.quote, q.text)]
    for mark in open_list_marks(m.quote, kb.rubric):
        if spans and not any(a <= mark < b for a, b in spans):
            errs.append(KBError(path, f"{key}.qualifiers", f"the quote's open list {m.quote[max(0, mark - 4):mark + 1]!r} "
                                                           "is not recorded; each …等 needs its own qualifier"))
    for i, r in enumerate(m.references):
        if r.text not in m.quote:
            errs.append(KBError(path, f"{key}.references[{i}].text", f"{r.text!r} does not appear in the quote"))
    errs += _check_handler(kb, m, path, key)
    if m.bearer is not None and m.bearer.body not in kb.bodies:
        errs.append(KBError(path, f"{key}.bearer.body", f"unknown body id {m.bearer.body!r}"))
    if m.modality.value == "prohibition" and not any(w in m.quote for w in ("不得", "限制", "禁止", "严禁")):
        errs.append(KBError(path, f"{key}.modality", "a prohibition needs 不得, 限制 or 禁止 in its quote"))
    if m.modality.value == "permission" and "可" not in m.quote:
        errs.append(KBError(path, f"{key}.modality", "a permission needs 可/也可以 in its quote"))
    if "不得" in m.quote and m.modality.value != "prohibition" and "," not in m.quote:
        errs.append(KBError(path, f"{key}.modality", "the quote is a prohibition (不得)"))
    if not m.draft:  # a draft's force is the scaffold's guess, listed as a TODO until a person reviews it
        errs += _check_force(kb, m, path, key)
    errs += _check_bearer(kb, clause, m, path, key)
    errs += _check_gloss_words(kb, clause, m, path, key)
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


#: A statute, regulation or document a handler's duty rests on: 《…》 or a document number 〔2021〕6号.
_INSTRUMENT = re.compile(r"《[^》]+》|〔\d{4}〕\d+号")


def _check_handler(kb: KB, m: Measure, path: Path, key: str) -> list[KBError]:
    """A handler is houfu's recommendation with its basis: the text's own words naming an office that the text makes
    act, or the statute or department duty that makes a registered office the one to ask (issue 19)."""
    h = m.handler
    if h is None:
        return []
    where = f"{key}.handler"
    body = kb.bodies.get(h.body)
    if body is None:
        return [KBError(path, f"{where}.body", f"unknown body id {h.body!r}")]
    errs = []
    doc = kb.documents[kb.clause_doc[kb.measure_clause[m.id]]].doc
    if body.jurisdiction is not None and body.jurisdiction != doc.jurisdiction:
        errs.append(KBError(path, f"{where}.body", f"{h.body!r} belongs to {body.jurisdiction}, not to the "
                                                   f"document's {doc.jurisdiction}"))
    if h.basis is HandlerBasis.text:
        clause = kb.clauses[kb.measure_clause[m.id]]
        if not h.text or h.text not in clause.text:
            errs.append(KBError(path, f"{where}.text", "basis text needs the clause's own words naming the office, "
                                                       "verbatim"))
        elif not any(n and n in h.text for n in (body.name, *body.aliases)):
            errs.append(KBError(path, f"{where}.text", f"the words do not name {body.name}"))
        if h.body not in {o["id"] for o in owners_of(kb, m.id)}:
            errs.append(KBError(path, f"{where}.body", f"{h.body!r} is not among the measure's owners in the text; "
                                                       "with basis text it must be one of them"))
    else:
        if h.text is not None:
            errs.append(KBError(path, f"{where}.text", "basis duty quotes no words of the text; give the reason"))
        if not _INSTRUMENT.search(h.reason):
            errs.append(KBError(path, f"{where}.reason", "basis duty names the statute or document that makes it "
                                                         "the office (《…》 or 〔year〕N号)"))
    return errs


def _wording(kb: KB, m: Measure, path: Path, key: str) -> list[KBError]:
    """The household's text by modality and bearer (policies/wording.yaml): a body's duty names who acts, a
    permission says it may, a goal says it is one; none but the done words states the household's own state, and
    none turns a body's duty into the household's."""
    rules, plain = kb.wording, m.plain
    if rules is None or plain is None:
        return []
    errs = []
    texts = {"zh": plain.zh, "en": plain.en, "act_zh": plain.act_zh, "act_en": plain.act_en,
             "todo_zh": plain.todo_zh, "todo_en": plain.todo_en}
    for name, text in texts.items():
        if not text:
            continue
        lang = "en" if name.endswith("en") else "zh"
        for pattern in getattr(rules.household_state, lang):
            if re.search(pattern, text):
                errs.append(KBError(path, f"{key}.plain.{name}", f"states the household's own state ({pattern!r}); "
                                                                 "say what the text says: who does what"))
        if not m.binds_household:
            for pattern in getattr(rules.household_duty, lang):
                if re.search(pattern, text):
                    errs.append(KBError(path, f"{key}.plain.{name}", f"makes a body's duty the household's "
                                                                     f"({pattern!r})"))
    need = {"obligation": rules.actors, "prohibition": rules.actors, "permission": rules.permission,
            "goal": rules.goal}[m.modality.value]
    if not m.binds_household:
        for lang in ("zh", "en"):
            text = getattr(plain, lang)
            words = getattr(need, lang)
            found = (any(re.search(rf"\b{re.escape(w)}", text, re.I) for w in words) if lang == "en"
                     else any(w in text for w in words))
            if not found:
                errs.append(KBError(path, f"{key}.plain.{lang}", f"{'an' if m.modality.value[0] in 'aeiou' else 'a'} {m.modality.value} reads with one of "
                                                                  f"{', '.join(words)}"))
    has_test = m.rule is not None and m.rule.satisfied_if is not None
    for name in ("todo_zh", "todo_en", "done_zh", "done_en"):
        if has_test and not getattr(plain, name):
            errs.append(KBError(path, f"{key}.plain.{name}", "a rule with satisfied_if needs the words for not yet "
                                                             "done (todo) and already done (done)"))
        if not has_test and getattr(plain, name):
            errs.append(KBError(path, f"{key}.plain.{name}", "todo and done words go with a satisfied_if test"))
    return errs


def _check_force(kb: KB, m: Measure, path: Path, key: str) -> list[KBError]:
    """Force and modality agree with what the force rubric reads from the quote's trigger word, or the
    measure says why not (``force_reading``); an exception the rubric already agrees with is refused."""
    errs = []
    declared = m.force_reading
    if declared is not None and declared.word is not None and declared.word not in m.quote:
        errs.append(KBError(path, f"{key}.force_reading.word", f"{declared.word!r} does not appear in the quote"))
    reading = force_reading(m.quote, kb.rubric)
    if reading is None:
        if declared is None:
            errs.append(KBError(path, f"{key}.force", "the quote has no trigger word of force_rubric.yaml; declare "
                                                      "the reading under force_reading, with its reason"))
        return errs
    allowed = "/".join(x.value for x in reading.modalities)
    agrees = m.force is reading.force and m.modality in reading.modalities
    if not agrees and declared is None:
        errs.append(KBError(path, f"{key}.force", f"the quote's {reading.kind} word {reading.word!r} reads "
                            f"{reading.force.value} ({allowed}), the measure says {m.force.value} "
                            f"({m.modality.value}): correct it, or give the reason under force_reading"))
    elif agrees and declared is not None:
        errs.append(KBError(path, f"{key}.force_reading", f"the rubric already reads {reading.word!r} as "
                            f"{m.force.value} ({m.modality.value}); drop the exception"))
    return errs


def _body_names(kb: KB) -> list[tuple[str, str]]:
    """(written name, body id) of every registered body, longest first, Chinese names only."""
    names = [(n.strip("“”"), b.id) for b in kb.bodies.values() for n in (b.name, *b.aliases) if _CJK.search(n)]
    return sorted(((n, i) for n, i in names if len(n) >= 2), key=lambda p: -len(p[0]))


def _check_bearer(kb: KB, clause: Clause, m: Measure, path: Path, key: str) -> list[KBError]:
    """An implicit bearer only where the sentence names no registered body before its verb: from the start
    of the sentence (after 。 or ;) up to the quote's trigger word, or its start when it has none."""
    if m.bearer is None or not m.bearer.implicit or m.quote not in clause.text:
        return []
    at = clause.text.index(m.quote)
    start = max(clause.text.rfind(ch, 0, at) for ch in "。;") + 1
    reading = force_reading(m.quote, kb.rubric)
    verb = m.quote.find(reading.word) if reading is not None else 0
    before = clause.text[start:at] + m.quote[:max(verb, 0)]
    for name, body in _body_names(kb):
        if name in before:
            return [KBError(path, f"{key}.bearer", f"the sentence names {name} ({body}) before its verb: record it "
                                                   "under `named` instead of an implicit bearer")]
    return []


def _subsequence(word: str, text: str) -> bool:
    it = iter(text)
    return all(ch in it for ch in word)


def _check_gloss_words(kb: KB, clause: Clause, m: Measure, path: Path, key: str) -> list[KBError]:
    """A zh gloss, and the plain words a letter prints, add no content word the quote lacks: each noun or verb
    of substance (jieba) is in the quote or in its clause's heading (工作目标), or is the quote's abbreviation (its
    characters in order: 电商 for 电子商务), or is a declared paraphrase word (force_rubric.yaml), or is declared
    on the measure with its reason.  The rest of the clause does not count: that is where added words come from
    (the ledger of the next sentence, 建立落实台账, in a gloss of the one before)."""
    anywhere = {w for p in kb.rubric.paraphrase if not p.plain_only for w in p.words}
    in_plain = anywhere | {w for p in kb.rubric.paraphrase for w in p.words}
    if kb.wording is not None:
        # The letter's own phrasing by modality and bearer (policies/wording.yaml): who acts (有关部门, 当地政府) and
        # how (要, 可以, 目标) are the wording layer's, not content the gloss adds.
        w = kb.wording
        in_plain |= {x for words in (w.actors.zh, w.permission.zh, w.goal.zh, w.modal.zh) for x in words}
    declared = {g.word for g in m.gloss_words}
    errs = []
    glosses = [("zh", m.zh)]
    if m.plain is not None:
        glosses += [("plain.zh", m.plain.zh)] + ([("plain.act_zh", m.plain.act_zh)] if m.plain.act_zh else [])
    used: set[str] = set()
    for where, gloss in glosses:
        for word in content_words(gloss, kb.rubric):
            if word in m.quote or word in clause.heading or word in (in_plain if where.startswith("plain") else anywhere) or _subsequence(
                    word, m.quote):
                continue
            if word in declared:
                used.add(word)
                continue
            errs.append(KBError(path, f"{key}.{where}", f"the gloss adds {word!r}, which the quote does not say; "
                                "keep to the quote, or declare it under gloss_words with the reason"))
    for i, g in enumerate(m.gloss_words):
        if g.word not in used:
            errs.append(KBError(path, f"{key}.gloss_words[{i}]", f"{g.word!r} is not a word the glosses add; drop it"))
    return errs


def _check_plain(kb: KB, m: Measure, path: Path, key: str) -> list[KBError]:
    """Every measure a household's letter can show has plain words, placed consistently (issue 10)."""
    if m.plain is None:
        if m.rule is not None and (m.rule.entity == "household" or m.reaches == "households"):
            return [KBError(path, f"{key}.plain", "a measure with a household rule (or one that reaches households) "
                                                   "needs plain zh/en words and a letter kind (money, apply, "
                                                   "entitlement, general, restriction)")]
        return []
    errs = _wording(kb, m, path, key)
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
