"""``houfu kb scaffold``: write a draft ``policies/<id>/`` from a scraped page, for a person to finish.

The analysis is ``kb.ingest``; this module only lays its guesses out as the knowledge base's own files:
``scraped.txt`` (unchanged), ``source.txt`` (chrome dropped, proposed repairs applied), ``document.yaml``
(metadata, chrome and repairs, each proposal marked ``draft: true``, and a ``todo`` list) and
``clauses.yaml`` (parts, clauses with their responsibility lists, and one draft measure per sentence with
draft parameters). Names the body registry does not know go to ``bodies.proposed.yaml`` beside them.
``houfu kb validate`` then fails on exactly the TODOs until a person has done them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from houfu.kb.ingest import Draft, DraftClause, DraftParameter, analyse, cn_number
from houfu.kb.loader import KB, site_types
from houfu.kb.validate import qualifier_marks

__all__ = ["ScaffoldResult", "scaffold"]


@dataclass
class ScaffoldResult:
    folder: Path
    clauses: int
    measures: int
    parameters: int
    bodies_listed: int
    bodies_unknown: list[str]
    chrome: int
    repairs: int
    problems: list[str]
    unparsed_lists: list[str]
    lines_written: dict[str, int] = field(default_factory=dict)
    todo: list[str] = field(default_factory=list)


def _clause_ids(prefix: str, clauses: list[DraftClause]) -> dict[str, str]:
    """序言 -> dn.0, 一 -> dn.1, 二(一) -> dn.2.1, 4 -> dn.4; a part's own clause yields to an item of the same
    number (dn.part1) in a document that numbers its items through."""
    numbered = {c.number for c in clauses if c.number.isdigit()}
    ids = {}
    for c in clauses:
        if c.number == "序言":
            ids[c.number] = f"{prefix}.0"
        elif c.number.isdigit():
            ids[c.number] = f"{prefix}.{c.number}"
        elif "(" in c.number:
            part, item = c.number.rstrip(")").split("(")
            ids[c.number] = f"{prefix}.{cn_number(part)}.{cn_number(item)}"
        else:
            n = str(cn_number(c.number))
            ids[c.number] = f"{prefix}.part{n}" if n in numbered else f"{prefix}.{n}"
    return ids


def _level(issuer: str | None, title: str | None) -> str:
    words = (issuer or "") + (title or "")
    for mark, level in (("县", "county"), ("区", "county"), ("市", "city"), ("州", "city"), ("省", "province")):
        if mark in words:
            return level
    return "county"


def _parameters_for(quote: str, params: list[DraftParameter]) -> list[DraftParameter]:
    return [p for p in params if p.text and p.text in quote]


def scaffold(scraped_path: Path, doc_id: str, out_root: Path, kb: KB, jurisdiction: str | None = None,
             prefix: str | None = None, force: bool = False, encoding: str | None = None) -> ScaffoldResult:
    """Draft ``out_root/doc_id/`` from the scraped page (its encoding detected as every input's is, or given);
    refuses to overwrite a folder unless ``force``. Raises ReadError for a page that is not text."""
    from houfu.io.reader import decode

    raw, _ = decode(scraped_path.read_bytes(), encoding)
    scraped = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    draft = analyse(scraped, kb, jurisdiction)
    folder = out_root / doc_id
    if folder.exists() and any(folder.iterdir()) and not force:
        raise FileExistsError(f"{folder} already holds files; give --force to write over them")
    folder.mkdir(parents=True, exist_ok=True)
    prefix = prefix or re.sub(r"[^a-z]", "", doc_id.split("-")[0])[:2] or "doc"
    ids = _clause_ids(prefix, draft.outline.clauses)
    todo: list[str] = []
    unknown: list[str] = []
    clauses_out: list[dict[str, Any]] = []
    n_measures = n_params = n_bodies = 0
    part_ids = {"序言": f"{prefix}.p0"}
    for number, _ in draft.outline.parts:
        part_ids[number] = f"{prefix}.p{cn_number(number)}"
    for c in draft.outline.clauses:
        cid = ids[c.number]
        entry: dict[str, Any] = {"id": cid, "part": part_ids.get(c.part, f"{prefix}.p0"), "number": c.number,
                                 "heading": c.heading, "text": c.text}
        r = draft.responsibilities.get(c.number)
        if r is not None:
            roles = {b.role for b in r.bodies}
            mixed = len(roles) > 1
            entry["responsibility"] = {
                "list_text": r.list_text, "role": "mixed" if mixed else roles.pop(), "draft": True,
                "bodies": [{"body": b.body or f"TODO:{b.as_written}", "as_written": b.as_written,
                            **({"list_role": b.role} if mixed else {})} for b in r.bodies]}
            n_bodies += len(r.bodies)
            unknown += [b.as_written for b in r.bodies if b.body is None and b.as_written not in unknown]
        measures = []
        params = draft.parameters.get(c.number, [])
        placed: set[int] = set()
        background = [m for m in draft.measures.get(c.number, []) if m.background]
        if background:
            entry["not_encoded"] = [{"text": m.quote, "reason": "TODO: a statement of fact, not a norm? Confirm "
                                     "(and drop TODO), or make it a measure"} for m in background]
        for k, m in enumerate((m for m in draft.measures.get(c.number, []) if not m.background), 1):
            mid = f"{cid}.m{k}"
            mine = [p for p in _parameters_for(m.quote, params) if id(p) not in placed]
            placed |= {id(p) for p in mine}
            measures.append({
                "id": mid, "zh": m.quote, "en": "TODO: an English gloss", "subject": m.subject.value,
                "force": m.force.value, "modality": m.modality.value, "quote": m.quote, "draft": True,
                "parameters": [{"id": f"{mid}.p{j}", "name": "TODO", "value": p.value, "unit": p.unit,
                                "bound": p.bound, "text": p.text, "draft": True,
                                **({"note": "TODO: no unit found; give it one"} if p.unknown_unit else {})}
                               for j, p in enumerate(mine, 1)],
                "qualifiers": [{"kind": kind, "text": words, "reading": "TODO: how this narrows or loosens it"}
                               for kind, words in qualifier_marks(m.quote)],
                "not_decidable": "TODO: write a rule, or say why household and site facts cannot decide it"})
            n_params += len(mine)
        left = [p for p in params if id(p) not in placed]
        if left:  # e.g. a number in an item's heading, which is not a measure: said, never dropped
            todo.append(f"{cid}: number(s) in no drafted sentence, give each a measure or a reason: "
                        + "; ".join(p.text for p in left))
        entry["measures"] = measures
        n_measures += len(measures)
        clauses_out.append(entry)
    if unknown:
        todo.append(f"{len(unknown)} name(s) the body registry does not know: add them to policies/bodies.yaml "
                    f"(proposals in {doc_id}/bodies.proposed.yaml) and replace each TODO: body id")
        _write_yaml(folder / "bodies.proposed.yaml", {"bodies": _proposed_bodies(unknown, jurisdiction)},
                    f"Bodies named in {doc_id} that policies/bodies.yaml does not know; merge them there by hand. "
                    "A short form of a longer name (县人社局, 县人力资源和社会保障局) is proposed as one body.")
    todo += [f"numbering: {p}" for p in draft.outline.problems]
    todo += [f"{n}: ends like a responsibility list the scaffold could not read" for n in draft.unparsed_lists]
    todo += [f"damage at line {g.line} ({g.reason}): {g.scraped!r}" for g in draft.repairs if g.repaired is None]
    meta = draft.metadata
    document = _document(doc_id, meta, draft, jurisdiction, ids, todo, site_types(kb.fact_labels))
    _write_yaml(folder / "document.yaml", document, f"Metadata, chrome and repairs for {doc_id}: a draft by "
                "`houfu kb scaffold`. Every `draft: true` and every `todo` is for a person to review.",
                "document")
    parts = [{"id": f"{prefix}.p0", "number": "序言", "heading": "序言(未编号的开篇段落)"}] * any(
        c.part == "序言" for c in draft.outline.clauses)
    parts += [{"id": part_ids[n], "number": n, "heading": h} for n, h in draft.outline.parts]
    _write_yaml(folder / "clauses.yaml", {"parts": parts, "clauses": clauses_out},
                f"Clauses of {doc_id}, numbered as the document numbers them: a draft by `houfu kb scaffold`.",
                "clauses")
    (folder / "scraped.txt").write_text(scraped, encoding="utf-8")
    (folder / "source.txt").write_text(draft.source, encoding="utf-8")
    lines = {name: len((folder / name).read_text(encoding="utf-8").splitlines())
             for name in ("document.yaml", "clauses.yaml")}
    return ScaffoldResult(folder, len(clauses_out), n_measures, n_params, n_bodies, unknown, len(draft.chrome),
                          len(draft.repairs), draft.outline.problems, draft.unparsed_lists, lines, todo)


def _proposed_bodies(names: list[str], jurisdiction: str | None) -> list[dict[str, Any]]:
    """One proposal per body: a name that abbreviates a longer one in the list is its alias."""
    from houfu.kb.ingest import abbreviates

    out: list[dict[str, Any]] = []
    for n in sorted(names, key=len, reverse=True):
        longer = next((b for b in out if abbreviates(n, b["full_name"])), None)
        if longer is not None:
            longer["name"], longer["aliases"] = n, [*longer["aliases"], longer["name"]]
            continue
        out.append({"id": "TODO", "name": n, "full_name": n, "aliases": [], "en": "TODO", "kind": "department",
                    "level": _level(n, None), "jurisdiction": jurisdiction})
    return out


def _document(doc_id: str, meta: dict[str, Any], draft: Draft, jurisdiction: str | None, ids: dict[str, str],
              todo: list[str], kinds_of_site: tuple[str, ...]) -> dict[str, Any]:
    title = meta.get("title") or "TODO: the title"
    signed = meta.get("signed")
    first = next(iter(ids.values()), "TODO")
    if not signed:
        todo.append("signed: the signing date was not found; write it (YYYY-MM-DD)")
    if not jurisdiction:
        todo.append("jurisdiction: say which jurisdiction issued it (an id of policies/jurisdictions.yaml)")
    todo += ["title_en, issuer_en, short_name and cite_as: write them",
             "scope: say which sites and households the document covers (the draft covers all)"]
    until = meta.get("in_force_until")
    todo.append(f"in_force_until: read as {until['date']} from {until['quote']!r}; check it, and write in_force_note"
                if until else "in_force_until and in_force_note: the text's execution period, if it states one")
    if meta.get("convention"):
        todo.append("convention: drafted from the text's own statement of how it counts bounds; check its words")
    return {
        "id": doc_id, "short_name": title[:14], "title": title, "title_en": "TODO", "issuer": meta.get("issuer") or
        "TODO", "issuer_en": "TODO", "doc_number": meta.get("doc_number"), "level": _level(meta.get("issuer"), title),
        "jurisdiction": jurisdiction or "TODO",
        "parents": [{"title": p["title"], "doc_number": p["doc_number"], "jurisdiction": "TODO",
                     "quote": f"《{p['title']}》"} for p in meta.get("parents", [])],
        "signed": signed or "1900-01-01", "in_force_from": signed or "1900-01-01", "in_force_until": until["date"] if until else None,
        **({"convention": meta["convention"]} if meta.get("convention") else {}),
        "scope": {"zh": "TODO: the document's scope", "en": "TODO", "clause": first,
                  "site_types": list(kinds_of_site), "households": ["registered_poor", "co_relocated"]},
        "chrome": [{"text": g.scraped, "reason": g.reason, "draft": True} for g in draft.chrome],
        "repairs": [{"scraped": g.scraped, "repaired": g.repaired, "reason": g.reason, "draft": True}
                    for g in draft.repairs if g.repaired is not None],
        "deadlines": [{"id": f"{ids[number]}.due{i}", "date": d.date.isoformat(), "text": d.text,
                       "clause": ids[number], "reading": d.reading, "draft": True}
                      for number, found in draft.deadlines.items() for i, d in enumerate(found, 1)],
        "todo": todo,
    }


def _write_yaml(path: Path, data: dict[str, Any], comment: str, schema: str | None = None) -> None:
    head = (f"# yaml-language-server: $schema=../../docs/schemas/{schema}.schema.json\n" if schema else "")
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110, default_flow_style=False)
    path.write_text(head + f"# {comment}\n" + body, encoding="utf-8")
