"""GET /v1/records/{record_id}: a decision record, as kept. A supervisor reads every one, a caseworker their
own and their site's or team's; each read is kept. GET /v1/households/{household_id}/reads: who read a
household's records, and when (supervisors)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from houfu.records.store import DecisionRecord, RecordError, RecordRead

from ..deps import CaseworkerUser, ServiceDep, StoreDep, SupervisorUser
from ..errors import BadRequest

router = APIRouter(prefix="/v1", tags=["records"])


@router.get("/records/{record_id}", response_model=DecisionRecord, summary="A decision record")
def record(record_id: str, user: CaseworkerUser, service: ServiceDep) -> DecisionRecord:
    try:
        return service.read(user, record_id)
    except RecordError as exc:
        raise BadRequest("record_id", str(exc), 404) from None


# A household id may hold a "/" (a county's own numbering): the path converter takes it whole.
@router.get("/households/{household_id:path}/reads", response_model=list[RecordRead],
            summary="Who read a household's (or site's) records, when and how, newest first (supervisors)")
def reads(household_id: str, user: SupervisorUser, store: StoreDep,
          limit: int = Query(1000, ge=1, le=100_000)) -> list[RecordRead]:
    return store.reads(household_id[:200], limit)
