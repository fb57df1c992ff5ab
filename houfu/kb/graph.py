"""The department-responsibility graph and the questions policy staff ask of it.

Node ids are prefixed by kind (``body:dn_hrss``, ``clause:dn.4.3``); every
node and edge attribute is a plain string, number or boolean so GraphML, GEXF
and JSON exports carry them unchanged.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any, TypeAlias

import networkx as nx

from .loader import KB, KBError
from .names import did_you_mean, suggest
from .query import owners_of, search

#: Node ids are strings with a kind prefix: "body:dn_hrss", "clause:dn.4.3".
Graph: TypeAlias = "nx.DiGraph[str]"

__all__ = ["Graph", "Matrix", "build_graph", "owners", "duties", "analyses", "compare", "export", "resolve_body",
           "responsibility_matrix"]

#: The strongest role wins a body's cell for a clause: leading outranks sharing, sharing outranks being named.
ROLE_RANK = {"named": 1, "shared": 2, "lead": 3}


def build_graph(kb: KB) -> Graph:
    G: Graph = nx.DiGraph()
    for j in kb.jurisdictions.values():
        G.add_node(f"jurisdiction:{j.id}", kind="jurisdiction", label=j.name, en=j.name_en, code=j.code or "")
        if j.parent:
            G.add_edge(f"jurisdiction:{j.parent}", f"jurisdiction:{j.id}", kind="contains")
    for topic in kb.topics.values():
        G.add_node(f"topic:{topic.id}", kind="topic", label=topic.zh, en=topic.en)
    for body in kb.bodies.values():
        G.add_node(f"body:{body.id}", kind="body", label=body.name, en=body.en, full_name=body.full_name,
                   level=body.level, body_kind=body.kind, abolished=str(body.abolished or ""))
        if body.successor:
            G.add_edge(f"body:{body.id}", f"body:{body.successor}", kind="succeeded_by")
    for doc_id, dkb in kb.documents.items():
        d = dkb.doc
        G.add_node(f"document:{doc_id}", kind="document", label=d.short_name, en=d.title_en,
                   signed=d.signed.isoformat())
        G.add_edge(f"document:{doc_id}", f"jurisdiction:{d.jurisdiction}", kind="jurisdiction")
        for p in d.parents:
            pid = f"document:{p.doc_number or p.title}"
            G.add_node(pid, kind="document", label=p.title, en=p.doc_number or "", signed="")
            G.add_edge(f"document:{doc_id}", pid, kind="implements")
            G.add_edge(pid, f"jurisdiction:{p.jurisdiction}", kind="jurisdiction")
        for part in dkb.parts:
            G.add_node(f"part:{part.id}", kind="part", label=f"{part.number} {part.heading}", en=part.id)
            G.add_edge(f"document:{doc_id}", f"part:{part.id}", kind="contains")
        for c in dkb.clauses:
            G.add_node(f"clause:{c.id}", kind="clause", label=f"{c.number} {c.heading}", en=c.id,
                       document=doc_id, number=c.number)
            G.add_edge(f"part:{c.part}", f"clause:{c.id}", kind="contains")
            for t in c.topics:
                G.add_edge(f"clause:{c.id}", f"topic:{t}", kind="topic")
            if c.responsibility:
                for named in c.responsibility.bodies:
                    G.add_edge(f"body:{named.body}", f"clause:{c.id}", kind="responsible",
                               role=c.responsibility.role_of(named), as_written=named.as_written)
            for m in c.measures:
                G.add_node(f"measure:{m.id}", kind="measure", label=m.zh, en=m.en, document=doc_id,
                           force=m.force.value, subject=m.subject.value)
                G.add_edge(f"clause:{c.id}", f"measure:{m.id}", kind="contains")
                for t in m.topics:
                    G.add_edge(f"measure:{m.id}", f"topic:{t}", kind="topic")
                for n in m.named:
                    if n.role != "bearer":  # mentioned, not made to act: not an owner
                        G.add_edge(f"body:{n.body}", f"measure:{m.id}", kind="mentions", role=n.role,
                                   as_written=n.as_written)
                        continue
                    G.add_edge(f"body:{n.body}", f"measure:{m.id}", kind="responsible", role="named",
                               as_written=n.as_written)
                    if not G.has_edge(f"body:{n.body}", f"clause:{c.id}"):
                        G.add_edge(f"body:{n.body}", f"clause:{c.id}", kind="responsible", role="named",
                                   as_written=n.as_written)
    return G


@dataclass
class Matrix:
    """Who answers for each clause, as a grid: bodies (most clauses first) by clauses (in document order).

    ``cells[(body, clause)]`` is the strongest role ("lead", "shared" or "named"); node ids are the graph's."""

    bodies: list[str]
    clauses: list[str]
    cells: dict[tuple[str, str], str]

    def count(self, body: str) -> int:
        return sum(1 for c in self.clauses if (body, c) in self.cells)


