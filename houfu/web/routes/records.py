"""GET /v1/records/{record_id}: a decision record, as kept, by its id or any unique prefix of 8 characters or
more; GET /v1/households?q=: find a household again; GET /v1/households/{household_id}/reads: who read a
household's records, and when (supervisors). A supervisor reads every record, a caseworker their own and their
site's or team's; each read is kept."""

from __future__ import annotations

from fastapi import APIRouter, Query

from houfu.records.store import AmbiguousRecord, DecisionRecord, RecordError, RecordRead

from ..deps import CaseworkerUser, ServiceDep, StoreDep, SupervisorUser
from ..errors import BadRequest
from ..models import HouseholdSearch

router = APIRouter(prefix="/v1", tags=["records"])


@router.get("/records/{record_id}", response_model=DecisionRecord, summary="A decision record")
def record(record_id: str, user: CaseworkerUser, service: ServiceDep) -> DecisionRecord:
    """The whole id, or any prefix of 8 characters or more that starts one record only (a prefix that starts
    several is a 409 naming them)."""
    try:
        return service.read(user, record_id)
    except AmbiguousRecord as exc:
        raise BadRequest("record_id", str(exc), 409) from None
    except RecordError as exc:
        raise BadRequest("record_id", str(exc), 404) from None


@router.get("/households", response_model=HouseholdSearch, summary="Find households by id, name, member or ID number")
def households(user: CaseworkerUser, service: ServiceDep,
               q: str = Query(..., min_length=1, max_length=100,
                              description="a household id, its name, a member's name or resident ID number, or a "
                                          "record id of 8 characters or more; case, spaces and full-width "
                                          "characters do not matter")) -> HouseholdSearch:
    return HouseholdSearch(query=q, households=service.search(user, q))


# A household id may hold a "/" (a county's own numbering): the path converter takes it whole.
@router.get("/households/{household_id:path}/reads", response_model=list[RecordRead],
            summary="Who read a household's (or site's) records, when and how, newest first (supervisors)")
def reads(household_id: str, user: SupervisorUser, store: StoreDep,
          limit: int = Query(1000, ge=1, le=100_000)) -> list[RecordRead]:
    return store.reads(household_id[:200], limit)
