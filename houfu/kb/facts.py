"""The input vocabulary: households (with members and businesses) and resettlement sites.

Only a record's identity is Python: ids, names, the site and jurisdiction, and the lists of members and
businesses.  Every fact a rule may test is declared as data (``policies/vocabulary.yaml``, and a
document's own ``vocabulary.yaml`` for local facts), and ``build_models`` turns the declarations into
pydantic models, one set per knowledge base (``KB.models``).

Every fact is optional: an absent field is *unknown*, never false.  Unknown field names are rejected
(``extra="forbid"``) so a typo cannot silently become an unknown fact.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import GenericAlias, MappingProxyType
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from .models import ENTITY_KIND, FactGroup, FactLabel, RecordDecl, RecordKind

__all__ = ["Entity", "FactDate", "FieldValueError", "Household", "Member", "RecordModels", "Site", "build_models",
           "fact_paths", "is_date", "parse_date"]

# ASCII digits only: Python's \d also matches full-width and other scripts' digits (２０２５), which would pass
# the pattern and then never match the period a rule looks up.
Year = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
Quarter = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-Q[1-4]$")]
_PERIOD_KEYS: dict[str, Any] = {"year": Year, "quarter": Quarter}

#: How a date may be written in an input: 2024-07-01 (ISO; YAML reads it as a date), 2024/7/1, 2024.7.1,
#: 20240701, 2024年7月1日, or a spreadsheet's date and time (2024-07-01 00:00:00), whose time is dropped.
_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]$"),
)
DATE_EXAMPLE = "2024-07-01 or 2024年7月1日"


def parse_date(value: object) -> dt.date:
    """A date fact from an input: a date (YAML, a spreadsheet), or text in one of the forms above.

    A number is refused, never read as a timestamp or a spreadsheet's day count: 19660508 and 24235 are both
    numbers a registry might hold, and only the text says which it means. Raises ValueError saying why."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a date is written as text, e.g. {DATE_EXAMPLE}")
    text = value.strip()
    for form in _DATE_FORMS:
        found = form.match(text)
        if found:
            y, m, d = (int(g) for g in found.groups())
            try:
                return dt.date(y, m, d)
            except ValueError:
                raise ValueError(f"{text!r} is not a day of the calendar") from None
    raise ValueError(f"{text!r} is not a date; write it as {DATE_EXAMPLE}")


#: A date fact: a date, or text parsed by ``parse_date`` (also in strict mode, where pydantic takes only dates).
FactDate = Annotated[dt.date, BeforeValidator(parse_date)]


def is_date(ann: Any) -> bool:
    """Whether a field's type (optional or not) is a date fact."""
    options = [a for a in get_args(ann) if a is not type(None)] if get_origin(ann) is not Annotated else [ann]
    for a in options or [ann]:
        if a is dt.date or (get_origin(a) is Annotated and get_args(a)[0] is dt.date):
            return True
    return False


_SCALARS: dict[str, Any] = {"boolean": bool, "integer": int, "number": float, "text": str, "date": FactDate}


