"""Plain-language briefs rendered with jinja2 from the engine's determinations.

Templates are a contract: ``StrictUndefined``, autoescape for HTML, one typed
context per brief (the dataclasses below), and a user folder (``--templates``)
searched before the bundled ``templates/``.  Eligibility is never re-derived
here: every item comes from ``engine.evaluate.determine`` or the graph.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from houfu.engine.results import Determination, Report, Status
from houfu.io.notes import message
from houfu.kb.loader import KB
from houfu.kb.models import Role
from houfu.present.letters import LetterAmount, amounts_for, question
from houfu.present.numbers import for_people
from houfu.present.templating import keep_compiled

__all__ = ["Item", "SiteBrief", "DepartmentBrief", "CompareBrief", "render_brief",
           "site_context", "department_context", "compare_context", "citation", "question"]


#: How many owners a letter names before "and N other departments".
CONTACTS_SHOWN = 3


@dataclass
class Item:
    """One point of a brief; ``cite`` lets a reader check it against the document."""

    zh: str
    en: str
    cite: str
    clause_id: str
    contact: str = ""
    contact_more: int = 0
    shown: int = CONTACTS_SHOWN
    amounts: list[LetterAmount] = field(default_factory=list)
    glossary: str = ""
    missing: list[str] = field(default_factory=list)
    gap: str = ""
    numbers: str = ""
    period: str = ""
    period_count: str = ""
    still_needed: str = ""
    unknown_periods: str = ""  # a quota's ended periods whose count is still to collect
    due: str = ""


@dataclass
class ScopeItem:
    """A document that does not cover this household or site, with the clause that says so."""

    title: str
    quote: str
    cite: str


@dataclass
class SiteBrief:
    site_id: str
    documents: list[str]
    violated: list[Item]
    not_due: list[Item]
    met: list[Item]
    applies: list[Item]
    undetermined: list[Item]
    out_of_scope: list[ScopeItem]
    notices: list[str]


@dataclass
class DepartmentItem:
    text: str
    role: str
    cite: str
    clause_id: str


@dataclass
class DepartmentGroup:
    title: str
    entries: list[DepartmentItem]


@dataclass
class DepartmentBrief:
    name: str
    en: str
    successor: str
    groups: list[DepartmentGroup]
    documents_loaded: int


@dataclass
class CompareItem:
    text: str
    numbers: str
    contact: str
    implicit: str
    cite: str
    clause_id: str


@dataclass
class CompareDocument:
    title: str
    measures: list[CompareItem]


@dataclass
class CompareBrief:
    topic: str
    documents: list[CompareDocument]


def citation(kb: KB, doc_id: str, clause_number: str, lang: str) -> str:
    return message("words", "citation", lang, {"doc": kb.documents[doc_id].doc, "clause_number": clause_number})


def _contacts(kb: KB, entry: Determination, lang: str) -> tuple[str, int]:
    """The owners to contact, the handler first (recorded in data with its basis), then whoever the sentence
    names, then leads, then the rest of the list; and how many more were left out (never silently)."""
    # An implicit bearer (the document's addressees) is no one a household can contact.
    owners = [o for o in entry.owners if o.role is not Role.implicit]
    owners.sort(key=lambda o: (not o.handles, o.role is not Role.named, o.role is not Role.lead))
    names = [message("words", "owner", lang, {"name": o.name, "body": kb.bodies[o.body_id]}) for o in owners]
    return _sep(lang).join(names[:CONTACTS_SHOWN]), max(0, len(names) - CONTACTS_SHOWN)


def _sep(lang: str) -> str:
    return message("words", "list_sep", lang, {})


def _num(v: float | None) -> str:
    return "" if v is None else for_people(v)


def _items(kb: KB, entries: list[Determination], lang: str, names: list[str | None],
           entity_names: list[str] | None = None, asked: set[str] | None = None) -> list[Item]:
    """Brief items; ``asked`` limits each item's questions to those worth asking (report.questions)."""
    seen_terms: set[str] = set()
    out = []
    for e in entries:
        gloss = []
        for t in kb.glossary.values():
            if t.zh.split("(")[0] in e.zh and t.id not in seen_terms:
                seen_terms.add(t.id)
                gloss.append(getattr(t, f"plain_{lang}"))
        contact, more = _contacts(kb, e, lang)
        now = next((p for p in e.periods if p.judged and not p.complete), None)  # a quota's period under way
        out.append(Item(zh=e.zh, en=e.en, cite=citation(kb, e.document, e.clause_number, lang),
                        clause_id=e.clause_id, contact=contact, contact_more=more, amounts=amounts_for(kb, e),
                        glossary=" ".join(gloss),
                        missing=[question(kb, f, names, lang, entity_names) for f in e.missing
                                 if asked is None or f in asked],
                        gap=getattr(e.gap, lang) if e.gap else "",
                        period=now.period if now else "",
                        period_count=_num(now.count) if now and now.count is not None else "",
                        still_needed=_num(now.still_needed) if now and now.still_needed else "",
                        unknown_periods=_sep(lang).join(
                            p.period for p in e.periods if p.status is Status.undetermined),
                        due=e.due.isoformat() if e.due else "",
                        numbers=message("words", "numbers_sep", lang, {}).join(p.text for p in e.parameters)))
    return out


