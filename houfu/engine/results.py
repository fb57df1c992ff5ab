"""What the engine answers, as typed models: a ``Report`` of ``Determination``s.

One word names one concept throughout:

* ``clause_id`` is the KB id (``dn.4.3``); ``clause_number`` is the document's own numbering (``四(三)``);
* ``owners`` are the bodies that answer for a measure (``Owner``: body id, name as written, role);
* ``parameters`` are the numbers a measure's text states; ``amounts`` are figures computed for this entity.

``houfu schema report`` prints the JSON Schema of ``Report``.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from houfu.kb.models import HandlerBasis, Role

__all__ = [
    "Amount", "DocumentRef", "Determination", "EngineFailure", "Explanation", "Firing", "Gap", "MemberTest", "MemberTruth",
    "InputWarning", "Notice", "Owner", "ParameterValue", "PeriodCheck", "Question", "Report", "ScopeNote", "Status", "TargetKind",
    "UsedConcept",
]


class EngineFailure(RuntimeError):
    """An engine reported an error (durable-rules' C engine); the engine boundary turns it into this one type.
    Here, not in ``engine.rete``, so catching it does not load durable-rules."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """One made from values houfu has typed already (the evaluator's own: parts of the validated KB and
        input, and results it built), without validating them again.

        A warm check builds a determination for each of 34 measures, and validating each (33 fields) took a
        quarter of the check (issue 25). The names are still held to the model's: an unknown name or a
        missing required one is a TypeError, as a typo would be. The types are the caller's to keep: tests
        hold every report built this way to its own validated round trip (tests/test_results.py). A default
        that is a list or a dict is made fresh for each, as validation makes it."""
        shape = _SHAPES.get(cls)
        if shape is None:
            shape = _SHAPES[cls] = _shape(cls)
        names, required, shared, fresh = shape
        if not names.issuperset(values) or not required.issubset(values):
            raise TypeError(f"{cls.__name__}.trusted: unknown {sorted(set(values) - names)}, "
                            f"missing {sorted(required - set(values))}")
        data = dict(shared)  # every field, in the model's order: the serialiser writes __dict__ in its order
        data.update(values)
        for name, make in fresh:
            if name not in values:
                data[name] = make()
        made = cls.__new__(cls)
        object.__setattr__(made, "__dict__", data)
        object.__setattr__(made, "__pydantic_fields_set__", set(values))
        object.__setattr__(made, "__pydantic_extra__", None)
        object.__setattr__(made, "__pydantic_private__", None)
        return made


#: Per result model: its field names, the required ones, every field in the model's order with the default
#: every instance may share (None, a bool, a str, a number; a required field's place is held by None until its
#: value is given), and how to make the other defaults (an empty list or dict) fresh.
_SHAPES: dict[type[_Result], tuple[frozenset[str], frozenset[str], dict[str, Any], tuple[tuple[str, Any], ...]]] = {}


def _shape(cls: type[_Result]) -> tuple[frozenset[str], frozenset[str], dict[str, Any], tuple[tuple[str, Any], ...]]:
    shared: dict[str, Any] = {}
    fresh: list[tuple[str, Any]] = []
    required = set()
    for name, field in cls.model_fields.items():
        shared[name] = None
        if field.is_required():
            required.add(name)
        elif field.default_factory is not None:
            fresh.append((name, field.default_factory))
        elif isinstance(field.default, (list, dict)):
            if field.default:  # only empty ones are made fresh by type
                raise TypeError(f"{cls.__name__}.{name}: a non-empty mutable default")
            fresh.append((name, type(field.default)))
        else:
            shared[name] = field.default
    return frozenset(cls.model_fields), frozenset(required), shared, tuple(fresh)


class Status(str, Enum):
    """A determination's status.

    Households: applies; satisfied (covered and already met, e.g. already enrolled);
    does_not_apply (with the failed condition); out_of_scope (the document does not cover this
    household or site, citing its scope clause); undetermined (with the missing facts).
    Sites also: met, violated (with the gap) and not_due (a periodic quota whose period has
    not ended, with what is still needed).
    """

    applies = "applies"
    satisfied = "satisfied"
    met = "met"
    violated = "violated"
    not_due = "not_due"
    does_not_apply = "does_not_apply"
    out_of_scope = "out_of_scope"
    undetermined = "undetermined"


class TargetKind(str, Enum):
    concept = "concept"  # a derived fact, e.g. a large site
    measure = "measure"  # does the measure apply?
    satisfied = "satisfied"  # a household measure already met
    requires = "requires"  # a site measure's compliance test


class Firing(_Result):
    """One rule that fired: it decided ``name`` (of kind ``kind``) to be ``value``."""

    rule: str
    kind: TargetKind
    name: str
    value: bool
    document: str
    clause_id: str
    clause_number: str


class Owner(_Result):
    body_id: str
    name: str = Field(description="as the document writes it")
    role: Role
    handles: bool = Field(False, description="the body that actually handles it for a household (data, with its basis)")


class HandlerRef(_Result):
    """The office a household is sent to: houfu's recommendation (kb.models.Handler), with its basis."""

    body_id: str
    name: str = Field(description="the office's name as the registry writes it")
    basis: HandlerBasis = Field(description="text: the text names this office; duty: houfu's reading of the "
                                            "departments' duties, where the text names none")
    text: str | None = Field(None, description="basis text: the clause's words that name it")
    reason: str
    on_list: bool = Field(description="the office is among the bodies the text makes answer for the measure")


class ParameterValue(_Result):
    """A number the measure's text states, with the words that carry it."""

    id: str
    value: float
    unit: str
    text: str


class Amount(_Result):
    """One figure computed for this entity by a registered calculator.

    ``quantity`` names what it is (e.g. ``quarterly_subsidy``), ``value`` is None when an
    input is unknown (``missing`` says which), never a zero.  ``member`` (0-based) or
    ``entity`` says whom it is for; ``basis`` holds the numbers it was computed from.
    """

    calculator: str
    quantity: str
    value: float | None
    unit: str
    period: str | None = None
    member: int | None = None
    member_name: str | None = None
    entity: str | None = None
    members: list[int] = []
    basis: dict[str, float | int | bool | str | None] = {}
    missing: list[str] = []


class Gap(_Result):
    zh: str
    en: str


class ScopeNote(_Result):
    """Why a document does not cover this household or site: its scope clause, quoted."""

    document: str
    clause_id: str
    clause_number: str
    quote: str
    failed: list[str]


class PeriodCheck(_Result):
    """A periodic quota in one calendar period (``2025``, ``2026-Q1``), as far as the document covers it.

    A determination lists every period from the one its document came into force in to the one under way."""

    period: str
    start: dt.date | None = Field(None, description="the first day judged: the period's, or the day the document "
                                                    "came into force if later")
    end: dt.date | None = Field(None, description="the last day judged: the period's, or the document's last day "
                                                  "in force if earlier")
    complete: bool = Field(description="the period has ended by as_of")
    partial: bool = Field(False, description="the document covers only part of the period")
    judged: bool = Field(True, description="false: a partial period the quota's reading (quota.partial) does not "
                                           "judge")
    status: Status | None = Field(None, description="met or violated (complete), undetermined (complete, count "
                                                    "unknown), not_due (under way); null when not judged")
    count: int | None
    required: float | None = Field(description="the number required in it (pro rata for a partial period read so); "
                                               "null when not judged")
    still_needed: float | None = Field(None, description="how many more by the period's end (the period under way)")
    reading: str | None = Field(None, description="a partial period: why it is read as it is (quota.partial.why)")


class InputWarning(_Result):
    """A contradiction in the input (policies/consistency.yaml), naming the fields; the answer still stands."""

    code: str
    fields: list[str]
    zh: str
    en: str


class Notice(_Result):
    """Something the reader must know beside the determinations, e.g. a document that may have lapsed."""

    code: str
    document: str
    zh: str
    en: str


class Determination(_Result):
    """One measure of one document, decided for one household or site."""

    measure_id: str
    document: str
    clause_id: str
    clause_number: str
    heading: str
    zh: str
    en: str
    subject: str
    force: str
    quote: str
    binds_household: bool
    status: Status
    owners: list[Owner]
    handler: HandlerRef | None = Field(None, description="where a household is sent for it, and why: houfu's "
                                                         "recommendation, never the text's unless basis is text")
    parameters: list[ParameterValue]
    amounts: list[Amount] = []
    condition: str | None = Field(None, description="the applicability rule in words; None when the measure has no rule")
    act: bool = Field(False, description="the measure's plain.act_if holds: a letter lists it among the actions")
    not_yet_done: bool = Field(False, description="applies, and its fulfilment test (satisfied_if) is known false: "
                                                  "what to do, not only what the text says")
    through_site: bool = Field(False, description="a site measure whose beneficiaries are the site's households "
                                                  "(reaches: households), decided for this household from its site "
                                                  "facts or its site's record: what it can expect from its site; "
                                                  "whether the site has done it is the site report's question")
    for_members: list[int] = Field([], description="0-based indexes of the members it applies to, where the rule "
                                                    "asks for some member (any_member), or, when `act`, those its "
                                                    "act_if names; empty otherwise")
    missing: list[str] = Field([], description="unknown facts that keep it undetermined (members[i].fact for members)")
    failed: list[str] = Field([], description="known tests that rule it out")
    gap: Gap | None = None
    out_of_scope: ScopeNote | None = None
    periods: list[PeriodCheck] = Field([], description="a periodic quota: every period from the document's start "
                                                        "of force to as_of, each judged (the missed ones are "
                                                        "violated), the one under way last")
    due: dt.date | None = Field(None, description="the date the text sets for it (rule.due): not yet met is "
                                                  "not_due up to and on it, violated after")
    why: list[Firing] = Field([], description="the rules that fired for it, concepts first")
    not_decidable: str | None = None
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_period_before(cls, data: Any) -> Any:
        """A report kept before quotas listed every period (a decision record) carried one ``period``."""
        if isinstance(data, dict) and "period" in data:
            data = dict(data)
            old = data.pop("period")
            if old is not None and "periods" not in data:
                data["periods"] = [old]
        return data

    @property
    def missed(self) -> list[PeriodCheck]:
        """The periods of a quota that were missed."""
        return [p for p in self.periods if p.status is Status.violated]


class Choice(_Result):
    code: str
    zh: str
    en: str


class Question(_Result):
    """A missing fact worth asking, with how many undetermined measures it bears on.

    Ranked by that number; ties go to household facts before member facts. A question gated in
    policies/vocabulary.yaml (``ask_if``) is not asked of someone it cannot concern.
    """

    fact: str
    member: int | None = Field(None, description="0-based index of the member it is about")
    entity: int | None = Field(None, description="0-based index of the business entity it is about")
    about: str | None = Field(None, description="the member's name or business's name, if known")
    number: int | None = Field(None, description="the member's or business's number, counting from 1")
    zh: str = Field("", description="the question in plain Chinese")
    en: str = Field("", description="the question in plain English")
    choices: list[Choice] = Field([], description="the answers accepted, for a yes/no or a choice question")
    decides: int


class DocumentRef(_Result):
    id: str
    title: str


class Report(_Result):
    """Every measure of the documents in force, decided for one household or site."""

    entity: str
    id: str
    jurisdiction: str
    as_of: dt.date
    documents: list[DocumentRef]
    name: str | None = Field(None, description="the household's or site's name as given in the input")
    site: str | None = Field(None, description="the household's site as given in the input (an id or a name)")
    site_facts: dict[str, str | int | bool] = Field(
        {}, description="facts taken from the record of the site the household names (policies/sites.yaml), "
                        "because the household did not give them (site_type)")
    member_names: list[str | None]
    entity_names: list[str] = Field([], description="each business entity's name (or id), in order")
    summary: dict[Status, int]
    questions: list[Question]
    determinations: list[Determination]
    notices: list[Notice] = []
    warnings: list[InputWarning] = []
    kb_version: str = Field(description="content hash of the policy folder that produced this report")
    houfu_version: str
    record_id: str | None = Field(None, description="the decision record that keeps this report, when recorded")

    def by_id(self, measure_id: str) -> Determination | None:
        return next((d for d in self.determinations if d.measure_id == measure_id), None)


class UsedConcept(_Result):
    name: str
    document: str
    clause_number: str
    quote: str


class MemberTruth(_Result):
    member: int
    name: str | None
    value: bool | None


class MemberTest(_Result):
    test: str
    concepts: list[UsedConcept]
    members: list[MemberTruth]
    #: what the test ranges over: the household's members, or the entities of a household or site; an entity test
    #: of one declared kind (entity_kind = workshop) names the kind in the vocabulary's words (帮扶车间)
    of: Literal["members", "entities"] = "members"
    kind_zh: str | None = None
    kind_en: str | None = None


class Explanation(_Result):
    """One determination, with each member tested against the rule's member conditions."""

    determination: Determination
    member_tests: list[MemberTest]
    notices: list[Notice] = []
    kb_version: str
    houfu_version: str
