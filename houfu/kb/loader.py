"""Load the knowledge base from ``policies/`` into validated models.

The default policy folder is the installed ``policies`` package, so a plain
``pip install .`` finds it; ``HOUFU_POLICIES`` or ``--policies`` point
elsewhere (a test fixture, a draft of a third document).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .conditions import Fact
from .facts import RecordModels, build_models
from .models import (
    ENTITY_KIND,
    Body,
    CalculatorsFile,
    Clause,
    ClausesFile,
    ColumnsFile,
    Concept,
    ConsistencyCheck,
    DeclaredCalculator,
    Document,
    FactGroup,
    FactLabel,
    ForceRubric,
    GlossaryTerm,
    Jurisdiction,
    Measure,
    NoticeText,
    Parameter,
    Part,
    RecordDecl,
    Register,
    ReportList,
    Scope,
    SiteRecord,
    SynonymGroup,
    Topic,
    UnitDef,
    WordingRules,
)
from .names import did_you_mean, suggest

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, first: int, second: int):
        self.key, self.first, self.second = key, first, second
        super().__init__(f"{key!r} appears twice, on lines {first} and {second}")


class _PolicyLoader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader (libyaml when present), refusing a key given twice in one mapping.

    PyYAML keeps the last of two equal keys and drops the first without a word, so a measure with two
    `references:` lost one of them; input files have been refused for this since issue 11, and policy files
    are now too."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(key, seen[key], line)
            except TypeError:  # an unhashable key: the constructor below says so
                continue
            seen[key] = line
        return super().construct_mapping(node, deep)


_YAML_LOADER = _PolicyLoader

__all__ = ["KB", "KBError", "FieldError", "DocumentKB", "default_policies_dir", "kb_version", "load", "load_default",
           "rebuild_source", "scope_concept_name"]


class KBError(Exception):
    """A defect in a knowledge-base file, located by file and key."""

    def __init__(self, file: str | Path, key: str, message: str):
        self.file, self.key, self.message = str(file), key, message
        super().__init__(f"{self.file}: {self.key}: {self.message}")


class FieldError(ValueError):
    """A value in a record that names nothing known (a jurisdiction, a measure): its field and why."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


def default_policies_dir() -> Path:
    env = os.environ.get("HOUFU_POLICIES")
    if env:
        return Path(env)
    from houfu import policies

    return Path(policies.__file__).parent


@dataclass(frozen=True)
class DocumentKB:
    doc: Document
    folder: Path
    parts: tuple[Part, ...]
    clauses: tuple[Clause, ...]
    source_text: str
    scraped_text: str
    calculators: tuple[DeclaredCalculator, ...] = ()

    @cached_property  # asked on every check (which documents decide); the KB never changes
    def draft(self) -> bool:
        """Still a draft of `houfu kb scaffold`: TODOs or unreviewed guesses left. A draft decides nothing."""
        return bool(self.doc.todo) or any(d.draft for d in self.doc.deadlines) or any(
            (c.responsibility is not None and c.responsibility.draft) or any(m.draft for m in c.measures)
            for c in self.clauses)