def responsibility_matrix(G: Graph, document: str | None = None) -> Matrix:
    """The body x clause grid of the graph's responsibility edges, for one document or all."""
    cells: dict[tuple[str, str], str] = {}
    for u, v, a in G.edges(data=True):
        if a.get("kind") != "responsible" or not v.startswith("clause:"):
            continue
        if document and G.nodes[v]["document"] != document:
            continue
        if ROLE_RANK[a["role"]] > ROLE_RANK.get(cells.get((u, v), ""), 0):
            cells[(u, v)] = a["role"]
    clauses = sorted({v for _, v in cells}, key=lambda n: (G.nodes[n]["document"], _clause_key(n)))
    grid = Matrix([], clauses, cells)
    grid.bodies = sorted({u for u, _ in cells}, key=lambda n: (-grid.count(n), G.nodes[n]["en"]))
    return grid


def _clause_key(node: str) -> list[int | str]:
    """clause:dn.4.3 sorts as [4, 3]: by the document's numbering, not as text."""
    return [int(p) if p.isdigit() else p for p in node.split(":", 1)[1].split(".")[1:]]


def _clause_owners(G: Graph, clause_node: str) -> list[dict[str, str]]:
    return [{"id": u.split(":", 1)[1], "name": G.edges[u, clause_node]["as_written"],
             "role": G.edges[u, clause_node]["role"], "en": G.nodes[u]["en"]}
            for u in G.predecessors(clause_node) if G.edges[u, clause_node].get("kind") == "responsible"]


def owners(kb: KB, G: Graph, query: str) -> dict[str, Any]:
    """Departments and roles for a measure/clause id, a topic or free Chinese text, per document."""
    if query in kb.measures or query in kb.clauses:
        items, why = [query], "id"
    elif query in kb.topics:
        items = [m.id for m in kb.measures.values() if query in m.topics]
        why = f"topic {query}"
    else:
        # Prefer the measures that say it; a whole clause only where none of its measures does, so that
        # a body named in the clause for something else (the police, for hukou) is not listed.
        hits = search(kb, query)
        with_measure = {kb.measure_clause[h["id"]] for h in hits if h["kind"] == "measure"}
        items = [h["id"] for h in hits if h["kind"] == "measure" or h["id"] not in with_measure]
        why = f"text contains {query!r}"
    per_doc: dict[str, dict[str, Any]] = {}
    for item in items:
        clause_id = kb.measure_clause.get(item, item)
        doc_id = kb.clause_doc[clause_id]
        entry = per_doc.setdefault(doc_id, {"departments": {}, "matches": []})
        handler = kb.measures[item].handler if item in kb.measures else None
        if item in kb.measures:
            found = [dict(o, en=kb.bodies[o["id"]].en) for o in owners_of(kb, item)]
        else:
            found = _clause_owners(G, f"clause:{clause_id}")
        match: dict[str, Any] = {"id": item, "clause_number": kb.clauses[clause_id].number, "why": why,
                 "text": kb.measures[item].zh if item in kb.measures else kb.clauses[item].heading,
                 "owners": found or "no owner named in the text"}
        if handler is not None:
            # The office a household is sent to: the text's own naming, or houfu's reading by duty (said so).
            body = kb.bodies[handler.body]
            match["handler"] = {"id": body.id, "name": body.name, "en": body.en, "basis": handler.basis.value,
                                "reason": handler.reason, **({"text": handler.text} if handler.text else {})}
        entry["matches"].append(match)
        for o in found:
            d = entry["departments"].setdefault(o["id"], {"name": o["name"], "en": o["en"], "roles": Counter()})
            d["roles"][o["role"]] += 1
        if handler is not None:
            body = kb.bodies[handler.body]
            d = entry["departments"].setdefault(body.id, {"name": body.name, "en": body.en, "roles": Counter()})
            d["roles"]["handler"] += 1
    for entry in per_doc.values():
        entry["departments"] = [{"id": k, **v, "roles": dict(v["roles"])}
                                for k, v in sorted(entry["departments"].items(),
                                                   key=lambda kv: (-kv[1]["roles"]["handler"],
                                                                   -sum(kv[1]["roles"].values())))]
    return {"query": query, "matched_by": why, "documents": per_doc}


