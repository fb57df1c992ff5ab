"""POST /v1/users/{name}/unlock: a supervisor lifts the lock that too many failed logins put on an account
(issue 23, §2). Supervisors."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ..auth import security_log
from ..deps import ServiceDep, SupervisorUser

router = APIRouter(prefix="/v1", tags=["users"])


class Unlocked(BaseModel):
    """The account, and whether it was locked."""

    user: str
    was_locked: bool


@router.post("/users/{name}/unlock", response_model=Unlocked,
             summary="Lift the lock that too many failed logins put on an account (supervisors)")
def unlock(name: str, user: SupervisorUser, service: ServiceDep) -> Unlocked:
    was = service.auth.throttle.unlock(name[:100])
    security_log.warning("account unlocked user=%r by=%r was_locked=%s", name[:100], user.name, was)
    return Unlocked(user=name[:100], was_locked=was)
