"""Pydantic models for the knowledge-base files in ``policies/``.

Every model forbids extra fields, so a misspelt key fails at load time with its
file and path.  The formats are documented in ``docs/formats.md``; the JSON
Schema export (``houfu kb schema``) is generated from these classes.
"""

from __future__ import annotations

import datetime as dt
import string
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .conditions import Assumed, Condition, ParamRef

__all__ = [
    "Body",
    "Clause",
    "Concept",
    "Document",
    "Force",
    "ForceReading",
    "ForceRubric",
    "GlossaryTerm",
    "Jurisdiction",
    "Measure",
    "Parameter",
    "Part",
    "Register",
    "ReportList",
    "Role",
    "Rule",
    "Subject",
    "Topic",
]


class Strict(BaseModel):
    # Built on first validation, not at import: a KB read from the cache (houfu.kb.cache) validates none of them.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class Force(str, Enum):
    """Normative force, read from the verb of the sentence."""

    mandatory = "mandatory"  # 应 / 要 / 确保 / 不得 / 严格
    directive = "directive"  # 推动 / 加强 / 完善
    encouraged = "encouraged"  # 鼓励 / 支持 / 引导
    conditional = "conditional"  # 可 / 可以: a permission, hanging on conditions (符合条件的 is a qualifier, not a force)


class Subject(str, Enum):
    person = "person"
    household = "household"
    site = "site"
    enterprise = "enterprise"
    department = "department"


class Role(str, Enum):
    lead = "lead"  # 牵头负责
    shared = "shared"  # 按职责分工负责
    named = "named"  # named in the sentence as doing it
    implicit = "implicit"  # the sentence names no one; the document's addressees, declared as such


class UnitDef(Strict):
    """A unit a parameter may carry (policies/units.yaml): data, so a new text's unit needs no Python."""

    id: str
    zh: str
    en: str
    words: list[str] = Field(default=[], description="what follows a number in the text: 个月, 天, 元")
    per: list[str] = Field(default=[], description="for a frequency, the words of its period: 每半年, 每月")


# --- shared registries -------------------------------------------------------


class Jurisdiction(Strict):
    id: str
    name: str
    name_en: str
    level: Literal["country", "province", "city", "county", "district", "county_city", "town"]
    code: str | None = None
    parent: str | None = None
    aliases: list[str] = []


class Body(Strict):
    id: str
    name: str = Field(description="canonical name as the documents write it")
    full_name: str
    en: str
    short_en: str | None = Field(default=None, description="a shorter English name for letters, where `en` is long")
    kind: Literal[
        "department", "government", "party", "leading_group", "police", "school",
        "community", "financial", "unit", "social", "enterprise", "person",
    ]
    level: Literal["province", "city", "county", "town", "village", "any"]
    jurisdiction: str | None = None
    aliases: list[str] = []
    abolished: dt.date | None = None
    successor: str | None = None
    note: str | None = None

    @property
    def letter_en(self) -> str:
        """The English name a letter or summary uses: the shorter one where there is one."""
        return self.short_en or self.en


class Topic(Strict):
    id: str
    zh: str
    en: str
    keywords: list[str] = []


class FactRange(Strict):
    """The values a number may take in an input file, and why (a larger one is a typing error)."""

    min: float
    max: float
    why: str


RecordKind = Literal["household", "member", "entity", "site"]