def resolve_body(kb: KB, name: str, jurisdiction: str | None = None) -> str:
    """A body id from its id, name, alias, full name or English name; suggestions if unknown.

    Many counties have a 县人社局: a name that more than one body answers to is narrowed by ``jurisdiction``
    (the body's own, or one containing it, or none); if it still names several, the error lists each with its
    jurisdiction, and asks which."""
    from .loader import FieldError
    from .query import resolve_jurisdiction

    if jurisdiction is not None:
        try:
            resolve_jurisdiction(kb, jurisdiction)
        except FieldError as exc:
            raise KBError("jurisdictions.yaml", "--jurisdiction", exc.message) from None
    low = name.strip().lower()
    exact = [b for b in kb.bodies.values() if b.id.lower() == low]
    found = exact or [b for b in kb.bodies.values()
                      if low in (b.name.lower(), b.full_name.lower(), b.en.lower())
                      or low in (a.lower() for a in b.aliases)]
    if jurisdiction is not None and len(found) > 1:
        within: list[str] = []
        j: str | None = resolve_jurisdiction(kb, jurisdiction)
        while j:
            within.append(j)
            j = kb.jurisdictions[j].parent
        found = [b for b in found if b.jurisdiction in within] or found
        found = [b for b in found if b.jurisdiction == within[0]] or found
    if len(found) == 1:
        return found[0].id
    if found:
        listed = "; ".join(f"{b.id} ({b.full_name}, {kb.jurisdictions[b.jurisdiction].name if b.jurisdiction else '-'})"
                           for b in found)
        raise KBError("bodies.yaml", name, f"names {len(found)} bodies: {listed}; say which (an id, or --jurisdiction)")
    names = [n for b in kb.bodies.values() for n in (b.name, b.en, *b.aliases)]
    raise KBError("bodies.yaml", name, "no such department or body" + did_you_mean(suggest(name, names, n=3),
                                                                                    quoted=False))


def duties(kb: KB, G: Graph, name: str, jurisdiction: str | None = None) -> dict[str, Any]:
    """Every clause and measure a body answers for, grouped by document, role and topic."""
    bid = resolve_body(kb, name, jurisdiction)
    b = kb.bodies[bid]
    groups: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for _, target, data in G.out_edges(f"body:{bid}", data=True):
        if data.get("kind") != "responsible":
            continue
        kind, item = target.split(":", 1)
        clause_id = kb.measure_clause.get(item, item)
        doc_id = kb.clause_doc[clause_id]
        clause = kb.clauses[clause_id]
        if kind == "clause" and data["role"] == "named":
            continue  # the measure edge carries it
        # Each duty under its own topic: a clause on a body's list is expanded into its measures, so the
        # 低保 measure of 三(三) sits under social assistance, not under the clause's first topic (land).
        measures = [kb.measures[item]] if kind == "measure" else list(clause.measures)
        for m in measures:
            topic = (m.topics or clause.topics or ["planning"])[0]
            groups[doc_id][data["role"]][topic].append({
                "kind": "measure", "id": m.id, "clause_number": clause.number, "heading": clause.heading,
                "measures": [m.id], "text": m.zh})
    successor = kb.bodies[b.successor] if b.successor else None
    return {"id": bid, "name": b.name, "full_name": b.full_name, "en": b.en, "jurisdiction": b.jurisdiction,
            "successor": {"id": successor.id, "name": successor.name, "en": successor.en} if successor else None,
            "note": b.note,
            "documents_loaded": len(kb.documents),
            "documents": {d: {r: dict(t) for r, t in roles.items()} for d, roles in groups.items()}}


