"""GET /v1/records/{record_id}: a decision record, as kept. Caseworkers and supervisors."""

from __future__ import annotations

from fastapi import APIRouter

from houfu.records.store import DecisionRecord, RecordError

from ..deps import CaseworkerUser, StoreDep
from ..errors import BadRequest

router = APIRouter(prefix="/v1", tags=["records"])


@router.get("/records/{record_id}", response_model=DecisionRecord, summary="A decision record")
def record(record_id: str, user: CaseworkerUser, store: StoreDep) -> DecisionRecord:
    try:
        return store.get(record_id[:64])
    except RecordError as exc:
        raise BadRequest("record_id", str(exc), 404) from None