class FactLabel(Strict):
    """One input fact (policies/vocabulary.yaml, or a document's own): what it is and how to ask for it.

    houfu builds its input models from these (``kb.facts.build_models``): adding a fact needs no Python.
    """

    id: str = Field(description="the fact's name; a dotted one (three_haves.staff) is a field of a declared group")
    record: RecordKind | list[RecordKind] = Field(description="the record it belongs to, or a list for a shared name")
    type: Literal["boolean", "integer", "number", "code", "text", "date", "per_period", "list"] = Field(
        description="code: one of `labels`; date: a day (2024-07-01, 2024年7月1日); per_period: a count per "
                    "`period`; list: members or entities")
    unit: str | None = Field(default=None, description="an id of policies/units.yaml")
    period: Literal["year", "quarter"] | None = Field(default=None, description="per_period facts only")
    minimum: float | None = Field(default=None, description="a hard bound: a smaller value is refused")
    maximum: float | None = Field(default=None, description="a hard bound: a larger value is refused")
    description: str | None = Field(default=None, description="what the fact means, with the policy's own term")
    zh: str
    en: str
    range: FactRange | None = None
    labels: dict[str, str] = Field(default={}, description="code -> Chinese label accepted in input files; "
                                                           "for a code fact, its values")
    ask_if: Condition | None = Field(
        default=None, description="asked only when this is not known to be false, tested on the same member, "
                                  "business or household (e.g. jobs only of someone 16 or over who can work)")
    ask_if_why: str | None = Field(
        default=None, description="why the gate asks only these people; a rule that tests the fact is decided by "
                                  "the gate too, and a measure the gate rules out gives this reason")
    otherwise: str | None = Field(
        default=None, description="the value the fact has for someone its ask_if excludes, where the vocabulary "
                                  "defines one (labor_capacity: none for a child under 16); without it, an "
                                  "unasked fact has no value: it equals nothing and compares with nothing")
    years_since: str | None = Field(
        default=None, description="integer facts: when not given, the full years (完整周岁) from this date fact of "
                                  "the same record to the as-of date (age from birth_date)")
    holder: list[str] = Field(
        default=[], description="the registers that hold it (ids of `registers`), where a missing fact is asked "
                                "for: one per jurisdiction, by the register's body; a body of no jurisdiction "
                                "serves the households no other register of the fact serves")
    kind: str | None = Field(
        default=None, description="a fact of a record kind the vocabulary declares under `records:` (a workshop); "
                                  "written `record: workshop`, read as an entity fact of that kind")

    @property
    def records(self) -> list[RecordKind]:
        return [self.record] if isinstance(self.record, str) else list(self.record)

    @model_validator(mode="after")
    def _shape(self) -> FactLabel:
        if self.type == "code" and not self.labels:
            raise ValueError("a code fact lists its values under `labels`")
        if (self.type == "per_period") != (self.period is not None):
            raise ValueError("`period` is given for a per_period fact, and only for one")
        if (self.minimum is not None or self.maximum is not None) and self.type not in ("integer", "number"):
            raise ValueError("minimum and maximum are for integer and number facts")
        if self.years_since is not None and self.type != "integer":
            raise ValueError("`years_since` derives a whole number of years: it is for integer facts")
        if self.otherwise is not None and (self.ask_if is None or self.otherwise not in self.labels):
            raise ValueError("`otherwise` is a code of `labels`, for a fact with an `ask_if`")
        if self.ask_if is not None and not self.ask_if_why:
            raise ValueError("a fact with an `ask_if` says why in `ask_if_why` (the reason a measure it rules out gives)")
        return self


class FactGroup(Strict):
    """A group of facts asked together (three_haves.institution, …), one nested object in the input."""

    id: str
    record: RecordKind
    description: str


#: The fact that says which declared kind of record a household's entity is (issue 26): its codes are
#: ``business`` (a 经营实体, every entity before kinds were declared) and each kind under ``records:``.
ENTITY_KIND = "entity_kind"


class RecordDecl(Strict):
    """A record kind a vocabulary declares as data (a 帮扶车间, a cooperative, a training class): its facts are
    the vocabulary's facts with ``record: <id>``, so a new kind needs no Python.

    A declared record is carried as one of the ``entities`` of the record it is linked to (``within``; its
    ``entity_kind`` is the kind's id): a household's (and the members who run it by ``owners``), or a site's (a
    training class a site runs, a workshop at a site). Every evaluator reads it as the entity it is
    (``any_entity``/``all_entities`` with ``{fact: entity_kind, eq: workshop}``) in the rules of the record it is
    linked to, and a declared calculator with ``kind:`` is paid once per record of that kind."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the kind's name, e.g. workshop")
    zh: str = Field(description="its name in Chinese, e.g. 帮扶车间: also how a caseload's kind column spells it")
    en: str
    description: str | None = None
    within: Literal["household", "site"] = Field(
        default="household", description="the record it is linked to: household (listed among its entities, "
                                         "its members by `owners`) or site (listed among a site's entities; a "
                                         "caseload carries it in a file or sheet of its own, each row naming its "
                                         "site's id)")
    aliases: list[str] = Field(default=[], description="other spellings of the kind in a caseload's kind column "
                                                       "(就业帮扶车间, 扶贫车间)")
    columns: dict[str, list[str]] = Field(
        default={}, description="how a caseload carries it: a field or fact of the record -> the headers of the "
                                "businesses table (or its own sheet or file) that hold it, e.g. entity_kind: [类型], "
                                "workshop_workers: [吸纳人数]; the link is `household` (a household's id) or, "
                                "within a site, `site` (the site's id)")

    @model_validator(mode="after")
    def _name(self) -> RecordDecl:
        if self.id in ("household", "member", "entity", "site", "business"):
            raise ValueError(f"{self.id!r} is a record every vocabulary has; a declared kind needs a name of its own")
        return self


class VocabularyFile(Strict):
    """policies/vocabulary.yaml, or a document's own vocabulary.yaml (its local facts)."""

    records: list[RecordDecl] = Field(default=[], description="record kinds of their own (a workshop), each "
                                                              "carried as an entity of a household or a site")
    facts: list[FactLabel]
    groups: list[FactGroup] = []
    registers: list[Register] = Field(default=[], description="the records bodies keep that hold input facts "
                                                               "(a fact's `holder`)")


class AmountShape(str, Enum):
    """The common shapes of a subsidy, which a document declares as data (calculators.yaml)."""

    fixed = "fixed"  # a fixed amount per household, per person or per business (一次性补贴300元)
    per_day = "per_day"  # so much a day for the days given, up to a day cap (每天30元,最长15天)
    rate_of_base = "rate_of_base"  # a rate of a sum of facts (按实际费用的60%), under a cap per period
    #: so much per person per period for the periods given, up to a most (每人每月200元,最长6个月) (issue 26)
    per_period = "per_period"
    #: a rate × a count × periods, capped (帮扶车间按吸纳人数每人每月200元,最高5万元) (issue 26)
    rate_count_periods = "rate_count_periods"


