"""``houfu kb scaffold``: write a draft ``policies/<id>/`` from a scraped page, for a person to finish.

The analysis is ``kb.ingest``; this module only lays its guesses out as the knowledge base's own files:
``scraped.txt`` (unchanged), ``source.txt`` (chrome dropped, proposed repairs applied), ``document.yaml``
(metadata, chrome and repairs, each proposal marked ``draft: true``, and a ``todo`` list) and
``clauses.yaml`` (parts, clauses with their responsibility lists, and one draft measure per sentence with
draft parameters). Names the body registry does not know go to ``bodies.proposed.yaml`` beside them.
``houfu kb validate`` then fails on exactly the TODOs until a person has done them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from houfu.engine.periods import period_of
from houfu.kb.ingest import Draft, DraftClause, DraftParameter, analyse, cn_number
from houfu.kb.loader import KB, site_types
from houfu.kb.validate import qualifier_marks

__all__ = ["PrefixTaken", "ScaffoldResult", "default_prefix", "document_prefixes", "scaffold"]


class PrefixTaken(ValueError):
    """A clause prefix another loaded document already uses."""


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
    #: every repair applied to the draft's source.txt, shown in the report (never applied silently)
    repairs_applied: list[dict[str, Any]] = field(default_factory=list)


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


def document_prefixes(kb: KB) -> dict[str, str]:
    """Clause id prefix (dn, sy, xf) -> the loaded document that uses it."""
    return {cid.split(".")[0]: kb.clause_doc[cid] for cid in kb.clause_doc}


def default_prefix(doc_id: str, taken: dict[str, str] | None = None) -> str:
    """A clause prefix unique per document (issue 26, item 7): two letters of the id's first word and the
    year's last two digits (yaoan-2021 -> ya21, yaoan-2024 -> ya24), so two plans of one county never share
    one; lengthened a letter at a time while another loaded document uses it."""
    taken = taken or {}
    words = doc_id.split("-")
    letters = re.sub(r"[^a-z]", "", words[0]) or "doc"
    year = next((w for w in reversed(words) if re.fullmatch(r"(19|20)\d{2}", w)), "")
    for n in range(min(2, len(letters)), len(letters) + 1):
        candidate = letters[:n] + year[2:]
        if candidate not in taken:
            return candidate
    k = 2
    while f"{letters}{year[2:]}x{k}" in taken:
        k += 1
    return f"{letters}{year[2:]}x{k}"


def _level(issuer: str | None) -> str:
    """The document's level from its issuer's place (kb.ingest.level_of); county when the issuer names none,
    with a todo to check it."""
    from houfu.kb.ingest import level_of

    return level_of(issuer) or "county"


def propose_jurisdiction(kb: KB, issuer: str | None, title: str | None) -> str | None:
    """The jurisdiction the issuer (else the title) names, by its name or alias: the most local one."""
    order = ["country", "province", "city", "county_city", "district", "county", "town"]
    for words in (issuer, title):
        if not words:
            continue
        named = [j for j in kb.jurisdictions.values() if j.name in words
                 or any(len(a) >= 2 and words.startswith(a) for a in j.aliases)]
        if named:
            return max(named, key=lambda j: order.index(j.level)).id
    return None


def _parameters_for(quote: str, params: list[DraftParameter]) -> list[DraftParameter]:
    return [p for p in params if p.text and p.text in quote]


#: A count required per calendar period (每季度至少1次, 每年不少于2次), the periods a quota judges.
_QUOTA_PERIODS = {"times_per_quarter": "quarter", "times_per_year": "year"}
#: Words that make a sentence a site's duty (the quota is judged on a site's count per period).
_SITE_WORDS = ("安置点", "安置区", "安置社区")


def partial_periods(period: str, start: dt.date, end: dt.date | None) -> list[str]:
    """The calendar periods (2025-Q1, 2026) the document covers only in part: the first, when it is in force from
    a day inside it, and the last, when it ends inside one; each with the days it covers, for the draft's reading."""
    out = []
    label, first, last = period_of(period, start)
    if start != first:
        out.append(f"the first, {label}, is under it from {start} only ({(last - start).days + 1} of "
                   f"{(last - first).days + 1} days)")
    if end is not None:
        label_end, first_end, last_end = period_of(period, end)
        if end != last_end:
            out.append(f"the last, {label_end}, is under it until {end} only ({(end - first_end).days + 1} of "
                       f"{(last_end - first_end).days + 1} days)")
    return out


