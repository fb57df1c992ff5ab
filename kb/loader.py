"""Load the knowledge base from ``policies/`` into validated models.

The default policy folder is the installed ``policies`` package, so a plain
``pip install .`` finds it; ``HOUFU_POLICIES`` or ``--policies`` point
elsewhere (a test fixture, a draft of a third document).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .models import (
    Body,
    Clause,
    ClausesFile,
    Concept,
    Condition,
    Document,
    FactLabel,
    GlossaryTerm,
    Jurisdiction,
    Measure,
    Parameter,
    Part,
    Topic,
)

__all__ = ["KB", "KBError", "DocumentKB", "default_policies_dir", "load", "rebuild_source"]


class KBError(Exception):
    """A defect in a knowledge-base file, located by file and key."""

    def __init__(self, file: str | Path, key: str, message: str):
        self.file, self.key, self.message = str(file), key, message
        super().__init__(f"{self.file}: {self.key}: {self.message}")


def default_policies_dir() -> Path:
    env = os.environ.get("HOUFU_POLICIES")
    if env:
        return Path(env)
    from houfu import policies

    return Path(policies.__file__).parent


@dataclass
class DocumentKB:
    doc: Document
    folder: Path
    parts: list[Part]
    clauses: list[Clause]
    source_text: str
    scraped_text: str


@dataclass
class KB:
    folder: Path
    documents: dict[str, DocumentKB]
    bodies: dict[str, Body]
    jurisdictions: dict[str, Jurisdiction]
    topics: dict[str, Topic]
    glossary: dict[str, GlossaryTerm]
    fact_labels: dict[str, FactLabel]
    clauses: dict[str, Clause] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    concepts: dict[str, Concept] = field(default_factory=dict)
    clause_doc: dict[str, str] = field(default_factory=dict)
    measure_clause: dict[str, str] = field(default_factory=dict)
    concept_clause: dict[str, str] = field(default_factory=dict)
    #: Compiled programs and engines built from this KB (engine.program, engine.evaluate).
    cache: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise KBError(path, "-", "file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        raise KBError(path, where, f"malformed YAML: {getattr(exc, 'problem', exc)}") from None


def _key_path(raw: Any, loc: tuple) -> str:
    """Turn a pydantic error location into a readable key, naming list items by id."""
    out: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
            ident = node.get("id") or node.get("name") if isinstance(node, dict) else None
            out.append(f"[{ident}]" if ident else f"[{part}]")
        else:
            node = node.get(part) if isinstance(node, dict) else None
            out.append(f".{part}")
    return "".join(out).lstrip(".") or "-"


def _parse(model: type[BaseModel], raw: Any, path: Path) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise KBError(path, _key_path(raw, err["loc"]), err["msg"]) from None


def _parse_list(model: type[BaseModel], path: Path, key: str) -> dict[str, Any]:
    raw = _read_yaml(path) or {}
    items = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise KBError(path, key, f"expected a top-level list `{key}:`")
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KBError(path, f"{key}[{i}]", "expected a mapping")
        try:
            obj = _parse(model, item, path)
        except KBError as exc:
            raise KBError(path, f"{key}[{item.get('id', i)}].{exc.key}", exc.message) from None
        if obj.id in out:
            raise KBError(path, f"{key}[{obj.id}]", f"duplicate id {obj.id!r}")
        out[obj.id] = obj
    return out


def _normalise_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def rebuild_source(scraped: str, doc: Document, path: Path) -> str:
    """Apply the document's declared chrome removals and repairs to the scrape."""
    chrome = {c.text.replace("\xa0", " ") for c in doc.chrome}
    lines = [ln for ln in _normalise_lines(scraped) if ln and ln.replace("\xa0", " ") not in chrome]
    text = "\n".join(lines) + "\n"
    for i, rep in enumerate(doc.repairs):
        count = text.count(rep.scraped)
        if count != 1:
            raise KBError(path, f"repairs[{i}].scraped",
                          f"{rep.scraped!r} occurs {count} times in the scraped text; it must occur exactly once")
        text = text.replace(rep.scraped, rep.repaired)
    return text