class DeclaredCalculator(Strict):
    """An amount calculator declared as data in ``policies/<doc>/calculators.yaml``: one of the common shapes,
    registered by name like a Python one, so a new document's subsidies need no Python.

    Every number is a parameter of the document, so it cites its clause; every input is a fact of the
    vocabulary.  ``zh``/``en`` are the letter's words, with ``{who}`` and ``{value}``."""

    name: str
    shape: AmountShape
    per: Literal["household", "member", "entity"] = Field(description="one amount for each of these")
    kind: str | None = Field(default=None, description="per entity: only the entities of this declared record "
                                                       "kind (workshop), known to be of it, get an amount")
    who: str | None = Field(default=None, description="per member: a member concept saying whom it is for "
                                                       "(only members for whom it is known true get an amount)")
    amount: str | None = Field(default=None, description="fixed: the amount; per_day: the amount a day (parameter ids)")
    days: str | None = Field(default=None, description="per_day: the fact holding the days, on the same record")
    max_days: str | None = Field(default=None, description="per_day: the most days paid (a parameter id)")
    rate: str | None = Field(default=None, description="rate_of_base: the rate in percent (a parameter id)")
    base: list[str] = Field(default=[], description="rate_of_base: the facts summed, on the same record")
    cap: str | None = Field(default=None, description="the most paid per period (a parameter id)")
    count: str | None = Field(default=None, description="rate_count_periods: the fact holding the count (workers), "
                                                        "on the same record")
    periods: str | None = Field(default=None, description="per_period, rate_count_periods: the fact holding the "
                                                          "periods (months), on the same record")
    max_periods: str | None = Field(default=None, description="per_period, rate_count_periods: the most periods paid "
                                                              "(a parameter id; optional)")
    quantity: str = Field(description="what the figure is, e.g. transport_subsidy")
    period: Literal["once", "month", "quarter", "year"] | None = None
    zh: str = Field(description="the letter's words, with {who} and {value}; no closing full stop (the letter adds it)")
    en: str

    @model_validator(mode="after")
    def _shape(self) -> DeclaredCalculator:
        need = {AmountShape.fixed: ("amount",), AmountShape.per_day: ("amount", "days", "max_days"),
                AmountShape.rate_of_base: ("rate", "base"), AmountShape.per_period: ("amount", "periods"),
                AmountShape.rate_count_periods: ("amount", "count", "periods")}[self.shape]
        lacking = [n for n in need if not getattr(self, n)]
        if lacking:
            raise ValueError(f"a {self.shape.value} calculator needs {', '.join(lacking)}")
        if self.kind is not None and self.per != "entity":
            raise ValueError("`kind` (a declared record kind) is given for a per-entity amount only")
        if (self.who is not None) != (self.per == "member"):
            raise ValueError("`who` (a member concept) is given for a per-member amount, and only for one")
        for words in (self.zh, self.en):
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(words) if name is not None}
            except ValueError as exc:
                raise ValueError(f"{words!r}: {exc}") from None
            if names - {"who", "value"}:
                raise ValueError(f"{words!r}: only {{who}} and {{value}} can be filled in")
        return self


class CalculatorsFile(Strict):
    """policies/<doc>/calculators.yaml."""

    calculators: list[DeclaredCalculator]


class Window(Strict):
    """A site's service window as the county records it; unknown parts stay null and letters say so."""

    address: str | None = None
    phone: str | None = None
    hours: str | None = None


class SiteRecord(Strict):
    """A resettlement site and its window (policies/sites.yaml): operational data, not policy."""

    id: str
    name: str
    name_en: str
    jurisdiction: str
    document: str | None = Field(default=None, description="the document written for this site, if any")
    aliases: list[str] = []
    window: Window = Window()
    facts: dict[str, str | int | bool] = Field(
        default={}, description="what the county records of the site itself, as site facts of the vocabulary "
                                "(site_type): a household that names the site and does not give a fact it shares "
                                "with the site is decided with the site's (kb validate checks names and values)")
    note: str


class ReportList(Strict):
    """A list a supervisor works from in the caseload report (policies/lists.yaml), defined as a household
    condition and decided three-valued: confirmed where it holds, to check where it may."""

    id: str
    zh: str = Field(description="its heading")
    en: str
    meaning_zh: str | None = Field(default=None, description="the test in plain words, shown under the heading")
    meaning_en: str | None = None
    when: Condition = Field(description="a household condition, decided three-valued: a household it holds for "
                                        "is listed as confirmed, one it may hold for (facts unknown) as to check")
    note: str = Field(description="the reading: why the test is what it is, citing the texts")
    note_zh: str | None = Field(default=None, description="the reading in Chinese, as the report in Chinese shows it")