@dataclass(frozen=True, eq=False)
class KB:
    """The loaded knowledge base: immutable, indexed by id, with a content hash.

    Engines keep their own caches (``houfu.engine.Evaluator``); nothing here changes
    after ``load`` returns, so one KB can serve many threads.
    """

    folder: Path
    version: str
    documents: Mapping[str, DocumentKB]
    bodies: Mapping[str, Body]
    jurisdictions: Mapping[str, Jurisdiction]
    topics: Mapping[str, Topic]
    units: Mapping[str, UnitDef]
    glossary: Mapping[str, GlossaryTerm]
    fact_labels: Mapping[str, FactLabel]
    models: RecordModels
    notices: Mapping[str, NoticeText]
    wording: WordingRules | None
    sites: Mapping[str, SiteRecord]
    columns: ColumnsFile
    checks: Mapping[str, ConsistencyCheck]
    rubric: ForceRubric
    clauses: Mapping[str, Clause]
    measures: Mapping[str, Measure]
    parameters: Mapping[str, Parameter]
    concepts: Mapping[str, Concept]
    clause_doc: Mapping[str, str]
    measure_clause: Mapping[str, str]
    concept_clause: Mapping[str, str]
    #: where a missing fact is asked for (vocabulary ``registers``, a fact's ``holder``)
    registers: Mapping[str, Register]
    #: the caseload report's lists (policies/lists.yaml)
    lists: tuple[ReportList, ...]
    #: words that name one thing (glossary.yaml ``synonyms``), for search and owners
    synonyms: tuple[SynonymGroup, ...] = ()
    #: the key it is kept under on disk (``houfu.kb.cache``), for what is compiled from it (rule programs)
    cache_key: str = ""


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            # libyaml when present: the knowledge base is trusted data, and the pure-Python parser is
            # most of a cold start (about 1 s against 0.1 s).
            return yaml.load(fh, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        raise KBError(path, "-", "file not found") from None
    except _DuplicateKey as exc:
        raise KBError(path, f"line {exc.second}", f"duplicate key {exc.key!r}: it appears on lines {exc.first} and "
                      f"{exc.second} of the same mapping, and YAML would keep only the second") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        raise KBError(path, where, f"malformed YAML: {getattr(exc, 'problem', exc)}") from None


def _key_path(raw: Any, loc: tuple[Any, ...]) -> str:
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


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], raw: Any, path: Path) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise KBError(path, _key_path(raw, err["loc"]), err["msg"]) from None


def _parse_list(model: type[M], path: Path, key: str,
                prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, M]:
    raw = _read_yaml(path) or {}
    items = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise KBError(path, key, f"expected a top-level list `{key}:`")
    out: dict[str, M] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KBError(path, f"{key}[{i}]", "expected a mapping")
        if prepare is not None:
            item = prepare(item)
        try:
            obj = _parse(model, item, path)
        except KBError as exc:
            raise KBError(path, f"{key}[{item.get('id', i)}].{exc.key}", exc.message) from None
        ident: str = getattr(obj, "id")  # noqa: B009 - every registry model has an id
        if ident in out:
            raise KBError(path, f"{key}[{ident}]", f"duplicate id {ident!r}")
        out[ident] = obj
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
    doc = _parse(Document, _read_yaml(doc_path), doc_path)
    if doc.id != folder.name:
        raise KBError(doc_path, "id", f"document id {doc.id!r} must match its folder name {folder.name!r}")
    clauses_path = folder / "clauses.yaml"
    cf = _parse(ClausesFile, _read_yaml(clauses_path), clauses_path)
    source = (folder / "source.txt").read_text(encoding="utf-8")
    scraped = (folder / "scraped.txt").read_text(encoding="utf-8")
    calc_path = folder / "calculators.yaml"
    calcs = _parse(CalculatorsFile, _read_yaml(calc_path), calc_path).calculators if calc_path.exists() else []
    return DocumentKB(doc, folder, tuple(cf.parts), tuple(cf.clauses), source, scraped, tuple(calcs))


@dataclass
class _Index:
    clauses: dict[str, Clause]
    measures: dict[str, Measure]
    parameters: dict[str, Parameter]
    concepts: dict[str, Concept]
    clause_doc: dict[str, str]
    measure_clause: dict[str, str]
    concept_clause: dict[str, str]


def _index(documents: Mapping[str, DocumentKB]) -> _Index:
    """Build the id indexes, rejecting duplicate ids across the whole KB."""
    ix = _Index({}, {}, {}, {}, {}, {}, {})
    seen: dict[str, str] = {}

    def claim(ident: str, path: Path, key: str) -> None:
        if ident in seen:
            first = seen[ident]
            mine = f"{path.parent.name}/{path.name}"
            hint = ("" if first.startswith(mine) else
                    "; two documents share a clause prefix: give each its own (e.g. from its id and year)")
            raise KBError(path, key, f"duplicate id {ident!r} (first used in {first}){hint}")
        seen[ident] = f"{path.parent.name}/{path.name} {key}"

    for doc_id, dkb in documents.items():
        path = dkb.folder / "clauses.yaml"
        for part in dkb.parts:
            claim(part.id, path, f"parts[{part.id}]")
        for clause in dkb.clauses:
            claim(clause.id, path, f"clauses[{clause.id}]")
            ix.clauses[clause.id] = clause
            ix.clause_doc[clause.id] = doc_id
            for concept in clause.concepts:
                claim(concept.name, path, f"clauses[{clause.id}].concepts[{concept.name}]")
                ix.concepts[concept.name] = concept
                ix.concept_clause[concept.name] = clause.id
            for m in clause.measures:
                claim(m.id, path, f"clauses[{clause.id}].measures[{m.id}]")
                ix.measures[m.id] = m
                ix.measure_clause[m.id] = clause.id
                for p in m.parameters:
                    claim(p.id, path, f"clauses[{clause.id}].measures[{m.id}].parameters[{p.id}]")
                    ix.parameters[p.id] = p
    return ix


