"""The input vocabulary: households (with members) and resettlement sites.

Every field is optional: an absent field is *unknown*, never false.  Unknown
field names are rejected (``extra="forbid"``) so a typo cannot silently become
an unknown fact.  Rules in ``policies/`` may only name facts declared here.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, StringConstraints

__all__ = ["PERIODIC_FACTS", "Entity", "Household", "record_model", "IncubatorFees", "Member", "Site", "ThreeHaves", "fact_paths"]

Year = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
Quarter = Annotated[str, StringConstraints(pattern=r"^\d{4}-Q[1-4]$")]

#: Facts that hold a count per period; rules judge them through ``quota``, never in a condition.
PERIODIC_FACTS = {"job_fairs": "year", "community_activities": "quarter"}

SiteType = Literal["county_seat_centralized", "town_centralized", "central_village", "scattered"]


class _Input(BaseModel):
    # Infinity and NaN are never a fact (and durable-rules cannot read them).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class IncubatorFees(_Input):
    """Actual monthly fees at the business incubator, in yuan (dingnan 四(三))."""

    property_management: float | None = Field(None, ge=0, description="物管费")
    sanitation: float | None = Field(None, ge=0, description="卫生费")
    rent: float | None = Field(None, ge=0, description="房租费")
    utilities: float | None = Field(None, ge=0, description="水电费: recorded, but not subsidised")


class Member(_Input):
    name: str | None = Field(None, description="optional; used only in briefs")
    age: int | None = Field(None, ge=0, le=130, description="完整周岁")
    sex: Literal["female", "male"] | None = None
    labor_capacity: Literal["full", "partial", "none"] | None = Field(
        None, description="劳动能力; record `none` for children under 16")
    employed: bool | None = None
    employment: Literal["none", "local_enterprise", "workshop", "public_welfare_post",
                        "outside_county", "self_employed"] | None = None
    wants_job: Literal["none", "local", "outside_county"] | None = None
    wants_training: bool | None = None
    trainings_this_year: int | None = Field(None, ge=0)
    school_stage: Literal["none", "preschool", "primary", "junior_middle", "senior_high"] | None = None
    disability: bool | None = None
    severe_disability: bool | None = Field(None, description="重度残疾 (assessed grade 1 or 2): the nursing subsidy's test")
    meets_disability_living_subsidy_conditions: bool | None = Field(
        None, description="符合困难残疾人生活补贴条件, as the civil affairs office assesses it")
    meets_destitute_support_conditions: bool | None = Field(
        None, description="符合特困人员救助供养条件 (no ability to work, no income, no one legally bound to support)")
    serious_illness: bool | None = None
    left_behind: bool | None = Field(None, description="留守 (left-behind woman, child or elder)")
    lives_alone_elderly: bool | None = Field(None, description="空巢老人")
    unsupported_child: bool | None = Field(None, description="事实无人抚养儿童")
    refused_school_place: bool | None = Field(
        None, description="a school has refused this child a place (dingnan 三(一) forbids refusal for lack of hukou)")
    recognized_employment_difficulty: bool | None = Field(None, description="认定为就业困难人员")
    wants_to_start_business: bool | None = None


class Entity(_Input):
    """A business of the household (入驻实体, dingnan 四(三)): the subsidy is paid once per entity."""

    id: str = Field(description="the entity's own id or registered name; every output names it")
    name: str | None = Field(None, description="shown in letters, e.g. 建华家政服务部")
    owners: list[Annotated[int, Field(ge=1)]] = Field(
        default=[], description="the household members who run it, numbered from 1 as in the members list")
    in_incubator: bool | None = Field(None, description="入驻创业孵化基地")
    monthly_incubator_fees_yuan: IncubatorFees | None = None
    months_subsidized_before_quarter: int | None = Field(None, ge=0, description="months already subsidised")


class Household(_Input):
    id: str
    name: str | None = Field(None, description="how a letter addresses the household, e.g. 钟建华户; the id if absent")
    site: str | None = Field(None, description="the household's site: an id or name from policies/sites.yaml, "
                                              "or a site's name as written (its window is then 'not yet recorded')")
    jurisdiction: str | None = Field(None, description="dingnan, shiyan, a county under 十堰市, a Chinese name or a division code")
    site_type: SiteType | None = None
    site_population: int | None = Field(None, ge=0, description="people at the household's site")
    category: Literal["registered_poor", "co_relocated"] | None = None
    hukou_at_site: bool | None = None
    wants_hukou_transfer: bool | None = None
    has_contracted_land_at_origin: bool | None = None
    enrolled_medical_insurance: bool | None = None
    enrolled_pension: bool | None = None
    receives_dibao: bool | None = None
    meets_dibao_conditions: bool | None = None
    meets_housing_security_conditions: bool | None = Field(None, description="符合城镇住房保障条件的住房困难家庭")
    meets_medical_insurance_conditions: bool | None = Field(
        None, description="符合条件 for basic medical insurance under the insurance rules (dingnan 三(三); shiyan 12 应保尽保)")
    meets_pension_conditions: bool | None = Field(
        None, description="符合条件 for basic pension insurance under the insurance rules (age, contributions)")
    special_resettlement_arrangement: bool | None = Field(
        None, description="the home is under a 特殊安置方式 (special arrangement), the exception in shiyan 11")
    monitored_for_relapse: bool | None = None
    sudden_hardship: bool | None = None
    has_property_certificate: bool | None = None
    wants_to_sell_house: bool | None = None
    site_has_workshop: bool | None = None
    members: list[Member] | None = None
    entities: list[Entity] | None = Field(None, description="the household's businesses; absent is unknown, [] is none")


class ThreeHaves(_Input):
    institution: bool | None = Field(None, description="有机构")
    staff: bool | None = Field(None, description="有人员")
    rules: bool | None = Field(None, description="有制度")


class Site(_Input):
    id: str
    name: str | None = None
    jurisdiction: str | None = None
    site_type: SiteType | None = None
    size_class: Literal["large", "medium", "small"] | None = Field(
        None, description="the county's declared 大/中/小型 class; the texts define only 800+ as large")
    population: int | None = Field(None, ge=0, description="people, not households")
    households: int | None = Field(None, ge=0)
    employed_count: int | None = Field(None, ge=0)
    employed_2020_baseline: int | None = Field(None, ge=0)
    workshops: int | None = Field(None, ge=0, description="就业帮扶车间 (poverty-alleviation workshops) at the site")
    workshops_newly_built: int | None = Field(
        None, ge=0, description="扶贫车间 newly built (新建) for the site since relocation, not existing ones")
    leading_industries: int | None = Field(None, ge=0)
    employment_service: Literal["center", "station", "none"] | None = None
    three_haves: ThreeHaves | None = None
    is_separate_community: bool | None = None
    has_party_members: bool | None = Field(None, description="some relocated household has a Party member (shiyan 9)")
    has_party_branch: bool | None = None
    has_party_group: bool | None = None
    has_police_room: bool | None = None
    has_employment_service_window: bool | None = None
    has_first_secretary_and_work_team: bool | None = None
    job_fairs: dict[Year, NonNegativeInt] | None = Field(
        None, description="job-fair and career-guidance events held, per calendar year: {\"2025\": 2}")
    community_activities: dict[Quarter, NonNegativeInt] | None = Field(
        None, description="community activities held, per quarter: {\"2025-Q4\": 1}")


def record_model(raw: object) -> type[Household] | type[Site]:
    """A household or a site, by which model's field names the raw record's keys fit better."""
    keys = set(raw) if isinstance(raw, dict) else set()
    fits_site = len(keys - set(Site.model_fields)) < len(keys - set(Household.model_fields))
    return Site if fits_site else Household


_NOT_FACTS = {"id", "name", "site", "members", "entities", "jurisdiction", "owners"}


def fact_paths(model: type[BaseModel]) -> dict[str, object]:
    """Fact names a rule may test for this model, nested ones dotted, with their types."""
    out: dict[str, object] = {}
    for name, field in model.model_fields.items():
        if name in _NOT_FACTS or name in PERIODIC_FACTS:
            continue
        ann = field.annotation
        inner = [a for a in get_args(ann) if a is not type(None)] if get_origin(ann) else [ann]
        sub = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if sub:
            for k, v in fact_paths(sub).items():
                out[f"{name}.{k}"] = v
        else:
            out[name] = ann
    return out
