"""Security headers on every answer (issue 23, §7): a content security policy that lets a page run only its
own scripts (the graph's zoom buttons carry the request's nonce) and never be framed, nosniff, no referrer, and
``Cache-Control: no-store`` (pages and answers carry personal data: no shared or browser cache keeps them).

The API's page (/docs) is rendered here from the OpenAPI document, under the same policy: no page loads
anything from another site."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["SecurityHeaders"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


def _policy(nonce: str) -> str:
    return (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class SecurityHeaders:
    """A pure ASGI middleware that adds the headers to every response (a nonce per request, for the pages)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        policy = _policy(nonce).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"cache-control", b"content-security-policy")]
                headers += [(b"content-security-policy", policy), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                            (b"cache-control", b"no-store"),
                            (b"cross-origin-opener-policy", b"same-origin"),
                            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
