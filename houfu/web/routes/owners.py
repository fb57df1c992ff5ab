"""GET /v1/owners, /v1/duties/{department} and /v1/measures/{measure_id}: who owns what, a department's duties
(supervisors), and one measure or clause as the knowledge base keeps it."""

from __future__ import annotations

from fastapi import APIRouter, Query

import houfu
from houfu.kb.loader import KBError
from houfu.kb.query import show

from ..deps import CaseworkerUser, KbDep, SupervisorUser
from ..errors import BadRequest
from ..models import ClauseView, DutiesAnswer, ItemView, MeasureView, OwnersAnswer

router = APIRouter(prefix="/v1", tags=["owners and duties"])


@router.get("/owners", response_model=OwnersAnswer, response_model_exclude_unset=True,
            summary="Who owns the measures matching a word or topic")
def owners(user: CaseworkerUser, kb: KbDep, q: str = Query(..., min_length=1, max_length=100)) -> OwnersAnswer:
    return OwnersAnswer.model_validate(houfu.owners(q, kb=kb))


@router.get("/duties/{department}", response_model=DutiesAnswer, response_model_exclude_unset=True,
            summary="A department's duties, by document and role")
def duties(department: str, user: SupervisorUser, kb: KbDep,
           jurisdiction: str | None = Query(None, max_length=100)) -> DutiesAnswer:
    try:
        return DutiesAnswer.model_validate(houfu.duties(department[:100], jurisdiction=jurisdiction, kb=kb))
    except KBError as exc:
        raise BadRequest("department", exc.message, 404) from None


@router.get("/measures/{measure_id}", response_model=ItemView, response_model_exclude_unset=True,
            summary="One measure: its text, quote, owners and rule")
def measure(measure_id: str, user: CaseworkerUser, kb: KbDep) -> MeasureView | ClauseView:
    try:
        item = show(kb, measure_id[:100])
    except KBError as exc:
        raise BadRequest("measure_id", exc.message, 404) from None
    if item["kind"] == "measure":
        return MeasureView.of(item, kb.measures[item["id"]])
    return ClauseView.model_validate(item)