class ValueReading(Strict):
    """A spelling of a register's own (the monitoring system's 弱劳动力, 省外务工 …) read as a code, with the
    reason houfu chose that reading; ``code: null`` reads it as unknown (said in a note, never an error)."""

    code: str | None
    why: str


class WordReading(Strict):
    """A yes/no word, or a word meaning "not known", with the reason it is read so (√ ticked, 不详 …)."""

    word: str
    why: str


class LedgerRows(Strict):
    """Rows of a ledger that are not records: skipped with a note, never read as a household."""

    totals: list[str] = Field(description="a cell starting with one of these marks a totals row (合计, 小计 …)")
    signatures: list[str] = Field(default=[], description="a cell starting with one of these marks a signature "
                                                          "or filing row below the table (填表人 …)")


class ColumnsFile(Strict):
    """Headers and value spellings a caseload export may use (policies/columns.yaml, for `houfu screen`)."""

    booleans: dict[Literal["true", "false"], list[str | WordReading]]
    unknown: list[WordReading] = Field(default=[], description="words any column may hold for \"not known\" "
                                                                "(不详, 待核实, a lone dash): read as not given")
    values: dict[str, dict[str, str | ValueReading]] = Field(
        default={}, description="fact -> {spelling: code, or {code, why} for a register's own label}, beside the "
                                "vocabulary's labels")
    household: dict[str, list[str]] = {}
    member: dict[str, list[str]] = {}
    entity: dict[str, list[str]] = {}
    site: dict[str, list[str]] = {}
    ignored: dict[str, str] = Field(default={}, description="headers known and not read on purpose -> why "
                                                              "(序号, 备注, 联系电话 …); any other header that "
                                                              "matches no field is reported")
    rows: LedgerRows = LedgerRows(totals=["合计", "总计", "小计"])
    lists: list[ReportList] = []

    def words(self, value: bool) -> list[str]:
        """The spellings read as yes (True) or no (False)."""
        return [w if isinstance(w, str) else w.word for w in self.booleans.get("true" if value else "false", [])]

    def spellings(self, fact: str) -> dict[str, str | None]:
        """A fact's extra spellings -> code (None: read as unknown)."""
        return {k: v if isinstance(v, str) else v.code for k, v in self.values.get(fact, {}).items()}


class WordingWords(Strict):
    zh: list[str]
    en: list[str]


class ValueWords(Strict):
    """How a gap sentence writes a fact's value that is no number: not known, yes, no (policies/wording.yaml)."""

    unknown: str
    yes: str
    no: str


class WordingRules(Strict):
    """policies/wording.yaml: what a household's text may say, by the measure's modality and bearer."""

    household_state: WordingWords = Field(description="patterns no text but `done` may match: the household's "
                                                       "own state stated as a fact")
    household_duty: WordingWords = Field(description="patterns no text may match unless the measure binds the "
                                                      "household: a body's duty turned into the household's")
    actors: WordingWords = Field(description="an obligation or prohibition of a body names who acts: one of these")
    permission: WordingWords
    goal: WordingWords
    modal: WordingWords = Field(description="the auxiliaries the wording layer uses to say a duty (要, 不得 …): "
                                            "allowed in plain words by the gloss check, like the actors")
    values: dict[Literal["zh", "en"], ValueWords] = Field(
        default_factory=dict, description="the words a rule's gap sentence (gap_zh, gap_en) fills in for a fact "
                                          "not known, true or false, by language; without them it writes ?, true, "
                                          "false")
    items: dict[Literal["members", "entities"], str] = Field(
        default_factory=dict, description="the words a rule's condition, as houfu describes it (houfu explain, the why "
                                          "page, the screener's `failed`), names what a test ranges over by: a "
                                          "member, an entity of no declared kind; a declared kind is named by its "
                                          "own names (vocabulary `records:`)")


class NoticeText(Strict):
    """Wording for a report notice (policies/notices.yaml), with {placeholders}."""

    id: str
    zh: str
    en: str
    after_years: int | None = None
    note: str


class ConsistencyCheck(Strict):
    """A contradiction in well-typed input (policies/consistency.yaml): it warns, naming the fields.

    It is one of: a condition that holds (``when``); a fact given with a value other than the one the vocabulary
    derives for it on the as-of date (``derived``: an age that is not the full years since the date of birth);
    or a date later than the as-of date (``after_as_of``)."""

    id: str
    entity: Literal["household", "member", "entity", "site"]
    when: Condition | None = None
    derived: str | None = Field(default=None, description="a fact with `years_since` in the vocabulary: warns where "
                                                          "the value given differs from the one derived")
    after_as_of: str | None = Field(default=None, description="a date fact: warns where it is after the as-of date")
    fields: list[str]
    zh: str
    en: str

    @model_validator(mode="after")
    def _one_test(self) -> ConsistencyCheck:
        if sum(x is not None for x in (self.when, self.derived, self.after_as_of)) != 1:
            raise ValueError("a check has exactly one of `when`, `derived` and `after_as_of`")
        return self


class GlossaryTerm(Strict):
    id: str
    zh: str
    en: str
    plain_zh: str
    plain_en: str