def _load_document(folder: Path) -> DocumentKB:
    doc_path = folder / "document.yaml"
    doc: Document = _parse(Document, _read_yaml(doc_path), doc_path)
    if doc.id != folder.name:
        raise KBError(doc_path, "id", f"document id {doc.id!r} must match its folder name {folder.name!r}")
    clauses_path = folder / "clauses.yaml"
    cf: ClausesFile = _parse(ClausesFile, _read_yaml(clauses_path), clauses_path)
    source = (folder / "source.txt").read_text(encoding="utf-8")
    scraped = (folder / "scraped.txt").read_text(encoding="utf-8")
    return DocumentKB(doc, folder, cf.parts, cf.clauses, source, scraped)


def _index(kb: KB) -> None:
    """Build the id indexes, rejecting duplicate ids across the whole KB."""
    seen: dict[str, str] = {}

    def claim(ident: str, path: Path, key: str) -> None:
        if ident in seen:
            raise KBError(path, key, f"duplicate id {ident!r} (first used in {seen[ident]})")
        seen[ident] = key

    for doc_id, dkb in kb.documents.items():
        path = dkb.folder / "clauses.yaml"
        for part in dkb.parts:
            claim(part.id, path, f"parts[{part.id}]")
        for clause in dkb.clauses:
            claim(clause.id, path, f"clauses[{clause.id}]")
            kb.clauses[clause.id] = clause
            kb.clause_doc[clause.id] = doc_id
            for concept in clause.concepts:
                claim(concept.name, path, f"clauses[{clause.id}].concepts[{concept.name}]")
                kb.concepts[concept.name] = concept
                kb.concept_clause[concept.name] = clause.id
            for m in clause.measures:
                claim(m.id, path, f"clauses[{clause.id}].measures[{m.id}]")
                kb.measures[m.id] = m
                kb.measure_clause[m.id] = clause.id
                for p in m.parameters:
                    claim(p.id, path, f"clauses[{clause.id}].measures[{m.id}].parameters[{p.id}]")
                    kb.parameters[p.id] = p


ALL_SITE_TYPES = {"county_seat_centralized", "town_centralized", "central_village", "scattered"}


def scope_concept_name(doc_id: str) -> str:
    return f"in_scope_{doc_id.replace('-', '_')}"


def _scope_concepts(kb: KB) -> None:
    """A document that covers only some site types gets a derived fact ``in_scope_<doc>``."""
    for doc_id, dkb in kb.documents.items():
        scope = dkb.doc.scope
        types = [t.value for t in scope.site_types]
        if set(types) == ALL_SITE_TYPES:
            continue
        name = scope_concept_name(doc_id)
        kb.concepts[name] = Concept(name=name, entity="any", zh=scope.zh, en=scope.en, quote=scope.zh,
                                    when=Condition(fact="site_type", **{"in": types}), note=scope.note)
        kb.concept_clause[name] = scope.clause


def load(folder: Path | str | None = None) -> KB:
    """Load and parse every file; structural checks only (see ``kb.validate``)."""
    root = Path(folder) if folder else default_policies_dir()
    if not root.is_dir():
        raise KBError(root, "-", "policy folder not found")
    kb = KB(
        folder=root,
        documents={},
        bodies=_parse_list(Body, root / "bodies.yaml", "bodies"),
        jurisdictions=_parse_list(Jurisdiction, root / "jurisdictions.yaml", "jurisdictions"),
        topics=_parse_list(Topic, root / "topics.yaml", "topics"),
        glossary=_parse_list(GlossaryTerm, root / "glossary.yaml", "terms"),
        fact_labels=_parse_list(FactLabel, root / "vocabulary.yaml", "facts"),
    )
    for sub in sorted(p for p in root.iterdir() if (p / "document.yaml").exists()):
        dkb = _load_document(sub)
        kb.documents[dkb.doc.id] = dkb
    _index(kb)
    _scope_concepts(kb)
    return kb


@cache
def load_default() -> KB:
    """The installed knowledge base, loaded once per process."""
    return load(None)