class FieldValueError(ValueError):
    """A record-level check that names the field it concerns (``entities[1].owners``)."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


class _Input(BaseModel):
    # Infinity and NaN are never a fact (and durable-rules cannot read them).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Member(_Input):
    """One household member; the facts come from the vocabulary (``on: member``)."""

    name: str | None = Field(None, description="optional; used only in briefs")
    id_number: str | None = Field(
        None, exclude=True, description="the member's resident ID number (身份证号), to find the household again "
                                        "by: never kept, only its keyed hash; not a fact any rule reads")

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        folded = "".join(unicodedata.normalize("NFKC", value).split()).upper()
        if not re.fullmatch(r"\d{17}[\dX]|\d{15}", folded):
            raise ValueError("a resident ID number has 18 characters (17 digits and a digit or X) or 15 digits")
        return folded


class Entity(_Input):
    """A business of the household (入驻实体, dingnan 四(三)): the subsidy is paid once per entity."""

    id: str = Field(description="the entity's own id or registered name; every output names it")
    name: str | None = Field(None, description="shown in letters, e.g. 建华家政服务部")
    owners: list[Annotated[int, Field(ge=1)]] = Field(
        default=[], description="the household members who run it, numbered from 1 as in the members list")


class Household(_Input):
    """A relocated household; the facts come from the vocabulary (``on: household``)."""

    id: str
    name: str | None = Field(None, description="how a letter addresses the household, e.g. 钟建华户; the id if absent")
    site: str | None = Field(None, description="the household's site: an id or name from policies/sites.yaml, "
                                              "or a site's name as written (its window is then 'not yet recorded')")
    jurisdiction: str | None = Field(None, description="dingnan, shiyan, a county under 十堰市, a Chinese name or a division code")
    members: list[Member] | None = None
    entities: list[Entity] | None = Field(None, description="the household's businesses; absent is unknown, [] is none")

    @model_validator(mode="after")
    def _businesses(self) -> Household:
        """Each business is paid once (每个入驻实体, dingnan 四(三)), so its id is unique; its owners are members."""
        seen: dict[str, int] = {}
        for i, entity in enumerate(self.entities or []):
            if entity.id in seen:
                raise FieldValueError(f"entities[{i}].id", f"{entity.id!r} is also the id of entities[{seen[entity.id]}]"
                                                           "; each business is listed once")
            seen[entity.id] = i
            if self.members is not None:
                for owner in entity.owners:
                    if owner > len(self.members):
                        raise FieldValueError(f"entities[{i}].owners", f"member {owner} is not in the household "
                                                                       f"({len(self.members)} members, numbered "
                                                                       "from 1)")
        return self


class Site(_Input):
    """A resettlement site; the facts come from the vocabulary (``on: site``)."""

    id: str
    name: str | None = None
    jurisdiction: str | None = None


_BASES: dict[RecordKind, type[_Input]] = {"household": Household, "member": Member, "entity": Entity, "site": Site}


@dataclass(frozen=True, eq=False)
class RecordModels:
    """The input models one knowledge base accepts, built from its vocabulary."""

    household: type[Household]
    member: type[Member]
    entity: type[Entity]
    site: type[Site]
    #: Facts that hold a count per period; rules judge them through ``quota``, never in a condition.
    periodic: Mapping[str, str]
    #: The record kinds the vocabularies declare (a workshop), each carried as a household's entity.
    records: Mapping[str, RecordDecl] = field(default_factory=lambda: MappingProxyType({}))
    #: An entity fact of one declared kind -> the kind (workshop_workers -> workshop).
    kind_of: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    _paths: dict[str, dict[str, object]] = field(default_factory=dict, repr=False)
    #: what the models were built from (``build_models``'s arguments): a pickled KB (``houfu.kb.cache``) carries
    #: these and builds the models again, since a class made by ``create_model`` cannot be pickled
    source: tuple[tuple[FactLabel, ...], tuple[FactGroup, ...], Mapping[str, RecordDecl]] = field(
        default=((), (), MappingProxyType({})), repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        facts, groups, records = self.source
        return build_models, (facts, groups, dict(records))

    def of(self, kind: str) -> type[BaseModel]:
        """The model of a household, member, entity or site."""
        models: dict[str, type[BaseModel]] = {"household": self.household, "member": self.member,
                                              "entity": self.entity, "site": self.site}
        return models[kind]

    def record(self, kind: str) -> type[Household] | type[Site]:
        """The model of a top-level record: a site, or a household."""
        return self.site if kind == "site" else self.household

    def paths(self, kind: str) -> dict[str, object]:
        """Fact names a rule may test on this kind of record, nested ones dotted, with their types."""
        if kind not in self._paths:
            self._paths[kind] = fact_paths(self.of(kind), self.periodic)
        return self._paths[kind]

    def record_model(self, raw: object) -> type[Household] | type[Site]:
        """A household or a site, by which model's field names the raw record's keys fit better."""
        keys = set(raw) if isinstance(raw, dict) else set()
        off_site, off_household = len(keys - set(self.site.model_fields)), len(keys - set(self.household.model_fields))
        if off_site == off_household and isinstance(raw, dict) and isinstance(raw.get("entities"), list):
            # Both list entities (a kind is linked to sites): the kinds listed say whose records they are.
            at_site = {k for k, d in self.records.items() if d.within == "site"}
            at_site |= {self.records[k].zh for k in at_site}
            if any(isinstance(e, dict) and e.get(ENTITY_KIND) in at_site for e in raw["entities"]):
                return self.site
        return self.site if off_site < off_household else self.household


def _annotation(fact: FactLabel) -> tuple[Any, Any]:
    """The field's type and its ``Field`` (bounds and description), from the declaration."""
    constraints: dict[str, Any] = {}
    if fact.minimum is not None:
        constraints["ge"] = int(fact.minimum) if fact.type == "integer" else fact.minimum
    if fact.maximum is not None:
        constraints["le"] = int(fact.maximum) if fact.type == "integer" else fact.maximum
    if fact.type == "code":
        kind: Any = Literal[tuple(fact.labels)]
    elif fact.type == "per_period":
        assert fact.period is not None  # FactLabel's validator
        kind = GenericAlias(dict, (_PERIOD_KEYS[fact.period], NonNegativeInt))
    else:
        kind = _SCALARS[fact.type]
    return kind | None, Field(None, description=fact.description, **constraints)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _kind_check(kind_of: Mapping[str, str], records: Mapping[str, RecordDecl]) -> Any:
    """The entity model's check that a declared kind's facts are given on an entity of that kind only."""

    def check(self: Entity) -> Entity:
        kind = getattr(self, ENTITY_KIND, None)
        for name in self.model_fields_set:
            own = kind_of.get(name)
            if own is not None and kind is not None and kind != own and getattr(self, name) is not None:
                raise FieldValueError(name, f"a fact of a {records[own].zh} ({own}), given on an entity of kind "
                                            f"{kind!r}")
        return self

    return model_validator(mode="after")(check)


