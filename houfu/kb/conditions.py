"""Rule conditions as a typed tree, and the one dispatch every consumer shares.

A condition in ``clauses.yaml`` is a mapping with exactly one *form* key::

    {fact: age, ge: {param: sy.4.min_age}}        # Fact: one comparison
    {fact: station_completed_on, le: {deadline: xf.2.4.service_station_due}}   # a date with a deadline
    {fact: birth_date, lt: 2010-09-01}             # a date with a date (YAML reads it as one)
    {all: [...]}, {any: [...]}, {not: {...}}       # AllOf, AnyOf, Not
    {any_member: {...}}, {all_members: {...}}      # AnyMember, AllMembers (households)
    {any_entity: {...}}, {all_entities: {...}}     # AnyEntity, AllEntities (a household's businesses)
    {concept: sy_large_site}                       # ConceptIs: a derived fact of the entity
    {member_concept: sy_working_age_able}          # MemberConceptIs: inside a member quantifier

Two more classes are built by houfu, never written: ``Gated`` and ``GatedOpen``, a test of a fact joined to the
fact's ask_if gate (engine.program). They are an all-of and an any-of, and every consumer treats them as one.

Each form is its own class; ``Condition`` is their discriminated union.  Everything
that reads a condition (validation, the reference evaluator, missing facts, failed
tests, descriptions, the durable-rules compiler) implements ``ConditionVisitor`` and
goes through ``visit``: one exhaustive ``match``, checked by mypy, so a new form cannot
be forgotten anywhere, and an unknown form is an error at load time, never a fallback.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator
from enum import Enum
from functools import cached_property
from typing import Annotated, Generic, TypeVar, Union, assert_never

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = [
    "ENTITIES", "MEMBERS", "AllEntities", "AllMembers", "AllOf", "AnyEntity", "AnyMember", "AnyOf", "Assumed",
    "ConceptIs", "Condition", "ConditionVisitor", "DeadlineRef", "QuantifierVisitor",
    "Fact", "FactRef", "Gated", "GatedOpen", "MemberConceptIs", "Not", "Op", "ParamRef", "Value", "children",
    "visit", "walk",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, defer_build=True)


class ParamRef(_Strict):
    """A number taken from a measure's parameter; ``times`` converts units (3 years x 12 = 36 months)."""

    param: str
    times: float = 1


class FactRef(_Strict):
    """Compare with another input fact of the same entity (e.g. the end-2020 employment level)."""

    fact_ref: str


class Assumed(_Strict):
    """A number the text does not give, used openly with its reason (e.g. 儿童 read as under 18)."""

    assumed: float
    why: str


class DeadlineRef(_Strict):
    """Compare a date fact with a date the text sets (a deadline of the documents, ``document.yaml``)."""

    deadline: str


#: A date compares only with a date fact: a date (2024-07-01), a deadline or another date fact.
Value = bool | int | float | str | ParamRef | FactRef | Assumed | DeadlineRef | dt.date


class Op(str, Enum):
    eq = "eq"
    ne = "ne"
    ge = "ge"
    gt = "gt"
    le = "le"
    lt = "lt"
    in_ = "in"


_OP_FIELDS = ("eq", "ne", "ge", "gt", "le", "lt", "in_")


class Fact(_Strict):
    """One comparison of an input fact: exactly one of eq ne ge gt le lt in."""

    fact: str
    eq: Value | None = None
    ne: Value | None = None
    ge: Value | None = None
    gt: Value | None = None
    le: Value | None = None
    lt: Value | None = None
    in_: list[str] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _one_operator(self) -> Fact:
        ops = [o for o in _OP_FIELDS if getattr(self, o) is not None]
        if len(ops) != 1:
            raise ValueError(f"condition on fact {self.fact!r} needs exactly one operator of "
                             f"eq ne ge gt le lt in; got {len(ops)}")
        return self

    # Computed once per node, not on every evaluation (the hot path reads them per household).
    @cached_property
    def _operator(self) -> str:
        return next(o for o in _OP_FIELDS if getattr(self, o) is not None)

    @cached_property
    def op(self) -> Op:
        return Op(self._operator.rstrip("_"))

    @cached_property
    def value(self) -> Value | list[str]:
        v: Value | list[str] = getattr(self, self._operator)
        return v


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1)