class SynonymGroup(Strict):
    """Words that name one thing (glossary.yaml ``synonyms``): 最低生活保障 = 城乡低保 = 低保. Search and
    ``houfu owners`` find a text by any of them."""

    words: list[str] = Field(min_length=2, description="the words, the full name first")
    en: str = Field(description="what they name, in English")


# --- documents ---------------------------------------------------------------


class Chrome(Strict):
    text: str
    reason: str
    draft: bool = Field(default=False, description="proposed by `houfu kb scaffold`; a person has not yet agreed")


class Repair(Strict):
    scraped: str
    repaired: str
    reason: str
    clause: str | None = None
    draft: bool = Field(default=False, description="proposed by `houfu kb scaffold`; a person has not yet agreed")


class ParentDoc(Strict):
    title: str
    doc_number: str | None = None
    jurisdiction: str
    quote: str


class Scope(Strict):
    zh: str
    en: str
    clause: str
    site_types: list[str] = Field(min_length=1, description="the kinds of site the document covers: codes of "
                                                             "the vocabulary's site_type fact (vocabulary.yaml)")
    households: list[Literal["registered_poor", "co_relocated"]]
    note: str | None = None


class DocumentPeriod(Strict):
    """The planning period the text refers to (e.g. 十三五, 2016-2020), with its words."""

    name: str
    start_year: int
    end_year: int
    quote: str
    clause: str


class Convention(Strict):
    """How the text counts bounds, e.g. whether 以上 includes the number."""

    inclusive: list[str] = Field(description="words whose number is included, e.g. 以上, 不少于, 不低于")
    exclusive: list[str] = Field(default=[], description="words whose number is excluded, e.g. 低于")
    quote: str | None = Field(default=None, description="the text's own statement of the convention, if it has one")
    note: str


class Deadline(Strict):
    """A date the text sets for something to be done (2024年底前建成), checked against ``--as-of``.

    A site rule names it (``rule.due``): not done is ``not_due`` up to and on the date, ``violated`` after."""

    id: str
    date: dt.date = Field(description="the last day it may be done on, as read from the text")
    text: str = Field(description="the words of the text that set it, verbatim (e.g. 2024年底前)")
    clause: str = Field(description="the clause whose text holds the words")
    reading: str = Field(description="how the words became the date (年底 is 12月31日)")
    draft: bool = Field(default=False, description="read by `houfu kb scaffold`; a person has not yet checked it")


class TextRef(Strict):
    """Where the text says something, quoted verbatim."""

    quote: str
    clause: str


class CiteAs(Strict):
    """How a letter cites the document in one or two words (the full title appears once, in its sources)."""

    zh: str
    en: str


class Document(Strict):
    id: str
    short_name: str
    cite_as: CiteAs | None = Field(default=None, description="a short title for citations; short_name if absent")
    title: str
    title_en: str
    issuer: str
    issuer_en: str
    doc_number: str | None = None
    doc_number_note: str | None = None
    level: Literal["country", "province", "city", "county"]
    jurisdiction: str
    parents: list[ParentDoc] = []
    signed: dt.date
    published: dt.date | None = None
    published_note: str | None = None
    in_force_from: dt.date
    in_force_until: dt.date | None = Field(
        default=None, description="the end date the text gives; null when it gives none (never invented)")
    in_force_note: str | None = None
    period: DocumentPeriod | None = None
    convention: Convention | None = None
    deadlines: list[Deadline] = Field(default=[], description="dates the text sets for a task (…年底前建成)")
    scope: Scope
    one_stop_window: TextRef | None = Field(
        default=None, description="where the text names a one-stop service window at the site; letters mention "
                                  "one only for a document that does")
    chrome: list[Chrome] = []
    repairs: list[Repair] = []
    notes: list[str] = []
    todo: list[str] = Field(default=[], description="what `houfu kb scaffold` left for a person to finish; "
                                                    "`kb validate` lists each until it is removed")


# --- conditions and rules (the condition tree itself is in conditions.py) -------


class Concept(Strict):
    """A derived fact (e.g. a large site), defined under the clause it rests on."""

    name: str
    entity: Literal["household", "site", "member", "any"]
    zh: str
    en: str
    quote: str
    when: Condition
    note: str | None = None


class PartialPeriod(Strict):
    """How a quota reads a calendar period its document covers only in part: the first (in force from a day
    inside it) or the last (ended inside it). A reading of the text, with its reason."""

    reading: Literal["not_judged", "pro_rata"] = Field(
        description="not_judged: the text sets its number for a whole period, so a part is not judged; pro_rata: "
                    "the share of the number for the days in force, rounded up to whole events")
    why: str = Field(description="why this reading, from the text")