#: The vocabulary's fact whose codes are the kinds of site (县城集中安置, 集镇集中安置 …): a document's scope names
#: some of them, and the list is the vocabulary's, nowhere else.
SITE_TYPE_FACT = "site_type"


def site_types(facts: Mapping[str, FactLabel]) -> tuple[str, ...]:
    """The kinds of site, in the vocabulary's order: the codes of its ``site_type`` fact."""
    label = facts.get(SITE_TYPE_FACT)
    return tuple(label.labels) if label is not None and label.labels else ()


def _check_scopes(documents: Mapping[str, DocumentKB], facts: Mapping[str, FactLabel]) -> None:
    known = site_types(facts)
    for dkb in documents.values():
        for i, code in enumerate(dkb.doc.scope.site_types):
            if code not in known:
                raise KBError(dkb.folder / "document.yaml", f"scope.site_types[{i}]",
                              f"{code!r} is not a site type of vocabulary.yaml ({', '.join(known) or 'none declared'})"
                              + did_you_mean(suggest(code, known)))


def scope_concept_name(doc_id: str) -> str:
    return f"in_scope_{doc_id.replace('-', '_')}"


def covers_every_site_type(scope: Scope, facts: Mapping[str, FactLabel]) -> bool:
    """Whether a document's scope names every kind of site of the vocabulary (then it restricts nothing)."""
    return set(scope.site_types) >= set(site_types(facts))


def _scope_concepts(documents: Mapping[str, DocumentKB], ix: _Index, facts: Mapping[str, FactLabel]) -> None:
    """A document that covers only some site types gets a derived fact ``in_scope_<doc>``."""
    for doc_id, dkb in documents.items():
        scope = dkb.doc.scope
        types = list(scope.site_types)
        if covers_every_site_type(scope, facts):
            continue
        name = scope_concept_name(doc_id)
        ix.concepts[name] = Concept(name=name, entity="any", zh=scope.zh, en=scope.en, quote=scope.zh,
                                    when=Fact.model_validate({"fact": "site_type", "in": types}), note=scope.note)
        ix.concept_clause[name] = scope.clause


