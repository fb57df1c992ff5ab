"""Hypothesis strategies for households and sites: any field may be absent (unknown)."""

from hypothesis import strategies as st

from houfu.kb.facts import Household, Site

JURISDICTIONS = ["dingnan", "shiyan", "郧阳区", "420325"]
SITE_TYPES = ["county_seat_centralized", "town_centralized", "central_village", "scattered"]


def maybe(strategy):
    return st.one_of(st.none(), strategy)


booleans = maybe(st.booleans())
fees = st.builds(dict, property_management=maybe(st.integers(0, 6000)), sanitation=maybe(st.integers(0, 2000)),
                 rent=maybe(st.integers(0, 9000)), utilities=maybe(st.integers(0, 900)))
members = st.builds(
    dict,
    age=maybe(st.sampled_from([0, 4, 14, 15, 16, 17, 18, 30, 59, 60, 75])),
    sex=maybe(st.sampled_from(["female", "male"])),
    labor_capacity=maybe(st.sampled_from(["full", "partial", "none"])),
    employed=booleans,
    employment=maybe(st.sampled_from(["none", "local_enterprise", "workshop", "public_welfare_post",
                                      "outside_county", "self_employed"])),
    wants_job=maybe(st.sampled_from(["none", "local", "outside_county"])),
    wants_training=booleans,
    trainings_this_year=maybe(st.integers(0, 3)),
    school_stage=maybe(st.sampled_from(["none", "preschool", "primary", "junior_middle", "senior_high"])),
    disability=booleans, serious_illness=booleans, left_behind=booleans, lives_alone_elderly=booleans,
    unsupported_child=booleans, recognized_employment_difficulty=booleans, wants_to_start_business=booleans,
    in_incubator=booleans,
    incubator_entity=maybe(st.sampled_from(["a", "b"])),
    monthly_incubator_fees_yuan=maybe(fees),
    months_subsidized_before_quarter=maybe(st.sampled_from([0, 33, 34, 35, 36, 37])),
)


def _clean(d):
    return {k: (_clean(v) if isinstance(v, dict) else v) for k, v in d.items() if v is not None}


households = st.builds(
    dict,
    id=st.just("H"),
    jurisdiction=st.sampled_from(JURISDICTIONS),
    site_type=maybe(st.sampled_from(SITE_TYPES)),
    site_population=maybe(st.sampled_from([150, 199, 200, 799, 800, 3000])),
    category=maybe(st.sampled_from(["registered_poor", "co_relocated"])),
    hukou_at_site=booleans, wants_hukou_transfer=booleans, has_contracted_land_at_origin=booleans,
    enrolled_medical_insurance=booleans, enrolled_pension=booleans, receives_dibao=booleans,
    meets_dibao_conditions=booleans, meets_housing_security_conditions=booleans,
    monitored_for_relapse=booleans, sudden_hardship=booleans, has_property_certificate=booleans,
    years_since_certificate=maybe(st.sampled_from([0, 5, 19, 20, 21])), wants_to_sell_house=booleans,
    site_has_workshop=booleans,
    members=maybe(st.lists(members, max_size=4)),
).map(lambda d: Household.model_validate(
    _clean({**d, "members": None if d["members"] is None else [_clean(m) for m in d["members"]]})))

sites = st.builds(
    dict,
    id=st.just("S"),
    jurisdiction=st.sampled_from(JURISDICTIONS),
    site_type=maybe(st.sampled_from(SITE_TYPES)),
    size_class=maybe(st.sampled_from(["large", "medium", "small"])),
    population=maybe(st.sampled_from([150, 199, 200, 799, 800, 3000])),
    employed_count=maybe(st.integers(0, 50)),
    employed_2020_baseline=maybe(st.integers(0, 50)),
    workshops=maybe(st.integers(0, 2)),
    leading_industries=maybe(st.integers(0, 2)),
    employment_service=maybe(st.sampled_from(["center", "station", "none"])),
    three_haves=maybe(st.builds(dict, institution=booleans, staff=booleans, rules=booleans)),
    is_separate_community=booleans, has_party_branch=booleans, has_party_group=booleans,
    has_police_room=booleans, has_employment_service_window=booleans,
    has_first_secretary_and_work_team=booleans,
    job_fairs_this_year=maybe(st.integers(0, 3)),
    community_activities_last_quarter=maybe(st.integers(0, 2)),
).map(lambda d: Site.model_validate(_clean(d)))
