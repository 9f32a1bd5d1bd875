"""``Idempotency-Key`` on every POST and PATCH: the first answer is stored with the change it reports.

The same key and body replays that answer (``Idempotent-Replayed: true``); the same key with another
body is refused (422).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson
from fastapi import Request, Response
from sqlalchemy.exc import IntegrityError

from wegweiser.common.auth import Principal
from wegweiser.common.http import PROBLEM_JSON
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER as IDEMPOTENCY_HEADER  # the routes' import
from wegweiser.common.idempotency import IDEMPOTENCY_KEY, request_digest, valid_key
from wegweiser.intake.domain.model import ArrivalRejected
from wegweiser.intake.handlers import IdempotentAnswer, IntakeUnitOfWork

JSON = "application/json"

R = TypeVar("R")
Rendered = tuple[int, bytes]  # status and body


@dataclass(frozen=True, slots=True)
class Answered(Generic[R]):
    response: Response
    result: R | None  # None when the answer was replayed


class RenderOnce(Generic[R]):
    """Renders a handler result once: for the stored idempotent answer and for the response alike."""

    def __init__(self, render: Callable[[R], Rendered]) -> None:
        self._render = render
        self.value: Rendered | None = None

    def __call__(self, result: R) -> Rendered:
        if self.value is None:
            self.value = self._render(result)
        return self.value


async def answer_once(
    request: Request,
    principal: Principal,
    uow: IntakeUnitOfWork,
    render: Callable[[R], Rendered],
    run: Callable[[IdempotentAnswer | None], Awaitable[R]],
) -> Answered[R]:
    """Run a change, honouring ``Idempotency-Key``; answers with the response and the result."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    rendered = RenderOnce(render)
    if key is None:
        result = await run(None)
        return Answered(json_response(*rendered(result)), result)
    if not valid_key(key):
        raise ArrivalRejected(
            IDEMPOTENCY_KEY,
            "Idempotency-Key: 1 bis 200 druckbare Zeichen.",
            "Idempotency-Key: 1 to 200 printable characters.",
        )
    owner = principal.authority_id or f"admin:{principal.subject}"
    digest = request_digest(request.method, request.url.path, await request.body())
    replay = await _replay(uow, owner, key, digest)
    if replay is not None:
        return Answered(replay, None)
    try:
        result = await run(
            IdempotentAnswer(authority_id=owner, key=key, request_hash=digest, render=rendered)
        )
    except IntegrityError:
        # The same key committed concurrently: answer as that request was answered.
        replay = await _replay(uow, owner, key, digest)
        if replay is None:
            raise
        return Answered(replay, None)
    return Answered(json_response(*rendered(result)), result)


def json_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    """JSON for answers, problem+json for refusals; a refused batch says when to retry."""
    if status < 400:
        return Response(body, status, media_type=JSON, headers=headers)
    headers = dict(headers or {})
    if status == 429:
        waits = [i.get("retry_after") or 1 for i in orjson.loads(body).get("results", [])]
        headers["Retry-After"] = str(max(waits, default=1))
    return Response(body, status, media_type=PROBLEM_JSON, headers=headers)


async def _replay(uow: IntakeUnitOfWork, owner: str, key: str, digest: str) -> Response | None:
    async with uow:
        row = await uow.arrivals.remembered(authority_id=owner, key=key)
    if row is None:
        return None
    if row.request_hash != digest:
        raise ArrivalRejected(
            IDEMPOTENCY_KEY,
            "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet.",
            "This Idempotency-Key was already used for a different request.",
        )
    return json_response(row.status_code, row.body, {"Idempotent-Replayed": "true"})