class Quota(Strict):
    """A count required per period (每年不少于2次, 每季度不少于1次), judged against ``--as-of``.

    The site records one count per period under ``count`` (e.g. ``job_fairs: {"2025": 2}``). Every
    complete calendar period from the document's start of force to ``--as-of`` is judged, and each one
    missed is named: violated if any was missed, undetermined while a count is unknown, met when all were
    met; the period under way is not_due, with what is still needed by its end. A period the document
    covers only in part is read as ``partial`` says.
    """

    count: str = Field(description="site fact holding a count per period")
    period: Literal["year", "quarter"]
    min: ParamRef | Assumed
    partial: PartialPeriod | None = Field(
        default=None, description="the reading of a period the document covers only in part; required where the "
                                  "document's force starts or ends inside a period (kb validate)")


class Rule(Strict):
    """Makes a measure applicable (``when``), and separately tests whether it is fulfilled.

    ``when`` says whom the norm covers and must never use "not yet done" as the reason it
    applies.  A household norm already met is ``satisfied_if`` (e.g. already enrolled); a site
    norm is met or violated by ``requires``, or per period by ``quota``.
    """

    entity: Literal["household", "site"]
    when: Condition | None = Field(description="null: applies to every entity in the document's scope")
    satisfied_if: Condition | None = Field(
        default=None, description="household: the norm covers it and is already met (e.g. enrolled)")
    requires: Condition | None = None
    quota: Quota | None = None
    gap_zh: str | None = None
    gap_en: str | None = None
    amounts: str | None = Field(default=None, description="name of a registered amount calculator "
                                "(the document folder's calculators.yaml or calculators.py)")
    due: str | None = Field(default=None, description="site rules with `requires`: the id of the document's "
                                                      "deadline; not yet met is not_due until that date, then violated")
    done_on: str | None = Field(default=None, description="rules with `due`: the date fact saying when `requires` "
                                "came true (station_completed_on); once the deadline has passed, done is met only "
                                "on or before it, violated after it (worded by late_zh/late_en), and undetermined "
                                "while the date is unknown")
    late_zh: str | None = Field(default=None, description="the gap of a task done after its deadline; {due} and the "
                                                          "facts ({station_completed_on}) are filled in")
    late_en: str | None = None
    note: str | None = None


class Parameter(Strict):
    id: str
    name: str
    value: float
    unit: str = Field(description="an id of policies/units.yaml")
    bound: Literal["min", "max", "exact", "baseline"]
    text: str = Field(description="the words of the quote that carry the number, verbatim")
    note: str | None = None
    draft: bool = Field(default=False, description="drafted by `houfu kb scaffold` from a number in the text")


class Named(Strict):
    """A body the sentence names.  Only a ``bearer`` answers for the measure (an owner)."""

    body: str
    as_written: str
    role: Literal["bearer", "object", "beneficiary"] = Field(
        default="bearer", description="bearer: the sentence makes it do the task; object: the task is done to or "
                                      "with it (e.g. 楼栋长 to be elected); beneficiary: the task is for it")




class Modality(str, Enum):
    """What kind of norm the sentence states, apart from how strongly (``force``)."""

    obligation = "obligation"  # 要 / 应 / 确保 / 落实 / 推动 …
    prohibition = "prohibition"  # 不得
    permission = "permission"  # 可 / 也可以
    goal = "goal"  # a target or outcome of a locality (确保…获得稳定收益, 实现…)


class ForceReading(Strict):
    """Why a measure's force or modality is not what the force rubric reads from its quote's trigger word."""

    word: str | None = Field(default=None, description="the word of the quote the reading rests on, verbatim; "
                                                       "none where the reading rests on the sentence as a whole")
    reason: str


class GlossWord(Strict):
    """A content word a zh gloss uses that its quote lacks, and why the gloss may (kb validate)."""

    word: str
    reason: str


class Bearer(Strict):
    """Who must act, when the sentence names no body: the addressees, declared as such."""

    body: str
    implicit: bool = Field(description="true: the sentence names no bearer; this is the document's addressee")
    reason: str


class Qualifier(Strict):
    """A part of the sentence that narrows or loosens it; never silently dropped (validated)."""

    kind: Literal["exception", "floor_in_principle", "open_list", "qualified"]
    text: str = Field(description="verbatim in the quote: 除…外, 原则上…, …等, 符合条件的")
    reading: str


class Reference(Strict):
    """An external instrument the sentence names (a document, a campaign, a standard)."""

    title: str
    doc_number: str | None = None
    text: str = Field(description="verbatim in the quote")
    kind: Literal["document", "campaign", "standard", "system"]


class HandlerBasis(str, Enum):
    """Why houfu sends a household to one office for a measure."""

    text = "text"  # the text itself names the office that acts (由历市镇派出所…办理, X牵头)
    duty = "duty"  # houfu's reading: the text leaves it to 按职责分工 (or to 各地); a statute or the department's
    #               own duties make this the office to ask first. A recommendation, and every output says so.


class Handler(Strict):
    """The office a household is sent to for a measure: houfu's recommendation, with its basis.

    ``basis: text`` quotes the words of the clause that name it (``text``, verbatim); ``basis: duty`` gives the
    statute or department duty that makes it the office (``reason``), and is shown as houfu's reading."""

    body: str
    basis: HandlerBasis
    text: str | None = Field(default=None, description="basis text: the clause's words that name the office, verbatim")
    reason: str = Field(description="why this office: the statute or duty (basis duty), or how the text names it")


