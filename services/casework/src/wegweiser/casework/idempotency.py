"""Changes made once per key: the API's ``Idempotency-Key`` and the web forms' one-time token.

The key is recorded in the transaction of the change (``CaseworkUnitOfWork.claim``), so a repeat
either finds it and gets the first answer, or, when both ran at once, loses on the primary key and
changes nothing. The API stores the answer it gave; a web form stores the page it led to.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from wegweiser.casework.db import IdempotencyRow, StoredAnswer
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.web.messages import t
from wegweiser.common.auth import Principal
from wegweiser.common.http import problem, wants_english
from wegweiser.common.idempotency import IDEMPOTENCY_KEY, REPLAYED, request_digest, valid_key

JSON = "application/json"


async def remembered(uow: CaseworkUnitOfWork, owner: str, key: str) -> StoredAnswer | None:
    async with uow:
        return await uow.answers.get(owner, key)


async def once(
    uow: CaseworkUnitOfWork, claim: IdempotencyRow, run: Callable[[], Awaitable[Any]]
) -> tuple[Any, StoredAnswer | None]:
    """Run the change with ``claim`` in its transaction; (result, None), or (None, the earlier answer)
    when a request with the same key committed first (a handler may report that as a refusal)."""
    claim.body = uuid.uuid4().bytes  # tells this request's claim from a concurrent one's
    uow.claim = claim
    try:
        result = await run()
    except IntegrityError:
        earlier = await remembered(uow, claim.owner, claim.key)
        if earlier is None:
            raise
        return None, earlier
    finally:
        uow.claim = None
    if isinstance(result, Response) and result.status_code >= 400:
        earlier = await remembered(uow, claim.owner, claim.key)
        if earlier is not None and earlier.body != claim.body:
            return None, earlier
    return result, None


# --- the API ---------------------------------------------------------------------------------------------


def api_owner(principal: Principal) -> str:
    return f"api:{principal.provider_id or '-'}:{principal.subject}"


async def answer_once(
    request: Request,
    principal: Principal,
    uow: CaseworkUnitOfWork,
    run: Callable[[], Awaitable[Any]],
    *,
    status_code: int = 201,
) -> Any:
    """The route's answer, honouring ``Idempotency-Key``: same key and body, the first answer again."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        return await run()
    lang = "en" if wants_english(request) else "de"
    if not valid_key(key):
        return _key_problem(request, 422, t("idempotency.invalid_key", lang))
    owner = api_owner(principal)
    digest = request_digest(request.method, request.url.path, await request.body())
    earlier = await remembered(uow, owner, key)
    if earlier is None:
        result, earlier = await once(uow, IdempotencyRow(owner=owner, key=key, request_hash=digest), run)
        if earlier is None:
            return await _keep(uow, owner, key, result, status_code)
    if earlier.request_hash != digest:
        return _key_problem(request, 422, t("idempotency.other_request", lang))
    if earlier.status_code == 0:
        return _key_problem(request, 409, t("idempotency.in_progress", lang))
    media_type = JSON if earlier.status_code < 400 else "application/problem+json"
    return Response(earlier.body, earlier.status_code, media_type=media_type, headers={REPLAYED: "true"})


async def _keep(uow: CaseworkUnitOfWork, owner: str, key: str, result: Any, status_code: int) -> Response:
    """Store the answer beside the recorded key (if the change got that far) and give it."""
    if isinstance(result, Response):
        status_code, body = result.status_code, bytes(result.body)
        media_type = result.media_type
    else:
        body = bytes(JSONResponse(jsonable_encoder(result)).body)
        media_type = JSON
    async with uow:
        await uow.answers.answered(owner, key, status_code=status_code, body=body)
        await uow.commit()
    return Response(body, status_code, media_type=media_type)


def _key_problem(request: Request, status: int, message: str) -> JSONResponse:
    return problem(
        request,
        status,
        message,
        errors=[{"field": IDEMPOTENCY_KEY, "message": message, "type": "idempotency"}],
    )