def _linked_check(records: Mapping[str, RecordDecl], within: str) -> Any:
    """A household's or a site's check that each of its entities is of a kind linked to it (a kind declared
    ``within: site`` is a site's, every other a household's), listed once, and run by no member if a site's."""

    def check(self: Any) -> Any:
        seen: dict[str, int] = {}
        for i, entity in enumerate(getattr(self, "entities", None) or []):
            kind = getattr(entity, ENTITY_KIND, None)
            decl = records.get(kind) if kind is not None else None
            linked = decl.within if decl is not None else "household"  # a business is a household's
            if kind is not None and linked != within:
                raise FieldValueError(f"entities[{i}].{ENTITY_KIND}", f"a {decl.zh if decl else kind} is linked to "
                                                                      f"a {linked}, not a {within}")
            if within == "site":
                if entity.id in seen:
                    raise FieldValueError(f"entities[{i}].id", f"{entity.id!r} is also the id of entities"
                                                               f"[{seen[entity.id]}]; each record is listed once")
                seen[entity.id] = i
                if entity.owners:
                    raise FieldValueError(f"entities[{i}].owners", "a site's record is run by no household member")
        return self

    return model_validator(mode="after")(check)


def build_models(facts: Iterable[FactLabel], groups: Iterable[FactGroup] = (),
                 records: Mapping[str, RecordDecl] | None = None) -> RecordModels:
    """The input models of a vocabulary.  Raises ``ValueError`` naming the fact it cannot place."""
    facts, groups = tuple(facts), tuple(groups)
    fields: dict[RecordKind, dict[str, Any]] = {k: {} for k in _BASES}
    nested: dict[str, dict[str, Any]] = {}
    group_of = {g.id: g for g in groups}
    periodic: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    for fact in facts:
        if fact.kind is not None:
            if fact.records != ["entity"]:
                raise ValueError(f"{fact.id}: a fact of a declared record kind belongs to that kind alone")
            kind_of[fact.id] = fact.kind
        if fact.type == "list":
            continue  # members and entities: structural, typed below
        head, _, leaf = fact.id.rpartition(".")
        if head:
            group = group_of.get(head)
            if group is None or fact.records != [group.record]:
                raise ValueError(f"{fact.id}: a dotted fact needs a group {head!r} on {fact.records} under `groups:`")
            nested.setdefault(head, {})[leaf] = _annotation(fact)
            continue
        for record in fact.records:
            fields[record][fact.id] = _annotation(fact)
        if fact.period is not None:
            periodic[fact.id] = fact.period
    for gid, members in nested.items():
        group = group_of[gid]
        sub = create_model(_camel(gid), __base__=_Input, __doc__=group.description, **members)
        fields[group.record][gid] = (sub | None, Field(None, description=group.description))
    for record, base in _BASES.items():
        clash = set(fields[record]) & set(base.model_fields)
        if clash:
            raise ValueError(f"{sorted(clash)[0]}: the name is part of every {record} record, not a fact")
    member = create_model("Member", __base__=Member, __doc__=Member.__doc__, **fields["member"])
    checks = {"_kinds": _kind_check(MappingProxyType(kind_of), MappingProxyType(dict(records or {})))} \
        if kind_of else None
    entity = create_model("Entity", __base__=Entity, __doc__=Entity.__doc__, __validators__=checks,
                          **fields["entity"])
    declared = MappingProxyType(dict(records or {}))
    at_sites = [r for r in declared.values() if r.within == "site"]
    household = create_model(
        "Household", __base__=Household, __doc__=Household.__doc__, **fields["household"],
        __validators__={"_linked": _linked_check(declared, "household")} if at_sites else None,
        members=(list[member] | None, None),
        entities=(list[entity] | None, Household.model_fields["entities"]))
    if at_sites:  # a kind linked to a site (a training class a site runs): the site lists its records
        names = "、".join(r.zh for r in at_sites)
        fields["site"]["entities"] = (list[entity] | None, Field(
            None, description=f"the site's records ({names}), each with its entity_kind; absent is unknown, [] is "
                              "none"))
    site = create_model("Site", __base__=Site, __doc__=Site.__doc__, **fields["site"],
                        __validators__={"_linked": _linked_check(declared, "site")} if at_sites else None)
    return RecordModels(household=household, member=member, entity=entity, site=site,
                        periodic=MappingProxyType(periodic), records=declared,
                        kind_of=MappingProxyType(kind_of), source=(facts, groups, declared))


_NOT_FACTS = {"id", "name", "site", "members", "entities", "jurisdiction", "owners"}


def fact_paths(model: type[BaseModel], periodic: Mapping[str, str] | None = None) -> dict[str, object]:
    """Fact names a rule may test for this model, nested ones dotted, with their types."""
    out: dict[str, object] = {}
    for name, info in model.model_fields.items():
        if name in _NOT_FACTS or info.exclude or (periodic and name in periodic):
            continue
        ann = info.annotation
        inner = [a for a in get_args(ann) if a is not type(None)] if get_origin(ann) else [ann]
        sub = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if sub:
            for k, v in fact_paths(sub).items():
                out[f"{name}.{k}"] = v
        else:
            out[name] = ann
    return out