class Not(_Strict):
    not_: Condition = Field(alias="not")


class AnyMember(_Strict):
    """Some household member satisfies the inner (member-level) condition."""

    any_member: Condition


class AllMembers(_Strict):
    """Every household member satisfies the inner (member-level) condition."""

    all_members: Condition


class AnyEntity(_Strict):
    """Some business entity of the household (e.g. one in the incubator) satisfies the inner condition."""

    any_entity: Condition


class AllEntities(_Strict):
    """Every business entity of the household satisfies the inner condition."""

    all_entities: Condition


class ConceptIs(_Strict):
    """A derived fact of the same entity (e.g. a large site) has ``value``."""

    concept: str
    value: bool = True


class MemberConceptIs(_Strict):
    """A member-level derived fact has ``value``; only inside any_member or all_members."""

    member_concept: str
    value: bool = True


_FORMS: dict[str, type[BaseModel]] = {
    "fact": Fact, "all": AllOf, "any": AnyOf, "not": Not, "any_member": AnyMember,
    "all_members": AllMembers, "any_entity": AnyEntity, "all_entities": AllEntities, "concept": ConceptIs,
    "member_concept": MemberConceptIs,
}
_TAGS = {cls: tag for tag, cls in _FORMS.items()}


def _form_of(raw: object) -> str | None:
    """The form key of a raw mapping (or the tag of a built node); None if not exactly one."""
    if isinstance(raw, BaseModel):
        return _TAGS.get(type(raw))
    if not isinstance(raw, dict):
        return None
    forms = [k for k in _FORMS if k in raw]
    return forms[0] if len(forms) == 1 else None


Condition = Annotated[
    Union[
        Annotated[Fact, Tag("fact")], Annotated[AllOf, Tag("all")], Annotated[AnyOf, Tag("any")],
        Annotated[Not, Tag("not")], Annotated[AnyMember, Tag("any_member")],
        Annotated[AllMembers, Tag("all_members")], Annotated[AnyEntity, Tag("any_entity")],
        Annotated[AllEntities, Tag("all_entities")], Annotated[ConceptIs, Tag("concept")],
        Annotated[MemberConceptIs, Tag("member_concept")],
    ],
    Discriminator(
        _form_of, custom_error_type="condition_form",
        custom_error_message="a condition needs exactly one of fact, all, any, not, any_member, "
                             "all_members, any_entity, all_entities, concept, member_concept"),
]

class Gated(AllOf):
    """``all: [gate, test]``: a test of a fact with an ``ask_if`` gate (policies/vocabulary.yaml), as houfu
    compiles it (``engine.program``); rule files never write it.

    A fact is never asked of someone its gate excludes (a child's job wishes), so a test of it holds only
    where the gate is known true, and is false where the gate is known false: the measure then does not
    apply, with the gate's reason, instead of waiting on a question that will never be put. It *is* an
    all-of: every evaluator decides it as one, so they agree by construction; only explanations tell it apart,
    to name the gate and its ``why``.
    """

    fact: str
    why: str
    asked_if: Condition = Field(description="the gate as the vocabulary writes it, for reasons given to people")

    @property
    def gate(self) -> Condition:
        return self.all[0]

    @property
    def test(self) -> Condition:
        return self.all[-1]


class GatedOpen(AnyOf):
    """``any: [not gate, test]``: a gated test that holds for someone the gate excludes, because the value
    outside the gate makes it true (``labor_capacity ≠ full`` for a child, whose capacity is ``none``, or any
    ``ne`` test, since an unasked fact equals nothing). An any-of everywhere, like ``Gated`` an all-of."""

    fact: str
    why: str
    asked_if: Condition

    @property
    def gate(self) -> Condition:
        first = self.any[0]
        assert isinstance(first, Not)
        return first.not_

    @property
    def test(self) -> Condition:
        return self.any[-1]