class ClockEvent(str, Enum):
    """What a household case's clock runs from."""

    listed = "listed"  # the day the case is put on its department's worklist: the screen's as-of date


class DayCount(str, Enum):
    """How a clock counts its days."""

    natural = "natural"  # 日、天: every calendar day
    working = "working"  # 工作日: China's official calendar, holidays off and make-up days (调休) on


class Clock(Strict):
    """A deadline for one household's case: ``days`` (natural or working) from an event, or a fixed ``date``.

    A measure's ``clock`` is the text's own (``clause`` and ``quote``, verbatim); where the text sets none, a county
    may give its own rule in a separate file (houfu.kb.clocks), which says whose rule it is. houfu invents none."""

    runs_from: ClockEvent = ClockEvent.listed
    days: int | None = Field(default=None, ge=0, description="how many days after the event (the event's day is "
                                                              "day 0); with `count`")
    count: DayCount = DayCount.natural
    date: dt.date | None = Field(default=None, description="a fixed last day, instead of `days`")

    @model_validator(mode="after")
    def _one(self) -> Clock:
        if (self.days is None) == (self.date is None):
            raise ValueError("a clock gives either `days` or `date`, not both or neither")
        return self


class TextClock(Clock):
    """A clock the text itself sets for a measure: the clause and its words, verbatim."""

    clause: str
    quote: str = Field(description="the words that set it (15日内, 20个工作日内), verbatim")
    reading: str = Field(description="how the words became the clock (whether 内 includes the last day)")


class Register(Strict):
    """A record a body keeps that holds input facts (policies/vocabulary.yaml ``registers``), where a missing fact
    is asked for: 医保 参保登记, 民政 低保台账, 公安 户籍 … houfu's reading of who keeps the data, with its basis.

    ``basis: text`` quotes the clause's words that name the body and what it records (``clause``, ``text``);
    ``basis: duty`` gives the statute or document that makes the body keep it (``reason``). A fact only the
    household can tell (a wish) is held by the household itself, asked by the body that visits it."""

    id: str
    body: str = Field(description="the body that keeps it (bodies.yaml); its jurisdiction is whose households it "
                                  "serves, and a body of none serves any")
    zh: str = Field(description="the record's name as the body keeps it, e.g. 基本医疗保险参保登记")
    en: str
    basis: HandlerBasis
    clause: str | None = Field(default=None, description="basis text: the clause whose words name the body and the "
                                                          "record")
    text: str | None = Field(default=None, description="basis text: those words, verbatim")
    reason: str = Field(description="why this body holds the facts: the statute or document (basis duty), or how "
                                    "the text names it")


class LetterKind(str, Enum):
    """Where a measure goes in a household's letter (issue 10: lead with action, general duties last)."""

    money = "money"  # a payment the household can receive
    apply = "apply"  # something to apply for or take up, and where
    entitlement = "entitlement"  # a right, service or protection the household has
    general = "general"  # what the government does for every household in scope: one paragraph at the end
    restriction = "restriction"  # binds the household itself (binds_household)


class Plain(Strict):
    """The measure in plain words for a household, and where it goes in the letter.

    The zh/en glosses restate the policy; these are what a letter says. Like the glosses, they may not add a
    number or key term the quote lacks (kb validate)."""

    kind: LetterKind
    zh: str = Field(description="the norm as it reaches the household, worded by its modality and bearer: a body's "
                                "duty as what that body does, a goal as a goal, a permission with 可以; never a "
                                "statement of the household's own state (kb validate, policies/wording.yaml)")
    en: str
    act_if: Condition | None = Field(default=None, description="a household condition that raises the item into "
                                                               "the letter's action summary, worded by act_zh/act_en")
    act_zh: str | None = None
    act_en: str | None = None
    todo_zh: str | None = Field(default=None, description="for a rule with satisfied_if: the norm covers the household "
                                                           "and is known not yet met; what to do (required then)")
    todo_en: str | None = None
    done_zh: str | None = Field(default=None, description="for a rule with satisfied_if: already met, from the facts "
                                                           "given (required then)")
    done_en: str | None = None
    apply_at: str | None = Field(default=None, description="where to apply: site_window (only for a document that "
                                                            "names a one-stop window) or a body id; by default the "
                                                            "measure's handler, then its first owner")


