"""Read-only queries over the knowledge base: stats, show, search, schema."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import BaseModel

from .loader import KB, FieldError, KBError
from .models import (
    Body,
    CalculatorsFile,
    Clause,
    ClausesFile,
    ColumnsFile,
    ConsistencyCheck,
    Deadline,
    Document,
    ForceRubric,
    GlossaryTerm,
    Jurisdiction,
    NoticeText,
    Register,
    ReportList,
    SiteRecord,
    SynonymGroup,
    Topic,
    UnitDef,
    VocabularyFile,
    WordingRules,
)
from .names import did_you_mean, suggest

__all__ = ["alternatives", "measure_text", "sentence_coverage", "sentences", "stats", "show", "search", "owners_of", "resolve_jurisdiction", "kb_schemas", "input_schema",
           "deadline_of", "holder_of", "site_named"]


_SENTENCE_END = re.compile("[。;]")


def sentences(clause: Clause) -> list[str]:
    """The clause's sentences as a reviewer reads them: split on 。 and ;, without the heading and the
    responsibility list."""
    text = clause.text
    if clause.responsibility and text.endswith(clause.responsibility.list_text):
        text = text[: -len(clause.responsibility.list_text)]
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]
    if parts and clause.heading != clause.number and parts[0].endswith(clause.heading):
        parts = parts[1:]  # the item heading, e.g. (一)有序推进落户城镇
    return parts


_NOT_WORDS = re.compile(r"[\s,、,。;:“”\"()()]")
#: Share of a sentence's characters (punctuation aside) that quotes or recorded reasons must cover.
COVERAGE = 0.9


def _covered_share(sentence: str, texts: list[str]) -> float:
    """How much of the sentence the texts cover (each text, or each of its sentences, found in it)."""
    mask = [False] * len(sentence)
    for text in texts:
        for piece in [text, *_SENTENCE_END.split(text)]:
            piece = piece.strip()
            if not piece:
                continue
            if sentence in piece:
                return 1.0
            start = sentence.find(piece)
            while start >= 0:
                mask[start:start + len(piece)] = [True] * len(piece)
                start = sentence.find(piece, start + 1)
    words = [i for i, ch in enumerate(sentence) if not _NOT_WORDS.match(ch)]
    return sum(mask[i] for i in words) / max(len(words), 1)


def sentence_coverage(kb: KB) -> dict[str, dict[str, Any]]:
    """Per document: every sentence, whether measure quotes cover it or a recorded reason explains the rest."""
    out: dict[str, dict[str, Any]] = {}
    for doc_id, dkb in kb.documents.items():
        by_measure = by_reason = 0
        uncovered: list[str] = []
        for c in dkb.clauses:
            quotes = [m.quote for m in c.measures] + [x.quote for x in c.concepts]
            reasons = [n.text for n in c.not_encoded]
            for sent in sentences(c):
                if _covered_share(sent, quotes) >= COVERAGE:
                    by_measure += 1
                elif _covered_share(sent, quotes + reasons) >= COVERAGE:
                    by_reason += 1
                else:
                    uncovered.append(f"{c.id}: {sent}")
        total = by_measure + by_reason + len(uncovered)
        out[doc_id] = {"sentences": total, "by_measure": by_measure, "by_reason": by_reason,
                       "uncovered": uncovered, "percent": round(100 * (total - len(uncovered)) / max(total, 1), 1)}
    return out


def stats(kb: KB) -> dict[str, Any]:
    from .validate import drafts  # validate reads owners from here

    docs = {}
    for doc_id, dkb in kb.documents.items():
        measures = [m for c in dkb.clauses for m in c.measures]
        docs[doc_id] = {
            "title": dkb.doc.title,
            "parts": len(dkb.parts),
            "clauses": len(dkb.clauses),
            "measures": len(measures),
            "rules": sum(1 for m in measures if m.rule),
            "not_decidable": sum(1 for m in measures if m.not_decidable),
            "parameters": sum(len(m.parameters) for m in measures),
            "repairs": len(dkb.doc.repairs),
            "drafts": len(drafts(dkb)),
            "by_force": dict(Counter(m.force.value for m in measures)),
            "by_subject": dict(Counter(m.subject.value for m in measures)),
        }
    coverage = sentence_coverage(kb)
    for doc_id, cov in coverage.items():
        docs[doc_id]["sentence_coverage"] = {k: v for k, v in cov.items() if k != "uncovered"}
        docs[doc_id]["by_modality"] = dict(Counter(m.modality.value for c in kb.documents[doc_id].clauses
                                                   for m in c.measures))
    return {
        "documents": docs,
        "departments": len(kb.bodies),
        "departments_by_kind": dict(Counter(b.kind for b in kb.bodies.values())),
        "concepts": len(kb.concepts),
        "glossary_terms": len(kb.glossary),
    }


def owners_of(kb: KB, measure_id: str) -> list[dict[str, str]]:
    """The bodies that answer for a measure: the clause's list (lead/shared), the bodies the sentence makes
    act (named bearers), or else its declared implicit bearer.  A body the sentence only mentions (an
    object, such as 楼栋长 to be elected) is not an owner."""
    clause = kb.clauses[kb.measure_clause[measure_id]]
    measure = kb.measures[measure_id]
    out: list[dict[str, str]] = []
    if clause.responsibility:
        out += [{"id": b.body, "name": b.as_written, "role": clause.responsibility.role_of(b)}
                for b in clause.responsibility.bodies]
    listed = {o["id"] for o in out}
    out += [{"id": n.body, "name": n.as_written, "role": "named"}
            for n in measure.named if n.body not in listed and n.role == "bearer"]
    if not out and measure.bearer is not None:
        out.append({"id": measure.bearer.body, "name": kb.bodies[measure.bearer.body].name, "role": "implicit"})
    return out


def show(kb: KB, item_id: str) -> dict[str, Any]:
    """A clause or measure with its source text, measures, owners and notes."""
    if item_id in kb.measures:
        m = kb.measures[item_id]
        clause = kb.clauses[kb.measure_clause[item_id]]
        return {"kind": "measure", "document": kb.clause_doc[clause.id], "clause_number": clause.number,
                "clause_id": clause.id, "clause_text": clause.text, "owners": owners_of(kb, item_id),
                **m.model_dump(mode="json", exclude_none=True, by_alias=True)}
    if item_id in kb.clauses:
        c = kb.clauses[item_id]
        doc = kb.documents[kb.clause_doc[item_id]].doc
        return {"kind": "clause", "document": doc.id, "id": c.id, "number": c.number, "heading": c.heading,
                "text": c.text,
                "responsibility": c.responsibility.model_dump(mode="json") if c.responsibility else None,
                "named": sorted({n.as_written for m in c.measures for n in m.named}),
                "repairs": [r.model_dump(mode="json") for r in doc.repairs if r.clause == c.id],
                "concepts": [x.model_dump(mode="json", exclude_none=True, by_alias=True) for x in c.concepts],
                "measures": [{"id": m.id, "zh": m.zh, "en": m.en, "force": m.force.value,
                              "subject": m.subject.value, "quote": m.quote,
                              "note": m.note, "rule": bool(m.rule), "not_decidable": m.not_decidable}
                             for m in c.measures]}
    ids = list(kb.clauses) + list(kb.measures)
    hint = suggest(item_id, ids, n=3)
    raise KBError(kb.folder, item_id, "no clause or measure with this id"
                  + (did_you_mean(hint, quoted=False) or "; try `houfu kb search`"))


def alternatives(kb: KB, word: str) -> list[str]:
    """A search word and the same word with each glossary synonym in it swapped for the others of its group
    (``synonyms`` in glossary.yaml): 低保 -> 低保, 最低生活保障, 城乡低保. Lower-cased, the word itself first."""
    low = word.lower()
    out = [low]
    for group in kb.synonyms:
        for used in group.words:
            if used.lower() in low:
                out += [low.replace(used.lower(), other.lower()) for other in group.words]
    return list(dict.fromkeys(out))


def measure_text(kb: KB, measure_id: str) -> str:
    """What a measure says of itself, for search: its zh and en, and its quote unless another measure of the
    clause shares it (then the quote is the sentence, not this measure's part of it: 医疗保险、养老保险、城乡低保等
    应保尽保 is three measures, and 低保 finds only the third)."""
    m = kb.measures[measure_id]
    clause = kb.clauses[kb.measure_clause[measure_id]]
    shared = any(o.id != m.id and o.quote == m.quote for o in clause.measures)
    return " ".join([m.zh, m.en] if shared else [m.zh, m.en, m.quote]).lower()


def search(kb: KB, text: str) -> list[dict[str, Any]]:
    """Clauses and measures whose Chinese or English text contains every word of ``text``, each word or any
    glossary synonym of it (``alternatives``); a measure by its own words (``measure_text``)."""
    words = [alternatives(kb, w) for w in text.split() if w]
    hits = []
    for cid, c in kb.clauses.items():
        hay = (c.heading + c.text).lower()
        if all(any(a in hay for a in alts) for alts in words):
            found = next((a for a in words[0] if a in hay), words[0][0]) if words else ""
            hits.append({"kind": "clause", "id": cid, "document": kb.clause_doc[cid], "number": c.number,
                         "text": _snippet(c.text, found)})
        for m in c.measures:
            hay = measure_text(kb, m.id)
            if all(any(a in hay for a in alts) for alts in words):
                hits.append({"kind": "measure", "id": m.id, "document": kb.clause_doc[cid],
                             "number": c.number, "text": m.zh})
    return hits


def _snippet(text: str, word: str, width: int = 40) -> str:
    i = text.lower().find(word)
    start = max(0, i - width)
    return ("…" if start else "") + text[start:i + len(word) + width] + ("…" if i + width < len(text) else "")


FORMATS: dict[str, type[BaseModel]] = {
    "document": Document, "clauses": ClausesFile, "bodies": Body, "jurisdictions": Jurisdiction,
    "topics": Topic, "glossary": GlossaryTerm, "vocabulary": VocabularyFile, "notices": NoticeText,
    "consistency": ConsistencyCheck, "sites": SiteRecord, "columns": ColumnsFile, "units": UnitDef,
    "calculators": CalculatorsFile, "wording": WordingRules, "force_rubric": ForceRubric, "lists": ReportList,
}
_LIST_KEY = {"bodies": "bodies", "jurisdictions": "jurisdictions", "topics": "topics", "glossary": "terms",
             "notices": "notices", "consistency": "checks",
             "sites": "sites", "units": "units", "lists": "lists"}


def kb_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each knowledge-base file format, by format name (the app writes them out)."""
    out = {}
    for name, model in FORMATS.items():
        schema = model.model_json_schema(by_alias=True)
        if name in _LIST_KEY:
            key = _LIST_KEY[name]
            schema = {"type": "object", "additionalProperties": False, "required": [key],
                      "properties": {key: {"type": "array", "items": {"$ref": "#/$defs/item"}}},
                      "$defs": {**schema.pop("$defs", {}), "item": schema}}
            if name == "glossary":  # and the groups of words that name one thing
                schema["properties"]["synonyms"] = {"type": "array", "items": {"$ref": "#/$defs/SynonymGroup"}}
                schema["$defs"]["SynonymGroup"] = SynonymGroup.model_json_schema()
        out[name] = schema
    return out