# No model_rebuild() here: the forms are built on their first validation (defer_build), when ``Condition`` is
# defined; a KB read from the cache (houfu.kb.cache) validates none of them.
# A built gate validates where a condition is expected: as the all-of (any-of) it is.
_TAGS[Gated] = "all"
_TAGS[GatedOpen] = "any"

T = TypeVar("T")

#: The collection a quantifier ranges over; walk() reports it for every node inside.
MEMBERS = "members"
ENTITIES = "entities"


class ConditionVisitor(ABC, Generic[T]):
    """One method per form; ``visit`` calls the right one."""

    @abstractmethod
    def fact(self, c: Fact) -> T: ...

    @abstractmethod
    def all_of(self, c: AllOf) -> T: ...

    @abstractmethod
    def any_of(self, c: AnyOf) -> T: ...

    @abstractmethod
    def not_(self, c: Not) -> T: ...

    @abstractmethod
    def any_member(self, c: AnyMember) -> T: ...

    @abstractmethod
    def all_members(self, c: AllMembers) -> T: ...

    @abstractmethod
    def any_entity(self, c: AnyEntity) -> T: ...

    @abstractmethod
    def all_entities(self, c: AllEntities) -> T: ...

    @abstractmethod
    def concept(self, c: ConceptIs) -> T: ...

    @abstractmethod
    def member_concept(self, c: MemberConceptIs) -> T: ...


def visit(cond: Condition, visitor: ConditionVisitor[T]) -> T:
    """The one dispatch on condition forms."""
    match cond:
        case Fact():
            return visitor.fact(cond)
        case AllOf():
            return visitor.all_of(cond)
        case AnyOf():
            return visitor.any_of(cond)
        case Not():
            return visitor.not_(cond)
        case AnyMember():
            return visitor.any_member(cond)
        case AllMembers():
            return visitor.all_members(cond)
        case AnyEntity():
            return visitor.any_entity(cond)
        case AllEntities():
            return visitor.all_entities(cond)
        case ConceptIs():
            return visitor.concept(cond)
        case MemberConceptIs():
            return visitor.member_concept(cond)
        case _:
            assert_never(cond)


Within = str | None
Child = tuple[Condition, Within]


class QuantifierVisitor(ConditionVisitor[T]):
    """A visitor that treats the four quantifiers alike: some or every item of the members or entities."""

    @abstractmethod
    def quantified(self, collection: str, every: bool, inner: Condition) -> T: ...

    def any_member(self, c: AnyMember) -> T:
        return self.quantified(MEMBERS, False, c.any_member)

    def all_members(self, c: AllMembers) -> T:
        return self.quantified(MEMBERS, True, c.all_members)

    def any_entity(self, c: AnyEntity) -> T:
        return self.quantified(ENTITIES, False, c.any_entity)

    def all_entities(self, c: AllEntities) -> T:
        return self.quantified(ENTITIES, True, c.all_entities)


class _Children(QuantifierVisitor[list[Child]]):
    """The direct sub-conditions, each with the collection it ranges over if it enters a quantifier."""

    def fact(self, c: Fact) -> list[Child]:
        return []

    def all_of(self, c: AllOf) -> list[Child]:
        return [(x, None) for x in c.all]

    def any_of(self, c: AnyOf) -> list[Child]:
        return [(x, None) for x in c.any]

    def not_(self, c: Not) -> list[Child]:
        return [(c.not_, None)]

    def quantified(self, collection: str, every: bool, inner: Condition) -> list[Child]:
        return [(inner, collection)]

    def concept(self, c: ConceptIs) -> list[Child]:
        return []

    def member_concept(self, c: MemberConceptIs) -> list[Child]:
        return []


_CHILDREN = _Children()


def children(cond: Condition) -> list[Child]:
    return visit(cond, _CHILDREN)


def walk(cond: Condition | None, within: Within = None) -> Iterator[tuple[Condition, Within]]:
    """Every node of a condition, top first, with the collection (members, entities) it sits inside, if any."""
    if cond is None:
        return
    yield cond, within
    for child, enters in children(cond):
        yield from walk(child, enters or within)
