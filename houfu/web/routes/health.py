"""GET /healthz: open to anyone (a load balancer's probe), with the head of the decision records' hash chain
(a monitor that keeps it sees the chain shrink or fork)."""

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
    count, head = service.store.chain_head() if ok else (None, None)
    return Health(status="ok" if ok else "database unavailable", kb_version=service.kb.version,
                  houfu_version=HOUFU_VERSION, database="ok" if ok else "down", records=count, chain_head=head)
