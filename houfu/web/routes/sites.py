"""POST /v1/site: decide a site's obligations (kept as a decision record). Supervisors."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response

from houfu.engine.results import Report
from houfu.kb.facts import Site

from ..deps import ServiceDep, SupervisorUser, read_record, record_body

router = APIRouter(prefix="/v1", tags=["sites"])


@router.post("/site", response_model=Report, openapi_extra=record_body("site"),
             summary="Decide a site's obligations; the answer is kept as a decision record")
async def site(request: Request, user: SupervisorUser, service: ServiceDep, as_of: dt.date | None = None) -> Response:
    record, received, warnings = await read_record(request, Site, service.kb)
    return Response(service.decide_json(record, as_of, user, received, warnings), media_type="application/json")
