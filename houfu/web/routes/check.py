"""POST /v1/check and /v1/explain: decide a household (kept as a decision record), or say why one measure has
its status. Caseworkers and supervisors."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Request, Response

from houfu.engine.results import Explanation, Report
from houfu.kb.facts import Household
from houfu.kb.loader import FieldError

from ..deps import CaseworkerUser, ServiceDep, read_record, record_body
from ..errors import BadRequest

router = APIRouter(prefix="/v1", tags=["households"])


@router.post("/check", response_model=Report, openapi_extra=record_body("household"),
             summary="Decide a household; the answer is kept as a decision record")
async def check(request: Request, user: CaseworkerUser, service: ServiceDep, as_of: dt.date | None = None) -> Response:
    # The report's JSON as the record keeps it, with its id: not serialised again (response_model: the schema)
    record, received, warnings = await read_record(request, Household, service.kb)
    return Response(service.decide_json(record, as_of, user, received, warnings), media_type="application/json")


@router.post("/explain", response_model=Explanation, openapi_extra=record_body("household"),
             summary="Why one measure has its status")
async def explain(request: Request, user: CaseworkerUser, service: ServiceDep,
                  measure: str = Query(..., max_length=100), as_of: dt.date | None = None) -> Explanation:
    record, _, _ = await read_record(request, Household, service.kb)
    try:
        return service.evaluator.explain(record, measure, as_of)
    except FieldError as exc:
        raise BadRequest(exc.field, exc.message) from None