def content_hash(folder: Path) -> str:
    """The SHA-256 of every file under the policy folder (paths and bytes), in hex."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def kb_version(folder: Path) -> str:
    """A content hash of every file under the policy folder (paths and bytes), 12 hex digits.

    Reports carry it, so a stored answer can be tied to the exact rules that produced it.
    """
    return content_hash(folder)[:12]


def load(folder: Path | str | None = None) -> KB:
    """Load and parse every file; structural checks only (see ``kb.validate``).

    What it builds is kept on disk per content of the folder (``houfu.kb.cache``): a second process reads the
    pickle instead of the YAML, and an edited file, another houfu or a corrupt cache means loading again."""
    from . import cache

    root = Path(folder) if folder else default_policies_dir()
    if not root.is_dir():
        raise KBError(root, "-", "policy folder not found")
    digest = content_hash(root)
    key = cache.cache_key(root, digest)
    kb = cache.read(key)
    if isinstance(kb, KB) and kb.folder == root and kb.version == digest[:12]:
        return kb
    kb = _load(root, digest[:12], key)
    cache.write(key, kb)
    return kb


def _load(root: Path, version: str, key: str) -> KB:
    documents: dict[str, DocumentKB] = {}
    for sub in sorted(p for p in root.iterdir() if (p / "document.yaml").exists()):
        dkb = _load_document(sub)
        documents[dkb.doc.id] = dkb
    ix = _index(documents)
    facts, models = load_vocabulary(root, [d.folder for d in documents.values()])
    _check_scopes(documents, facts)
    _scope_concepts(documents, ix, facts)
    columns = (_parse(ColumnsFile, _read_yaml(root / "columns.yaml") or {}, root / "columns.yaml")
               if (root / "columns.yaml").exists() else ColumnsFile(booleans={"true": [], "false": []}))
    ro = MappingProxyType
    return KB(
        folder=root,
        version=version,
        documents=ro(documents),
        bodies=ro(_parse_list(Body, root / "bodies.yaml", "bodies")),
        jurisdictions=ro(_parse_list(Jurisdiction, root / "jurisdictions.yaml", "jurisdictions")),
        topics=ro(_parse_list(Topic, root / "topics.yaml", "topics")),
        units=ro(load_units(root)),
        glossary=ro(_parse_list(GlossaryTerm, root / "glossary.yaml", "terms")),
        fact_labels=ro(facts), models=models,
        notices=ro(_parse_list(NoticeText, root / "notices.yaml", "notices")),
        wording=_parse(WordingRules, _read_yaml(root / "wording.yaml"), root / "wording.yaml")
        if (root / "wording.yaml").exists() else None,
        sites=ro(_parse_list(SiteRecord, root / "sites.yaml", "sites")),
        columns=columns,
        checks=ro(_parse_list(ConsistencyCheck, root / "consistency.yaml", "checks")),
        rubric=_parse(ForceRubric, _read_yaml(root / "force_rubric.yaml"), root / "force_rubric.yaml"),
        clauses=ro(ix.clauses), measures=ro(ix.measures), parameters=ro(ix.parameters),
        concepts=ro(ix.concepts), clause_doc=ro(ix.clause_doc), measure_clause=ro(ix.measure_clause),
        concept_clause=ro(ix.concept_clause),
        registers=ro(load_registers(root, [d.folder for d in documents.values()])),
        lists=load_lists(root, columns),
        synonyms=load_synonyms(root / "glossary.yaml"),
        cache_key=key,
    )


def load_synonyms(path: Path) -> tuple[SynonymGroup, ...]:
    """The glossary's groups of words that name one thing (``synonyms:``; none if absent)."""
    raw = _read_yaml(path) or {}
    groups = raw.get("synonyms", []) if isinstance(raw, dict) else []
    if not isinstance(groups, list):
        raise KBError(path, "synonyms", "expected a list of groups (words, en)")
    out = []
    for i, group in enumerate(groups):
        try:
            out.append(_parse(SynonymGroup, group, path))
        except KBError as exc:
            raise KBError(path, f"synonyms[{i}].{exc.key}", exc.message) from None
    return tuple(out)


