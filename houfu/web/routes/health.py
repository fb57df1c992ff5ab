"""GET /healthz: open to anyone (a load balancer's probe)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from houfu.engine.evaluator import HOUFU_VERSION

from ..deps import ServiceDep
from ..models import Health

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=Health,
            summary="The service is up, with the knowledge base it serves and whether its database answers")
def healthz(service: ServiceDep, response: Response) -> Health:
    ok = service.store.healthy()
    response.status_code = 200 if ok else 503
    return Health(status="ok" if ok else "database unavailable", kb_version=service.kb.version,
                  houfu_version=HOUFU_VERSION, database="ok" if ok else "down")