def site_named(kb: KB, written: str | None) -> SiteRecord | None:
    """The site record (policies/sites.yaml) a household's ``site`` names by its id, name or an alias."""
    if not written:
        return None
    return next((s for s in kb.sites.values() if written in (s.id, s.name, *s.aliases)), None)


def deadline_of(kb: KB, measure_id: str) -> Deadline | None:
    """The date a measure's rule must be met by (``rule.due``), from its document's deadlines."""
    m = kb.measures[measure_id]
    if m.rule is None or m.rule.due is None:
        return None
    doc = kb.documents[kb.clause_doc[kb.measure_clause[measure_id]]].doc
    return next((d for d in doc.deadlines if d.id == m.rule.due), None)


def input_schema(kb: KB, kind: str) -> dict[str, Any]:
    """The JSON Schema of a household or site under this knowledge base's vocabulary."""
    return kb.models.record(kind).model_json_schema()


def resolve_jurisdiction(kb: KB, value: str | None) -> str:
    """Map an id, Chinese name, alias or division code to a jurisdiction id."""
    if value is None:
        raise FieldError("jurisdiction", "required to select the documents in force "
                         "(e.g. dingnan, shiyan, 郧阳区 or 420304)")
    text = str(value).strip()
    for j in kb.jurisdictions.values():
        if text in (j.id, j.name, j.code, j.name_en) or text in j.aliases:
            return j.id
    names = [n for j in kb.jurisdictions.values() for n in (j.id, j.name, *j.aliases)]
    raise FieldError("jurisdiction", f"unknown jurisdiction {text!r}" + did_you_mean(suggest(text, names)))


def holder_of(kb: KB, fact: str, jurisdiction: str | None) -> Register | None:
    """The register that holds ``fact`` for a household of ``jurisdiction`` (its ``holder`` in the vocabulary):
    the one whose body belongs to the jurisdiction or the nearest area above it, else one whose body belongs to
    none; None when the vocabulary declares none that serves it. A member's or business's path
    (``members[0].age``) is read as its fact."""
    label = kb.fact_labels.get(fact.split("].", 1)[-1])
    if label is None or not label.holder:
        return None
    registers = [kb.registers[r] for r in label.holder if r in kb.registers]
    chain: list[str | None] = []
    j = jurisdiction
    while j is not None and j not in chain:
        chain.append(j)
        parent = kb.jurisdictions.get(j)
        j = parent.parent if parent is not None else None
    for area in [*chain, None]:
        for r in registers:
            body = kb.bodies.get(r.body)
            if body is not None and body.jurisdiction == area:
                return r
    return None
