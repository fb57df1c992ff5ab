"""A household's letter and its action summary, built from a report and the measures' plain words.

The letter leads with action (issue 10): money the household can receive, applications to make and
where, and the facts to bring or answer. Other entitlements follow, then what is already in place and
what is still open; what the government does for every household in scope closes in one paragraph.
Every item cites its clause by a short title; the full titles appear once, under sources.

What it says is what the text says (issue 19). Each measure's words are chosen by its status: the norm as
it reaches the household (``plain.zh``: a body's duty as what that body does), what to do where the norm
covers the household and is known not yet met (``todo``), what is already in place (``done``), and what
is still to be checked and by whom. The office named for an item is the text's own where the text names
it, and otherwise houfu's recommendation, said to be one (``Handler.basis``); with no handler, the site's
one-stop window where the document names one, or the bodies as the text lists them. Notices for staff (a
document's validity, a text that names no office) stay out of the household's letter.

Nothing is decided here: statuses, amounts and members come from the report, and the words for
people come from the data (``plain`` per measure, ``policies/sites.yaml``) and the templates.
The same summary heads ``houfu check`` in the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from houfu.engine.logic import split_fact_path
from houfu.engine.results import Determination, Report, Status
from houfu.io.notes import message
from houfu.kb.loader import KB
from houfu.kb.models import HandlerBasis, LetterKind, Plain, Role, SiteRecord
from houfu.present.numbers import MEMBER_REF, for_people

__all__ = ["ActionSummary", "HouseholdLetter", "LetterLine", "Person", "Source", "WindowInfo", "action_summary",
           "amounts_for", "household_letter", "question", "short_cite", "site_record", "split_refs", "wording"]



@dataclass
class Person:
    """A member as a letter names them: by name, or by 1-based number when the name is not known."""

    name: str
    number: int


@dataclass
class LetterAmount:
    """A computed amount. The sentence is the declaring document's own words (``words``, for a calculator
    declared as data), or the one for its ``quantity`` in templates/_macros.j2."""

    quantity: str
    value: str
    who: str = ""
    words: dict[str, str] = field(default_factory=dict)


@dataclass
class LetterLine:
    measure_id: str
    kind: str
    text: str
    cite: str
    who: list[Person] = field(default_factory=list)
    amounts: list[LetterAmount] = field(default_factory=list)
    at_window: bool = False  # the text sends the household to the site's one-stop window (plain.apply_at)
    #: How ``where`` was chosen: named (the text names the office), suggested (houfu's recommendation by the
    #: departments' duties), window (no office recorded; the document names a one-stop window), listed (no office
    #: recorded; the bodies as the text lists them), or "" (the text names no one: the letter names no office).
    where_kind: str = ""
    where: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


@dataclass
class ActionSummary:
    money: list[LetterLine]
    apply: list[LetterLine]
    restrictions: list[LetterLine]
    ask: list[str]
    more_questions: int = 0  # asked later, most decisive first

    def __bool__(self) -> bool:
        return bool(self.money or self.apply or self.restrictions or self.ask)


@dataclass
class WindowInfo:
    """The site's one-stop window, shown only where a document in force names one."""

    site: str
    address: str
    phone: str
    hours: str
    cite: str


@dataclass
class Source:
    cite_as: str
    title: str
    title_en: str
    year: int


@dataclass
class ScopeLine:
    title: str
    quote: str
    cite: str


@dataclass
class HouseholdLetter:
    household: str
    household_id: str
    site: str
    year: int
    month: int
    day: int
    summary: ActionSummary
    entitlements: list[LetterLine]
    satisfied: list[LetterLine]
    undetermined: list[LetterLine]
    general: list[LetterLine]
    window: WindowInfo | None
    out_of_scope: list[ScopeLine]
    sources: list[Source]
    not_applicable: int
    in_scope: bool = True  # some document in force covers the household
    suggested: bool = False  # some item's office is houfu's suggestion (the letter says what that means)
    for_caseworker: int = 0  # measures no household fact can decide: a caseworker's judgement


def question(kb: KB, fact: str, names: list[str | None], lang: str, entity_names: list[str] | None = None) -> str:
    """A missing fact as a plain question, naming the member or business it is about."""
    collection, i, key = split_fact_path(fact)
    label: str = getattr(kb.fact_labels[key], lang)
    if i is None:
        return label
    if collection == "entities":
        known = entity_names or []
        who = known[i] if i < len(known) else message("words", "business_n", lang, {"n": i + 1})
    else:
        name = names[i] if i < len(names) else None
        who = name or message("words", "member_n", lang, {"n": i + 1})
    return message("words", "whose_fact", lang, {"who": who, "label": label})


def split_refs(text: str) -> list[str | tuple[str, int]]:
    """A reason as the engine writes it, cut where it names a member or business: ``members[1].age >= 16``
    becomes ``[("members", 1), "age >= 16"]``, so that a page can name the person in its own words."""
    out: list[str | tuple[str, int]] = []
    last = 0
    for m in MEMBER_REF.finditer(text):
        if m.start() > last:
            out.append(text[last:m.start()])
        out.append((m.group(1), int(m.group(2))))
        last = m.end()
    if last < len(text):
        out.append(text[last:])
    return out