def _scope_items(kb: KB, entries: list[Determination], lang: str) -> list[ScopeItem]:
    """One line per document that does not cover the household or site, citing its scope clause."""
    out: dict[str, ScopeItem] = {}
    for e in entries:
        note = e.out_of_scope
        if note is not None and note.document not in out:
            out[note.document] = ScopeItem(title=f"《{kb.documents[note.document].doc.title}》", quote=note.quote,
                                           cite=citation(kb, note.document, note.clause_number, lang))
    return list(out.values())


def site_context(kb: KB, report: Report, lang: str) -> SiteBrief:
    by = _by_status(report)
    return SiteBrief(site_id=report.id, documents=[f"《{d.title}》" for d in report.documents],
                     violated=_items(kb, by.get(Status.violated, []), lang, []),
                     not_due=_items(kb, by.get(Status.not_due, []), lang, []),
                     met=_items(kb, by.get(Status.met, []), lang, []),
                     applies=_items(kb, by.get(Status.applies, []), lang, []),
                     undetermined=_items(kb, [e for e in by.get(Status.undetermined, []) if e.missing], lang, []),
                     out_of_scope=_scope_items(kb, by.get(Status.out_of_scope, []), lang),
                     notices=[getattr(n, lang) for n in report.notices])


def department_context(kb: KB, duties: dict[str, Any], lang: str) -> DepartmentBrief:
    """Each clause a body answers for, expanded into its measures, grouped by document and topic."""
    groups = []
    for doc_id, roles in duties["documents"].items():
        by_topic: dict[str, list[DepartmentItem]] = {}
        for role, topics in roles.items():
            for items in topics.values():
                for i in items:
                    for mid in i["measures"]:
                        m = kb.measures[mid]
                        topic = (m.topics or kb.clauses[kb.measure_clause[mid]].topics or ["planning"])[0]
                        by_topic.setdefault(topic, []).append(DepartmentItem(
                            text=getattr(m, lang), role=role,
                            cite=citation(kb, doc_id, i["clause_number"], lang), clause_id=kb.measure_clause[mid]))
        for topic in sorted(by_topic, key=list(kb.topics).index):
            t = kb.topics[topic]
            title = message("words", "department_group", lang, {"doc": kb.documents[doc_id].doc, "topic": t})
            groups.append(DepartmentGroup(title=title, entries=by_topic[topic]))
    succ = duties["successor"]
    return DepartmentBrief(name=duties["name"], en=duties["en"],
                           successor=message("words", "successor", lang, {"successor": succ}) if succ else "",
                           groups=groups,
                           documents_loaded=duties["documents_loaded"])


def compare_context(kb: KB, cmp: dict[str, Any], lang: str) -> CompareBrief:
    docs = []
    for doc_id, d in cmp["documents"].items():
        docs.append(CompareDocument(title=d["title"], measures=[CompareItem(
            text=m[lang], numbers="; ".join(n["text"] for n in m["numbers"]),
            contact=_sep(lang).join(message("words", "owner", lang, {"name": o["name"], "body": kb.bodies[o["id"]]})
                                    for o in m["owners"][:5] if o["role"] != Role.implicit.value),
            implicit=_sep(lang).join(message("words", "owner", lang, {"name": o["name"], "body": kb.bodies[o["id"]]})
                                     for o in m["owners"] if o["role"] == Role.implicit.value),
            cite=citation(kb, doc_id, m["clause_number"], lang),
            clause_id=kb.measure_clause[m["id"]]) for m in d["measures"]]))
    return CompareBrief(topic=f"{cmp['zh']} / {cmp['en']}", documents=docs)


def _by_status(report: Report) -> dict[Status, list[Determination]]:
    out: dict[Status, list[Determination]] = {}
    for e in report.determinations:
        out.setdefault(e.status, []).append(e)
    return out


@lru_cache(maxsize=16)
def _env(fmt: str, user_dir: Path | None) -> jinja2.Environment:
    """One environment per format and template folder, kept: compiling the letter's templates afresh for each
    page took 0.35 s of its 0.4 s (jinja2 still reloads a template whose file changed)."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(user_dir))] if user_dir else []
    loaders.append(jinja2.PackageLoader("houfu.templates", "."))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                             autoescape=fmt == "html", trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return keep_compiled(env)


class BriefError(Exception):
    """A template that does not fit its context (StrictUndefined, syntax)."""


def render_brief(kind: str, ctx: Any, lang: str = "zh", fmt: str = "md", user_dir: Path | None = None) -> str:
    """Render a brief; ``kind`` is household, site, department or compare."""
    env = _env(fmt, user_dir)
    try:
        body = env.get_template(f"{kind}.md.j2").render(ctx=asdict(ctx), lang=lang, fmt=fmt)
    except jinja2.TemplateError as exc:
        raise BriefError(f"template {kind}.md.j2: {exc.message}") from None
    if fmt != "html":
        return body
    title = message("words", "page_title", lang, {}, part=kind)
    return env.get_template("page.html.j2").render(body=Markup(body), lang=lang, title=title)
