"""The published shapes of the JSON answers the library gives as plain mappings (owners, duties, one measure or
clause, the service's health). The others are the library's own models: ``Report``, ``Explanation``,
``DecisionRecord``, ``ScreenRecord`` and the ``ScreenSummary`` that ``houfu screen --json`` also writes.

Each is validated from the library's mapping and answered with ``response_model_exclude_unset``, so the JSON is
the mapping as the library built it, key for key; the model adds the schema and the check.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from houfu.kb.models import Concept, Measure, Repair, Responsibility
from houfu.records.store import HouseholdHit

__all__ = ["ClauseView", "DutiesAnswer", "Health", "HouseholdSearch", "ItemView", "MeasureView", "OwnersAnswer"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Owner(_Answer):
    """A body that answers for a measure or clause, and how (lead, shared, named, implicit)."""

    id: str
    name: str = Field(description="as the text writes it")
    role: str
    en: str


class MatchHandler(_Answer):
    """The office a household is sent to for the measure: named by the text (basis ``text``, with its words) or
    houfu's reading by duty (basis ``duty``, with the reason)."""

    id: str
    name: str
    en: str
    basis: Literal["text", "duty"]
    reason: str
    text: str | None = None


class OwnerMatch(_Answer):
    id: str = Field(description="the measure or clause matched")
    clause_number: str
    why: str
    text: str
    owners: list[Owner] | Literal["no owner named in the text"]
    handler: MatchHandler | None = None


class DepartmentRoles(_Answer):
    id: str
    name: str
    en: str
    roles: dict[str, int] = Field(description="how many of the matches the body answers for, by role")


class DocumentOwners(_Answer):
    departments: list[DepartmentRoles]
    matches: list[OwnerMatch]


class OwnersAnswer(_Answer):
    """GET /v1/owners: who owns the measures matching an id, a topic or a word, per document."""

    query: str
    matched_by: str
    documents: dict[str, DocumentOwners]


class Duty(_Answer):
    kind: Literal["measure"]
    id: str
    clause_number: str
    heading: str
    measures: list[str]
    text: str


class Successor(_Answer):
    id: str
    name: str
    en: str


class DutiesAnswer(_Answer):
    """GET /v1/duties/{department}: everything a body answers for, by document, role and topic."""

    id: str
    name: str
    full_name: str
    en: str
    jurisdiction: str | None
    successor: Successor | None
    note: str | None
    documents_loaded: int
    documents: dict[str, dict[str, dict[str, list[Duty]]]] = Field(description="document -> role -> topic -> duties")


class MeasureOwner(_Answer):
    id: str
    name: str
    role: str


_CLAUSE_OF_MEASURE = ("kind", "document", "clause_number", "clause_id", "clause_text", "owners")


class MeasureView(Measure):
    """GET /v1/measures/{id} for a measure: the measure as the knowledge base keeps it (no field that is None,
    as ``houfu kb show`` writes it), after its clause."""

    kind: Literal["measure"]
    document: str
    clause_number: str
    clause_id: str
    clause_text: str
    owners: list[MeasureOwner]

    _measure: Measure | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, item: dict[str, Any], measure: Measure) -> MeasureView:
        """``houfu.kb.query.show``'s mapping of a measure, over the measure as loaded (that mapping leaves out
        None, so it cannot be read back through the model)."""
        view = cls.model_construct(**dict(measure), **{k: item[k] for k in _CLAUSE_OF_MEASURE[:-1]},
                                   owners=[MeasureOwner.model_validate(o) for o in item["owners"]])
        view._measure = measure
        return view

    @model_serializer(mode="wrap")
    def _as_shown(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        own = (self._measure.model_dump(mode="json", exclude_none=True, by_alias=True) if self._measure is not None
               else _without_none({k: v for k, v in data.items() if k not in _CLAUSE_OF_MEASURE}))
        return {**{k: data[k] for k in _CLAUSE_OF_MEASURE}, **own}


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


class ClauseMeasure(_Answer):
    id: str
    zh: str
    en: str
    force: str
    subject: str
    quote: str
    note: str | None
    rule: bool = Field(description="whether a rule decides it")
    not_decidable: str | None


class ClauseView(_Answer):
    """GET /v1/measures/{id} for a clause: its text, responsibility list, repairs, concepts and measures."""

    kind: Literal["clause"]
    document: str
    id: str
    number: str
    heading: str
    text: str
    responsibility: Responsibility | None
    named: list[str]
    repairs: list[Repair]
    concepts: list[Concept]
    measures: list[ClauseMeasure]


#: One measure or clause, told apart by ``kind``.
ItemView = Annotated[MeasureView | ClauseView, Field(discriminator="kind")]


class Health(_Answer):
    """GET /healthz: up, with the knowledge base served and whether the database answers (503 if not)."""

    status: Literal["ok", "database unavailable"]
    kb_version: str
    houfu_version: str
    database: Literal["ok", "down"]
    records: int | None = None  # decision records in the hash chain
    chain_head: str | None = None  # the hash of the newest (``houfu records verify`` walks the chain to it)


class HouseholdSearch(_Answer):
    """The households (and sites) a search found among those the user may read, the most recently decided first."""

    query: str
    households: list[HouseholdHit]