def _draft_quota(quote: str, subject: str, mine: list[tuple[str, DraftParameter]], meta: dict[str, Any]
                 ) -> tuple[dict[str, Any] | None, str | None]:
    """A site's count per period (安置点每季度至少举办1次): a draft quota rule, reading its first and last partial
    periods from the execution period (issue 26, item 2); and the todo saying what to finish. None where the
    sentence sets no count per period of a site."""
    found = next(((pid, p) for pid, p in mine if p.unit in _QUOTA_PERIODS and p.bound == "min"), None)
    if found is None or not (subject == "site" or any(w in quote for w in _SITE_WORDS)):
        return None, None
    pid, param = found
    period = _QUOTA_PERIODS[param.unit]
    start = (meta.get("in_force_from") or {}).get("date") or meta.get("signed")
    end = (meta.get("in_force_until") or {}).get("date")
    quota: dict[str, Any] = {"count": f"TODO: a site fact of type per_period (period: {period}) holding the count",
                             "period": period, "min": {"param": pid}}
    parts = partial_periods(period, dt.date.fromisoformat(start), dt.date.fromisoformat(end) if end else None) \
        if start else []
    if parts:
        quota["partial"] = {"reading": "not_judged",
                            "why": f"TODO: {param.text} sets its number for a whole {period}; " + "; ".join(parts)
                                   + ". Not judged (or pro_rata: the share for the days in force): say which, and why"}
    said = "; ".join(parts) if parts else ("every period is whole" if start and end else
                                           "no end date: the last period judged is the last complete one")
    rule = {"entity": "site", "when": None, "quota": quota}  # the measure is a draft (draft: true)
    return rule, f"quota of {param.text!r} per {period}: {said}; name its count fact and confirm the reading"


def scaffold(scraped_path: Path, doc_id: str, out_root: Path, kb: KB, jurisdiction: str | None = None,
             prefix: str | None = None, force: bool = False, encoding: str | None = None) -> ScaffoldResult:
    """Draft ``out_root/doc_id/`` from the scraped page (its encoding detected as every input's is, or given);
    refuses to overwrite a folder unless ``force``. Raises ReadError for a page that is not text."""
    from houfu.io.reader import decode

    taken = {p: d for p, d in document_prefixes(kb).items() if d != doc_id}  # --force over itself keeps its own
    if prefix is not None and prefix in taken:
        raise PrefixTaken(f"--prefix: {prefix!r} is the clause prefix of {taken[prefix]}; give this document its own")
    prefix = prefix or default_prefix(doc_id, taken)
    raw, _ = decode(scraped_path.read_bytes(), encoding)
    scraped = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    draft = analyse(scraped, kb, jurisdiction)
    folder = out_root / doc_id
    if folder.exists() and any(folder.iterdir()) and not force:
        raise FileExistsError(f"{folder} already holds files; give --force to write over them")
    folder.mkdir(parents=True, exist_ok=True)
    ids = _clause_ids(prefix, draft.outline.clauses)
    todo: list[str] = []
    unknown: list[str] = []
    asked: set[str] = set()
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
            if r.basis:
                todo.append(f"{cid}: roles read by the text's own convention ({r.basis}); check them")
            if r.open_list:
                todo.append(f"{cid}: the list ends in 等: it names some of the bodies, not all; say so in the clause")
            todo += [f"{cid}: responsibility list not read fully: {p}; read it by hand" for p in r.problems]
            for b in r.bodies:
                if b.body is None and b.candidates and b.as_written not in asked:
                    asked.add(b.as_written)
                    where = ", ".join(f"{c} ({kb.jurisdictions[j].name if (j := kb.bodies[c].jurisdiction) else '-'})"
                                      for c in b.candidates)
                    todo.append(f"{b.as_written}: drafted as a new body; bodies of that name elsewhere: {where}. "
                                "Is it one of them? Only if this document is theirs (--jurisdiction)")
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
            rule, quota_todo = _draft_quota(m.quote, m.subject.value, [(f"{mid}.p{j}", p) for j, p in
                                                                       enumerate(mine, 1)], draft.metadata)
            if quota_todo:
                todo.append(f"{mid}: {quota_todo}")
            measures.append({
                "id": mid, "zh": m.quote, "en": "TODO: an English gloss", "subject": m.subject.value,
                "force": m.force.value, "modality": m.modality.value, "quote": m.quote, "draft": True,
                "parameters": [{"id": f"{mid}.p{j}", "name": "TODO", "value": p.value, "unit": p.unit,
                                "bound": p.bound, "text": p.text, "draft": True,
                                **({"note": "TODO: no unit found; give it one"} if p.unknown_unit else {})}
                               for j, p in enumerate(mine, 1)],
                "qualifiers": [{"kind": kind, "text": words, "reading": "TODO: how this narrows or loosens it"}
                               for kind, words in qualifier_marks(m.quote)],
                **({"rule": rule} if rule else
                   {"not_decidable": "TODO: write a rule, or say why household and site facts cannot decide it"})})
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
    if not jurisdiction:
        proposed = propose_jurisdiction(kb, meta.get("issuer"), meta.get("title"))
        if proposed:
            todo.append(f"jurisdiction: the issuer names {kb.jurisdictions[proposed].name}: write `jurisdiction: "
                        f"{proposed}` and draft again with --jurisdiction {proposed}, so body names resolve there")
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
                          len(draft.repairs), draft.outline.problems, draft.unparsed_lists, lines, todo,
                          [{"scraped": g.scraped, "repaired": g.repaired, "reason": g.reason}
                           for g in draft.repairs if g.repaired is not None])


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
                    "level": _level(n), "jurisdiction": jurisdiction})
    return out


