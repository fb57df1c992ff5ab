"""The app factory: one FastAPI app over a knowledge base, an evaluator and a record store, made of the routers in
``houfu.web.routes``. The state goes on ``app.state.service`` for the routes' dependencies (``houfu.web.deps``)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from houfu.engine.evaluator import Evaluator
from houfu.kb.loader import KB
from houfu.records.store import RecordStore, Users

from . import errors
from .auth import HASHING_QUEUE, Authenticator
from .deps import MAX_BODY, MAX_UPLOAD, WORKLIST_UPLOAD, Pages, Service, basic_throttled, identify
from .guard import Guarded, RequestGuard, guarded_routes
from .headers import SecurityHeaders
from .routes import ROUTERS

__all__ = ["create_app"]


def create_app(kb: KB, evaluator: Evaluator, store: RecordStore, dev: bool = False,
               secret: str | None = None, login_queue: int = HASHING_QUEUE) -> FastAPI:
    """The service over one knowledge base, evaluator and record store; ``dev``: nobody logs in; ``login_queue``:
    the password checks that may wait for a hashing thread before a login is answered 429 (``houfu.web.auth``)."""
    app = FastAPI(title="houfu", version=kb.version, docs_url=None, redoc_url=None,
                  description="Post-relocation follow-up support (易地扶贫搬迁后续扶持): which measures apply to a "
                              "household or site, why, who owns them, and what is missing. Every determination is "
                              "kept as a decision record.")
    users = Users(store)
    app.state.service = Service(kb=kb, evaluator=evaluator, store=store, users=users,
                                pages=Pages(kb.version, dev), dev=dev, auth=Authenticator(users, queue=login_queue))
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    # The request guard runs inside the session middleware (added last, so outermost): it sees the decoded
    # session and refuses before the body is read.
    guarded: list[Guarded] = []

    def routes() -> list[Guarded]:
        if not guarded:
            guarded.extend(guarded_routes(app, {"/v1/screen": MAX_UPLOAD, "/worklists/import": WORKLIST_UPLOAD},
                                          MAX_BODY))
        return guarded

    app.add_middleware(RequestGuard, routes=routes, identify=identify, throttled=basic_throttled)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SessionMiddleware, secret_key=secret or secrets.token_urlsafe(32), https_only=True,
                       same_site="strict", session_cookie="houfu_session", max_age=8 * 3600)

    def openapi() -> dict[str, Any]:
        """The OpenAPI document, in which a route that reads a household or site (``record_body``) publishes
        this knowledge base's own model of it (its vocabulary decides the fields)."""
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            for operation in (op for path in schema["paths"].values() for op in path.values()):
                entity = operation.pop("x-houfu-record", None)
                if entity is not None:
                    operation["requestBody"] = {"required": True, "content": {
                        "application/json": {"schema": kb.models.of(entity).model_json_schema()},
                        "application/yaml": {"schema": {"type": "string"}}}}
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    return app
