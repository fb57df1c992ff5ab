"""GET /v1/records/{record_id}: a decision record, as kept. A supervisor reads every one, a caseworker their
own and their site's or team's; each read is logged."""

from __future__ import annotations

from fastapi import APIRouter

from houfu.records.store import DecisionRecord, RecordError

from ..deps import CaseworkerUser, ServiceDep
from ..errors import BadRequest

router = APIRouter(prefix="/v1", tags=["records"])


@router.get("/records/{record_id}", response_model=DecisionRecord, summary="A decision record")
def record(record_id: str, user: CaseworkerUser, service: ServiceDep) -> DecisionRecord:
    try:
        return service.read(user, record_id)
    except RecordError as exc:
        raise BadRequest("record_id", str(exc), 404) from None
