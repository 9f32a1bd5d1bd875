"""A size limit on request bodies, per route, checked before the body is read (413 problem+json).

Why: without it a 5 MB JSON body was read and parsed whole before validation refused it. The limit
is 1 MiB unless a route declares its own with ``openapi_extra=max_body(n)`` (which also shows it in
the OpenAPI document); ``max_body(None)`` leaves a route that streams and checks its body itself alone.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_KEY = "x-max-body-bytes"


def max_body(limit: int | None) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that accepts bodies up to ``limit`` bytes (None: no limit here)."""
    return {_KEY: limit}


def _limit_of(scope: Scope) -> int | None:
    route = scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    limit: int | None = extra.get(_KEY, DEFAULT_MAX_BODY_BYTES)
    return limit


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


class RequestSizeLimit:
    """Pure ASGI middleware: refuses a body over its route's limit at the first read, by length or count.

    The check runs when the route reads the body (the route is known then); a declared Content-Length
    over the limit is refused before a byte of the body is read, a chunked body as soon as it passes it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            limit = _limit_of(scope)
            if limit is not None and _declared_length(scope) > limit:
                raise HTTPException(413, f"Die Anfrage ist größer als {limit} Bytes.")
            message = await receive()
            if limit is not None and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"Die Anfrage ist größer als {limit} Bytes.")
            return message

        await self.app(scope, limited, send)