class Measure(Strict):
    id: str
    zh: str
    en: str
    subject: Subject
    force: Force = Field(description="strength: mandatory, directive, encouraged, conditional")
    modality: Modality
    force_reading: ForceReading | None = Field(
        default=None, description="why force or modality differ from what policies/force_rubric.yaml reads from "
                                  "the quote's trigger word")
    quote: str
    topics: list[str] = []
    parameters: list[Parameter] = []
    named: list[Named] = []
    bearer: Bearer | None = None
    handler: Handler | None = None
    clock: TextClock | None = Field(default=None, description="the deadline the text sets for a household's case "
                                                               "under this measure; null where it sets none")
    plain: Plain | None = Field(default=None, description="required for every measure with a household rule")
    qualifiers: list[Qualifier] = []
    references: list[Reference] = []
    gloss_words: list[GlossWord] = Field(default=[], description="content words the zh gloss or plain words use "
                                                                 "that the quote lacks, each with why")
    note: str | None = None
    rule: Rule | None = None
    not_decidable: str | None = Field(default=None, description="why no rule can decide it from household or site facts")
    draft: bool = Field(default=False, description="drafted by `houfu kb scaffold` from one sentence; its force, "
                                                    "subject, gloss and rule are guesses until a person reviews them")
    binds_household: bool = Field(default=False, description="it restricts or obliges the household itself; "
                                  "briefs list it under what the household must do")
    reaches: Literal["households"] | None = Field(
        default=None, description="households: a site measure whose beneficiaries are the site's households "
                                  "(确保搬迁群众…享有…). Each household's report decides it too, from the site facts "
                                  "the household gives or its site's record, marked `through_site`")

    @model_validator(mode="after")
    def _reach(self) -> Measure:
        if self.reaches is not None and (self.rule is None or self.rule.entity != "site"):
            raise ValueError("`reaches: households` is for a measure with a site rule")
        return self


class ListedBody(Named):
    """A body of a responsibility list, with its own role where the list mixes them."""

    list_role: Literal["lead", "shared"] | None = Field(
        default=None, description="mixed lists only (X牵头,Y、Z配合): this body's role")


class Responsibility(Strict):
    """A clause's responsibility list, e.g. (县人社局、…按职责分工负责) or (X牵头,Y、Z配合)."""

    list_text: str
    role: Literal["lead", "shared", "mixed"] = Field(
        description="lead or shared for every body; mixed: a lead and shared bodies, each body's `list_role`")
    bodies: list[ListedBody]
    draft: bool = Field(default=False, description="read by `houfu kb scaffold`; a person has not yet checked it")

    @model_validator(mode="after")
    def _roles(self) -> Responsibility:
        own = [b.list_role for b in self.bodies]
        if self.role == "mixed" and (None in own or "lead" not in own or "shared" not in own):
            raise ValueError("a mixed list gives every body a list_role, at least one lead and one shared")
        if self.role != "mixed" and any(own):
            raise ValueError("list_role is for a mixed list only (role: mixed)")
        return self

    def role_of(self, body: ListedBody) -> str:
        """lead or shared: the body's own role in a mixed list, else the list's."""
        return body.list_role or self.role

    @property
    def has_lead(self) -> bool:
        return any(self.role_of(b) == "lead" for b in self.bodies)


class Part(Strict):
    id: str
    number: str
    heading: str


class NotEncoded(Strict):
    """A sentence of the clause that no measure quotes, and why (it states no norm, or frames a list)."""

    text: str = Field(description="verbatim in the clause text")
    reason: str


class Clause(Strict):
    id: str
    part: str
    number: str
    heading: str
    text: str
    topics: list[str] = []
    responsibility: Responsibility | None = None
    concepts: list[Concept] = []
    measures: list[Measure] = []
    not_encoded: list[NotEncoded] = []
    note: str | None = None


class ClausesFile(Strict):
    parts: list[Part]
    clauses: list[Clause]


# --- the force rubric (policies/force_rubric.yaml) ---------------------------------------


class TriggerGroup(Strict):
    """Words of a quote that set a reading: their force and the modalities they allow, and why."""

    words: list[str] = Field(min_length=1)
    force: Force
    modalities: list[Modality] = Field(min_length=1)
    heads_clause: bool = Field(default=False, description="counts only as its clause's verb, with nothing but "
                                                          "adverbs before it (支持 as a verb, not in 支持范围)")
    why: str


class WordList(Strict):
    words: list[str]
    why: str


class ParaphraseWord(Strict):
    """A word a zh gloss may use though its quote lacks it (您家, 可以, 得到…): it restates, adds nothing."""

    words: list[str] = Field(min_length=1)
    plain_only: bool = Field(default=False, description="allowed in a letter's plain words only, not in the "
                                                        "measure's own zh gloss")
    why: str


class ForceRubric(Strict):
    """policies/force_rubric.yaml: trigger words -> force and modality, read by `kb validate` on every quote."""

    modal: list[TriggerGroup] = Field(description="modal words: the first in the quote sets the reading")
    floors: list[TriggerGroup] = Field(default=[], description="counted floors (不少于, 至少), read when no modal "
                                                                 "word is present")
    verbs: list[TriggerGroup] = Field(default=[], description="bare directive verbs (推动, 加强), read when neither is")
    intensifiers: WordList = Field(description="adverbs the dictionary joins to a trigger (大力发展, 积极引导); "
                                               "the segmenter cuts them off")
    compounds: WordList = Field(description="words holding a trigger's character that are not the trigger "
                                            "(可持续, 应保尽保, 同等); the segmenter is taught them")
    paraphrase: list[ParaphraseWord] = Field(default=[], description="words a zh gloss may use that its quote "
                                                                     "lacks, because they restate and add nothing")