def analyses(kb: KB, G: Graph) -> dict[str, Any]:
    load: dict[str, Counter[str]] = defaultdict(Counter)
    pairs: Counter[tuple[str, str]] = Counter()
    for c in kb.clauses.values():
        owners_ = _clause_owners(G, f"clause:{c.id}")
        for o in owners_:
            load[o["id"]][f"clauses_{o['role']}"] += 1
        for a, b in combinations(sorted(o["id"] for o in owners_ if o["role"] != "named"), 2):
            pairs[(a, b)] += 1
    for m in kb.measures.values():
        for body_id, role in _measure_owner_ids(kb, m.id):
            load[body_id][f"measures_{role}"] += 1
    return {
        "load": sorted(({"id": k, "name": kb.bodies[k].name, **v} for k, v in load.items()),
                       key=lambda r: -sum(v for k, v in r.items() if k.startswith("measures"))),
        "clauses_without_lead": [c.id for c in kb.clauses.values()
                                 if not (c.responsibility and c.responsibility.has_lead)],
        "measures_without_owner": [m for m in kb.measures if not _measure_owner_ids(kb, m)],
        "co_responsibility": [{"a": kb.bodies[a].name, "b": kb.bodies[b].name, "shared_clauses": n}
                              for (a, b), n in pairs.most_common(15)],
    }


def _measure_owner_ids(kb: KB, mid: str) -> list[tuple[str, str]]:
    return [(o["id"], o["role"]) for o in owners_of(kb, mid)]


def compare(kb: KB, topic: str, documents: list[str] | None = None) -> dict[str, Any]:
    """The documents side by side on one topic: every document loaded, or the two or more named."""
    if documents is not None:
        unknown = [d for d in documents if d not in kb.documents]
        if unknown:
            raise KBError("-", "--document", f"unknown document {unknown[0]!r}; loaded: {', '.join(kb.documents)}")
        if len(set(documents)) < 2:
            raise KBError("-", "--document", "a comparison needs two or more documents")
    if topic not in kb.topics:
        raise KBError("topics.yaml", topic, "unknown topic" + (did_you_mean(suggest(topic, kb.topics, n=3), quoted=False)
                                                                  or f"; topics: {', '.join(kb.topics)}"))
    out = {}
    for doc_id, dkb in kb.documents.items():
        if documents is not None and doc_id not in documents:
            continue
        rows = []
        for c in dkb.clauses:
            for m in c.measures:
                if topic in m.topics:
                    rows.append({"id": m.id, "clause_number": c.number, "zh": m.zh, "en": m.en, "force": m.force.value,
                                 "numbers": [{"text": p.text, "value": p.value, "unit": p.unit}
                                             for p in m.parameters],
                                 "owners": [{"id": b, "name": kb.bodies[b].name, "role": r}
                                            for b, r in _measure_owner_ids(kb, m.id)]})
        out[doc_id] = {"title": dkb.doc.title, "measures": rows}
    return {"topic": topic, "zh": kb.topics[topic].zh, "en": kb.topics[topic].en, "documents": out}


def export(G: Graph, fmt: str) -> str:
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(G))
    if fmt == "gexf":
        return "\n".join(nx.generate_gexf(G))
    if fmt == "json":
        return json.dumps(nx.node_link_data(G, edges="links"), ensure_ascii=False, indent=1)
    if fmt == "dot":
        lines = ["digraph houfu {", "  rankdir=LR;"]
        lines += [f'  "{n}" [label="{a.get("label", n)}", kind="{a["kind"]}"];' for n, a in G.nodes(data=True)]
        lines += [f'  "{u}" -> "{v}" [kind="{a["kind"]}"' + (f', label="{a["role"]}"' if "role" in a else "") + "];"
                  for u, v, a in G.edges(data=True)]
        return "\n".join(lines + ["}"])
    if fmt == "mermaid":
        ids = {n: f"n{i}" for i, n in enumerate(G.nodes)}
        lines = ["flowchart LR"]
        lines += [f'  {ids[u]}["{G.nodes[u].get("label", u)}"] -->|{a.get("role", a["kind"])}| {ids[v]}["{G.nodes[v].get("label", v)}"]'
                  for u, v, a in G.edges(data=True) if a["kind"] == "responsible"]
        return "\n".join(lines)
    raise ValueError(f"unknown format {fmt!r}; use graphml, gexf, json, dot or mermaid")
