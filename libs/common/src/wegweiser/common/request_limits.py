"""Limits every request meets before a route sees it: body size per route (413) and no NUL (422).

Why: without a size limit a 5 MB JSON body was read and parsed whole before validation refused it.
The limit is 1 MiB unless a route declares its own with ``openapi_extra=max_body(n)`` (which also
shows it in the OpenAPI document); ``max_body(None)`` leaves a route that streams and checks its
body itself alone. A NUL character (``%00`` in the URL, ``\\u0000`` or a 0 byte in the body) is valid
JSON but no text any person writes, and PostgreSQL refuses it in text columns: a fuzz run turned it
into 500s in field after field, so it is refused here, once, for every route.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_KEY = "x-max-body-bytes"
NUL_IN_URL = (b"%00", b"\x00")
NUL_IN_BODY = (b"\\u0000", b"\x00")
NUL_MESSAGE = "Die Anfrage enthält ein Nullzeichen (U+0000); das ist in keinem Feld erlaubt."
NUL_MESSAGE_EN = "The request contains a null character (U+0000), which no field allows."


class BodyRefused(HTTPException):
    """A refusal of this middleware, in German and English (the problem handler picks the caller's)."""

    def __init__(self, status_code: int, de: str, en: str) -> None:
        super().__init__(status_code, de)
        self.de = de
        self.en = en


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(
        413, f"Die Anfrage ist größer als {limit} Bytes.", f"The request is larger than {limit} bytes."
    )


def max_body(limit: int | None) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that accepts bodies up to ``limit`` bytes (None: no limit here)."""
    return {_KEY: limit}


def _limit_of(scope: Scope) -> int | None:
    route = scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    limit: int | None = extra.get(_KEY, DEFAULT_MAX_BODY_BYTES)
    return limit


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
        url = bytes(scope.get("raw_path") or b"") + b"?" + bytes(scope.get("query_string") or b"")
        if any(nul in url.lower() for nul in NUL_IN_URL):
            await _refuse_nul(scope, send)
            return
        nuls = _nul_markers(_header(scope, b"content-type"))
        received = 0
        tail = b""

        async def limited() -> Message:
            nonlocal received, tail
            limit = _limit_of(scope)
            declared = _header(scope, b"content-length")
            if limit is not None and declared.isdigit() and int(declared) > limit:
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if limit is not None and received > limit:
                    raise too_large(limit)
                if any(nul in (tail + chunk).lower() for nul in nuls):
                    raise BodyRefused(422, NUL_MESSAGE, NUL_MESSAGE_EN)
                tail = chunk[-5:]
            return message

        await self.app(scope, limited, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _nul_markers(content_type: str) -> tuple[bytes, ...]:
    """What a NUL looks like in a text body; files (CSV, XLSX uploads) are the route's own business."""
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return NUL_IN_BODY
    if media == "application/x-www-form-urlencoded":
        return NUL_IN_URL
    return ()


async def _refuse_nul(scope: Scope, send: Send) -> None:
    """The 422 problem+json for a NUL in the URL, answered before routing (no route may see it)."""
    english = _header(scope, b"accept-language").split(",")[0].strip().lower().startswith("en")
    title, detail = ("Invalid data", NUL_MESSAGE_EN) if english else ("Ungültige Angaben", NUL_MESSAGE)
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": 422, "detail": detail},
        ensure_ascii=False,
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