def load_vocabulary(root: Path, document_folders: list[Path]) -> tuple[dict[str, FactLabel], RecordModels]:
    """The input facts of ``root/vocabulary.yaml`` and of each document's own, and the models built from them."""
    facts: dict[str, FactLabel] = {}
    groups: list[FactGroup] = []
    where: dict[str, Path] = {}
    paths = [p for p in [root / "vocabulary.yaml", *(f / "vocabulary.yaml" for f in document_folders)]
             if p == root / "vocabulary.yaml" or p.exists()]
    records, record_where = _record_kinds(paths)

    def as_entity(item: dict[str, Any]) -> dict[str, Any]:
        """``record: workshop`` (a declared kind) is an entity fact of that kind."""
        record = item.get("record")
        if isinstance(record, str) and record in records:
            return {**item, "record": "entity", "kind": record}
        return item

    for path in paths:
        raw = _read_yaml(path) or {}
        for ident, fact in _parse_list(FactLabel, path, "facts", as_entity).items():
            if fact.kind is not None and fact.kind not in records:
                raise KBError(path, f"facts[{ident}].kind", f"{fact.kind!r} is no record kind declared under "
                              f"`records:` ({', '.join(records) or 'none declared'})")
            if ident == ENTITY_KIND and records:
                raise KBError(path, f"facts[{ident}]", "the kind of an entity is houfu's, built from `records:`")
            if ident in facts:
                # A document's facts are its own: one name cannot mean two things, so both files are named.
                first = where[ident]
                owner = "the shared vocabulary" if first == root / "vocabulary.yaml" else f"document {first.parent.name}"
                raise KBError(path, f"facts[{ident}]", f"already declared in {first} ({owner}); a document's own "
                              f"fact needs a name of its own: rename it here (e.g. {path.parent.name.split('-')[0]}_"
                              f"{ident}) and in its rules and cases")
            facts[ident], where[ident] = fact, path
        if isinstance(raw, dict) and raw.get("groups"):
            groups += _parse_list(FactGroup, path, "groups").values()
    for ident, decl in records.items():
        for name in decl.columns:
            label = facts.get(name)
            if name not in (ENTITY_KIND, "id", "name", decl.within) and (
                    label is None or label.records != ["entity"] or label.kind not in (None, ident)):
                raise KBError(record_where[ident], f"records[{ident}].columns.{name}",
                              f"not a field of a {decl.zh}: {ENTITY_KIND}, id, name, {decl.within} (the "
                              f"{decl.within} it is linked to), or one of its facts")
    if records:
        facts[ENTITY_KIND] = FactLabel(
            id=ENTITY_KIND, record="entity", type="code", labels={"business": "经营实体"} | {
                r.id: r.zh for r in records.values()},
            description="which kind of record the entity is: a business (经营实体), or a kind a vocabulary declares",
            zh="这是哪一类:经营实体,还是" + "、".join(r.zh for r in records.values()) + "?",
            en="Which kind is it: a business, or " + ", ".join(f"a {r.en}" for r in records.values()) + "?")
    try:
        models = build_models(facts.values(), groups, records)
    except ValueError as exc:
        name, _, message = str(exc).partition(": ")
        raise KBError(where.get(name, root / "vocabulary.yaml"), f"facts[{name}]", message) from None
    return facts, models


def _record_kinds(paths: list[Path]) -> tuple[dict[str, RecordDecl], dict[str, Path]]:
    """The record kinds the vocabularies declare under ``records:``, each once, and the file of each."""
    out: dict[str, RecordDecl] = {}
    where: dict[str, Path] = {}
    for path in paths:
        raw = _read_yaml(path)
        if not isinstance(raw, dict) or not raw.get("records"):
            continue
        for ident, decl in _parse_list(RecordDecl, path, "records").items():
            if ident in out:
                raise KBError(path, f"records[{ident}]", f"already declared in {where[ident]}")
            out[ident], where[ident] = decl, path
    return out, where


def load_registers(root: Path, document_folders: list[Path]) -> dict[str, Register]:
    """The registers of ``root/vocabulary.yaml`` and of each document's own (a fact's ``holder`` names them)."""
    registers: dict[str, Register] = {}
    for path in [root / "vocabulary.yaml", *(f / "vocabulary.yaml" for f in document_folders)]:
        raw = _read_yaml(path) if path.exists() else None
        if not isinstance(raw, dict) or not raw.get("registers"):
            continue
        for ident, register in _parse_list(Register, path, "registers").items():
            if ident in registers:
                raise KBError(path, f"registers[{ident}]", "already declared in another vocabulary.yaml")
            registers[ident] = register
    return registers


def load_lists(root: Path, columns: ColumnsFile) -> tuple[ReportList, ...]:
    """The caseload report's lists: policies/lists.yaml, and any list an older policy folder still declares in
    columns.yaml under an id lists.yaml does not use (lists.yaml's reading wins)."""
    path = root / "lists.yaml"
    lists = list(_parse_list(ReportList, path, "lists").values()) if path.exists() else []
    ids = {item.id for item in lists}
    return (*lists, *(item for item in columns.lists if item.id not in ids))


def load_units(folder: Path) -> dict[str, UnitDef]:
    """policies/units.yaml alone (the scaffold reads units without loading every document)."""
    return _parse_list(UnitDef, folder / "units.yaml", "units")


@cache
def load_default() -> KB:
    """The installed knowledge base, loaded once per process."""
    return load(None)