def _document(doc_id: str, meta: dict[str, Any], draft: Draft, jurisdiction: str | None, ids: dict[str, str],
              todo: list[str], kinds_of_site: tuple[str, ...]) -> dict[str, Any]:
    title = meta.get("title") or "TODO: the title"
    signed = meta.get("signed")
    first = next(iter(ids.values()), "TODO")
    if meta.get("title") and meta.get("title_from") not in (None, "关于印发《…》的通知"):
        todo.append(f"title: read from {meta['title_from']}; check it")
    if not meta.get("title"):
        todo.append("title: not found (no 关于印发《…》的通知, 现将《…》印发, metadata table or title line); write it")
    if not meta.get("doc_number"):
        todo.append("doc_number: no 文号 found as the document's own; write it, or null if it has none")
    for number in meta.get("unplaced_doc_numbers", []):
        todo.append(f"doc_number: {number!r} stands in the notice but is not placed: the document's own, a "
                    "parent's (parents), or neither; never drop it")
    if not meta.get("level"):
        todo.append("level: the issuer names no province, city or county; check `level`")
    if not signed:
        todo.append("signed: the signing date was not found; write it (YYYY-MM-DD)")
    if not jurisdiction:
        todo.append("jurisdiction: say which jurisdiction issued it (an id of policies/jurisdictions.yaml)")
    todo += ["title_en, issuer_en, short_name and cite_as: write them",
             "scope: say which sites and households the document covers (the draft covers all)"]
    until = meta.get("in_force_until")
    start = meta.get("in_force_from")
    if start:
        todo.append(f"in_force_from: read as {start['date']} from {start['quote']!r} ({start['reading']}); check it")
    todo.append(f"in_force_until: read as {until['date']} from {until['quote']!r} ({until['reading']}); check it, "
                "and write in_force_note" if until else
                "in_force_until and in_force_note: the text's execution period, if it states one")
    if meta.get("convention"):
        todo.append("convention: drafted from the text's own statement of how it counts bounds; check its words")
    return {
        "id": doc_id, "short_name": title[:14], "title": title, "title_en": "TODO", "issuer": meta.get("issuer") or
        "TODO", "issuer_en": "TODO", "doc_number": meta.get("doc_number"), "level": _level(meta.get("issuer")),
        "jurisdiction": jurisdiction or "TODO",
        "parents": [{"title": p["title"], "doc_number": p["doc_number"], "jurisdiction": "TODO",
                     "quote": f"《{p['title']}》"} for p in meta.get("parents", [])],
        "signed": signed or "1900-01-01", "in_force_from": (start or {}).get("date") or signed or "1900-01-01",
        "in_force_until": until["date"] if until else None,
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
