"""Refuse before reading (issue 23, §1 and §3): a pure ASGI middleware in front of the routes.

FastAPI reads and parses a request's body (a multipart upload spooled to disk) before it runs a route's
dependencies, so the declared guards (``houfu.web.deps``) alone let a stranger send 400 MB first and be refused
after. This middleware runs before any byte of the body is read. For a request that may carry one (POST, PUT,
PATCH, DELETE) it

1. refuses a cross-site request (``Sec-Fetch-Site: cross-site`` or ``same-site``, or an ``Origin`` that is not
   this host): a browser sends these on another site's behalf, with its cookies or cached Basic credentials;
   scripts send neither header;
2. checks the user and role the route declares (the same guard functions, read from the route's dependencies,
   so the table cannot drift from the routes) from the session cookie or HTTP Basic, and refuses as the route
   would (401/403 JSON, or the login page) without reading the body;
3. answers 413 at once if ``Content-Length`` is above the route's limit;
4. counts a streamed body as it is read and cuts it at the limit (413).

The user it found is handed to the route's guard (``scope["state"]["houfu_user"]``), so a password is checked
once per request.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.requests import Request

from houfu.records.store import ROLES

from .auth import Throttled, hold, security_log
from .errors import Denied, denied_response, error, throttled_response

__all__ = ["BODY_METHODS", "Guarded", "RequestGuard", "guarded_routes"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The methods whose requests may carry a body (and change state).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Guarded:
    """A route that takes a body: where it is, who may call it and how much it may send."""

    path: re.Pattern[str]
    methods: frozenset[str]
    role: str | None  # None: open (the login form)
    page: bool
    limit: int
    guard: Any  # the route's declared guard (a test that overrides it takes this check off too)


def guarded_routes(app: FastAPI, limits: dict[str, int], default_limit: int) -> list[Guarded]:
    """The routes that take a body, each with the role its declared guard asks for (``houfu.web.deps.require``
    marks its guards with ``houfu_role`` and ``houfu_page``)."""
    out = []
    for route in iter_route_contexts(app.routes):
        methods = frozenset(route.methods or ()) & BODY_METHODS
        dependant = getattr(route, "dependant", None)
        if not methods or dependant is None:
            continue
        role, page, guard = None, False, None
        stack = list(dependant.dependencies)
        while stack:
            sub = stack.pop(0)
            if getattr(sub.call, "houfu_role", None) is not None:
                role, page, guard = sub.call.houfu_role, sub.call.houfu_page, sub.call
                break
            stack.extend(sub.dependencies)
        out.append(Guarded(route.path_regex, methods, role, page, limits.get(route.path or "", default_limit),
                           guard))
    return out


class RequestGuard:
    """The middleware (inside the session middleware, which has decoded the cookie into ``scope["session"]``)."""

    def __init__(self, app: Any, routes: Callable[[], list[Guarded]], identify: Callable[..., Awaitable[Any]],
                 throttled: Callable[[Request], None]):
        self.app, self.routes, self.identify, self.throttled = app, routes, identify, throttled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        headers = request.headers
        if headers.get("authorization", "")[:6].lower() == "basic ":
            # A guesser who must wait is answered here, before routing, at the least cost to everyone else.
            try:
                self.throttled(request)
            except Throttled as exc:
                await hold(exc)  # a tarpit: a guessing script's next try waits, at no cost to the service
                await throttled_response(exc)(scope, receive, send)
                return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        refused = _cross_site(headers)
        if refused:
            security_log.warning("cross-site request refused %s %s addr=%s (%s)", scope["method"], scope["path"],
                                 request.client.host if request.client else "-", refused)
            await error("Origin", f"Origin: {refused}; a request that changes something must come from this "
                                  "service's own pages or a script", 403)(scope, receive, send)
            return
        route = next((r for r in self.routes() if scope["method"] in r.methods and r.path.match(scope["path"])), None)
        overrides = getattr(scope.get("app"), "dependency_overrides", {})
        if route is not None and route.role is not None and route.guard not in overrides:
            try:
                user = await self.identify(request, route.page)
            except Throttled as exc:
                await throttled_response(exc)(scope, receive, send)
                return
            denied = None
            if user is None:
                denied = Denied(401, "log in first", route.page)
            elif (ROLES.index(user.role) if user.role in ROLES else 0) < ROLES.index(route.role):
                denied = Denied(403, f"only a {route.role} may see this", route.page, need=route.role)
            if denied is not None:
                await denied_response(request, denied)(scope, receive, send)
                return
            scope.setdefault("state", {})["houfu_user"] = user
        limit = route.limit if route else 0
        length = headers.get("content-length", "")
        if route is not None and length.isdigit() and int(length) > limit:
            await error("-", f"{int(length):,} bytes; at most {limit:,} are accepted", 413)(scope, receive, send)
            return
        await self.app(scope, _counted(receive, limit) if route is not None else receive, send)


def _cross_site(headers: Any) -> str:
    """Why a request comes from another site, or "" (a browser's ``Sec-Fetch-Site``, else its ``Origin``)."""
    fetch_site = headers.get("sec-fetch-site", "")
    if fetch_site in ("cross-site", "same-site"):
        return f"sent from another site (Sec-Fetch-Site: {fetch_site})"
    origin = headers.get("origin")
    # Behind a TLS proxy the scheme seen here may differ from the browser's; the host may not.
    if origin is not None and fetch_site != "same-origin" and \
            (origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()):
        return f"{origin[:100]} is not this service"
    return ""


def _counted(receive: Receive, limit: int) -> Receive:
    """``receive``, cut at ``limit`` bytes of body (a streamed body, or one that says less than it sends)."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"more than {limit:,} bytes; at most {limit:,} are accepted")
        return message

    return counted