def short_cite(kb: KB, doc_id: str, clause_number: str, lang: str) -> str:
    """定南方案 三(一) / Dingnan plan 三(一): the clause and a short title."""
    doc = kb.documents[doc_id].doc
    short: str = getattr(doc.cite_as, lang) if doc.cite_as else doc.short_name
    return f"{short} {clause_number}"


def site_record(kb: KB, report: Report) -> tuple[str, SiteRecord | None]:
    """The household's site: the record it names (id, name or alias), else its name as written; with no site
    given, the one site a document in force was written for (the Dingnan plan's county-seat site)."""
    if report.site:
        for s in kb.sites.values():
            if report.site in (s.id, s.name, *s.aliases):
                return report.site, s
        return report.site, None
    in_force = {d.id for d in report.documents if _covers(report, d.id)}
    written_for = [s for s in kb.sites.values() if s.document in in_force]
    if len(written_for) == 1:
        return written_for[0].name, written_for[0]
    return "", None


def _body_name(kb: KB, body_id: str, lang: str) -> str:
    return message("words", "body_in_letter", lang, {"body": kb.bodies[body_id]})


def _site_name(record: SiteRecord | None, lang: str) -> str:
    return "" if record is None else message("words", "site", lang, {"site": record})


def _covers(report: Report, doc_id: str) -> bool:
    return any(e.document == doc_id and e.status is not Status.out_of_scope for e in report.determinations)


def _people(report: Report, e: Determination) -> list[Person]:
    names = report.member_names
    return [Person(name=(names[i] or "") if i < len(names) else "", number=i + 1) for i in e.for_members]


def amounts_for(kb: KB, e: Determination) -> list[LetterAmount]:
    """The amounts a household acts on: known subsidies, training still owed, years of restriction; members
    counted from 1."""
    if not e.amounts:
        return []  # most measures: no figure, so no lookup of the declared calculators
    declared = {d.name: d for dkb in kb.documents.values() for d in dkb.calculators}
    out = []
    for a in e.amounts:
        if a.value is None or a.quantity == "employment_gap" or (a.quantity == "training_shortfall" and not a.value):
            continue  # unknown, a duty of the locality, or nothing owed
        who = a.entity or a.member_name or (f"#{a.member + 1}" if a.member is not None else "")
        d = declared.get(a.calculator)
        words = {"zh": d.zh.format(who=who, value=for_people(a.value)),
                 "en": d.en.format(who=who, value=for_people(a.value))} if d else {}
        out.append(LetterAmount(quantity=a.quantity, value=for_people(a.value), who=who, words=words))
    return out


def _where(kb: KB, report: Report, e: Determination, lang: str) -> tuple[bool, str, list[str]]:
    """Where to go for an item: (the text sends the household to the site's window, how the office was chosen,
    the office or offices). See ``LetterLine.where_kind``; there is no first-listed fallback."""
    m = kb.measures[e.measure_id]
    if m.plain is not None and m.plain.apply_at == "site_window":
        return True, "", []
    if e.handler is not None:
        kind = "named" if e.handler.basis is HandlerBasis.text else "suggested"
        body = kb.bodies[e.handler.body_id]
        return False, kind, [message("words", "body", lang, {"body": body})]
    if _window_document(kb, report, e.document):
        return False, "window", []
    listed = [o for o in e.owners if o.role is not Role.implicit]
    names = [message("words", "owner_in_letter", lang, {"name": o.name, "body": kb.bodies[o.body_id]}) for o in listed]
    return False, ("listed" if names else ""), names


def _window_document(kb: KB, report: Report, doc_id: str) -> bool:
    return kb.documents[doc_id].doc.one_stop_window is not None and _covers(report, doc_id)


def _line(kb: KB, report: Report, e: Determination, lang: str, asked: set[str] | None = None) -> LetterLine:
    m = kb.measures[e.measure_id]
    plain = m.plain
    assert plain is not None  # kb validate requires it of every measure with a household rule
    at_window, where_kind, where = _where(kb, report, e, lang)
    questions = []
    if asked is not None:
        questions = [question(kb, f, report.member_names, lang, report.entity_names) for f in e.missing
                     if f in asked]
    return LetterLine(measure_id=e.measure_id, kind=plain.kind.value, text=wording(plain, e, lang),
                      cite=short_cite(kb, e.document, e.clause_number, lang), who=_people(report, e),
                      amounts=amounts_for(kb, e), at_window=at_window, where_kind=where_kind, where=where,
                      questions=questions)


def wording(plain: Plain, e: Determination, lang: str) -> str:
    """A measure's words for its status: done (satisfied), what to do (act_if holds, or known not yet met), or
    the norm as it reaches the household (applies, undetermined)."""
    if e.status is Status.satisfied and getattr(plain, f"done_{lang}"):
        return str(getattr(plain, f"done_{lang}"))
    if e.act and getattr(plain, f"act_{lang}"):
        return str(getattr(plain, f"act_{lang}"))
    if e.not_yet_done and getattr(plain, f"todo_{lang}"):
        return str(getattr(plain, f"todo_{lang}"))
    return str(getattr(plain, lang))


def _plain_kind(kb: KB, e: Determination) -> LetterKind | None:
    plain = kb.measures[e.measure_id].plain
    return plain.kind if plain else None


def action_summary(kb: KB, report: Report, lang: str, questions: int = 6) -> ActionSummary:
    """What the household can act on now: money, applications and where, restrictions, and what to tell us."""
    applies = [e for e in report.determinations if e.status is Status.applies]
    return ActionSummary(
        money=[_line(kb, report, e, lang) for e in applies if _plain_kind(kb, e) is LetterKind.money],
        # An item the household's own facts make urgent (plain.act_if) leads the applications; a norm that covers
        # the household and is known not yet met (not enrolled, no certificate) is something to do, too.
        apply=[_line(kb, report, e, lang) for e in sorted(applies, key=lambda e: not e.act)
               if _plain_kind(kb, e) is LetterKind.apply
               or ((e.act or e.not_yet_done) and _plain_kind(kb, e) is not LetterKind.money)],
        restrictions=[_line(kb, report, e, lang) for e in applies if _plain_kind(kb, e) is LetterKind.restriction],
        ask=[question(kb, q.fact, report.member_names, lang, report.entity_names)
             for q in report.questions[:questions]],
        more_questions=max(0, len(report.questions) - questions),
    )


def household_letter(kb: KB, report: Report, lang: str) -> HouseholdLetter:
    """The letter's context: every line from the report, worded from data, in the order a household acts."""
    by: dict[Status, list[Determination]] = {}
    for e in report.determinations:
        by.setdefault(e.status, []).append(e)
    applies = by.get(Status.applies, [])
    asked = {q.fact for q in report.questions}
    site_name, record = site_record(kb, report)
    window = None
    windowed = [d.id for d in report.documents
                if kb.documents[d.id].doc.one_stop_window is not None and _covers(report, d.id)]
    if windowed:
        # Only a document that names a one-stop window may send the household to one (定南方案 七(一)).
        doc = kb.documents[windowed[0]].doc
        assert doc.one_stop_window is not None
        w = record.window if record else None
        window = WindowInfo(site=_site_name(record, lang) or site_name,
                            address=(w.address or "") if w else "", phone=(w.phone or "") if w else "",
                            hours=(w.hours or "") if w else "",
                            cite=short_cite(kb, doc.id, kb.clauses[doc.one_stop_window.clause].number, lang))
    # An open item goes in the letter only if a question we would ask can settle it; one that waits only on
    # facts the gates in vocabulary.yaml do not ask of anyone here (a child's job wishes) is the caseworker's.
    open_items = [e for e in by.get(Status.undetermined, []) if kb.measures[e.measure_id].plain is not None]
    # What the government does for everyone in scope is not an entitlement in waiting: it stays out.
    undetermined = [e for e in open_items if (not e.missing or any(f in asked for f in e.missing))
                    and _plain_kind(kb, e) is not LetterKind.general]
    scope: dict[str, ScopeLine] = {}
    for e in by.get(Status.out_of_scope, []):
        note = e.out_of_scope
        if note is not None and note.document not in scope:
            scope[note.document] = ScopeLine(title=f"《{kb.documents[note.document].doc.title}》", quote=note.quote,
                                             cite=short_cite(kb, note.document, note.clause_number, lang))
    docs = [kb.documents[d.id].doc for d in report.documents]
    summary = action_summary(kb, report, lang)
    undetermined_lines = [_line(kb, report, e, lang, asked) for e in undetermined]
    return HouseholdLetter(
        household=report.name or report.id, household_id=report.id,
        site=_site_name(record, lang) or site_name,
        year=report.as_of.year, month=report.as_of.month, day=report.as_of.day,
        summary=summary,
        entitlements=[_line(kb, report, e, lang) for e in applies
                      if _plain_kind(kb, e) is LetterKind.entitlement and not e.act and not e.not_yet_done],
        satisfied=[_line(kb, report, e, lang) for e in by.get(Status.satisfied, [])],
        undetermined=undetermined_lines,
        # A general duty the household can act on (known not yet done) is among the applications, not here too.
        general=[_line(kb, report, e, lang) for e in applies
                 if _plain_kind(kb, e) is LetterKind.general and not e.not_yet_done],
        window=window,
        out_of_scope=list(scope.values()),
        sources=[Source(cite_as=getattr(d.cite_as, lang) if d.cite_as else d.short_name,
                        title=d.title, title_en=d.title_en, year=d.signed.year) for d in docs],
        not_applicable=len(by.get(Status.does_not_apply, [])),
        in_scope=any(_covers(report, d.id) for d in report.documents),
        suggested=any(it.where_kind == "suggested" for part in (summary.money, summary.apply, undetermined_lines)
                      for it in part),
        for_caseworker=len(by.get(Status.undetermined, [])) - len(undetermined),
    )
