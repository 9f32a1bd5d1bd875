"""Changes made once per key: the API's ``Idempotency-Key`` and the web forms' one-time token.

The key and the answer are recorded in the transaction of the change (``CaseworkUnitOfWork.claim``
and ``settle``), so a repeat either finds them and gets the first answer, or, when both ran at once,
loses on the primary key and changes nothing; a process killed mid-request leaves neither. The API
stores the answer it gave; a web form stores the page it led to.
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
    uow: CaseworkUnitOfWork,
    claim: IdempotencyRow,
    run: Callable[[], Awaitable[Any]],
    stored: Callable[[Any], tuple[int, bytes]],
) -> tuple[Any, StoredAnswer | None]:
    """Run the change with ``claim`` in its transaction and commit it with the answer ``stored`` makes
    of its result; (result, None), or (None, the earlier answer) when a request with the same key
    committed first (a handler may report that as a refusal)."""
    claim.body = uuid.uuid4().bytes  # tells this request's claim from a concurrent one's
    uow.claim = claim
    try:
        result = await run()
        if not (isinstance(result, Response) and result.status_code >= 400):
            await uow.settle(claim, *stored(result))
            return result, None
    except IntegrityError:
        earlier = await remembered(uow, claim.owner, claim.key)
        if earlier is None:
            raise
        return None, earlier
    finally:
        uow.claim = None
        await uow.release()
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
        claim = IdempotencyRow(owner=owner, key=key, request_hash=digest)
        result, earlier = await once(uow, claim, run, lambda r: _stored(r, status_code))
        if earlier is None:
            status, body = _stored(result, status_code)
            media_type = result.media_type if isinstance(result, Response) else JSON
            return Response(body, status, media_type=media_type)
    if earlier.request_hash != digest:
        return _key_problem(request, 422, t("idempotency.other_request", lang))
    if earlier.status_code == 0:
        return _key_problem(request, 409, t("idempotency.in_progress", lang))
    media_type = JSON if earlier.status_code < 400 else "application/problem+json"
    return Response(earlier.body, earlier.status_code, media_type=media_type, headers={REPLAYED: "true"})


def _stored(result: Any, status_code: int) -> tuple[int, bytes]:
    """The answer a route's result is given, and given again for a repeat: status and body."""
    if isinstance(result, Response):
        return result.status_code, bytes(result.body)
    return status_code, bytes(JSONResponse(jsonable_encoder(result)).body)


def _key_problem(request: Request, status: int, message: str) -> JSONResponse:
    return problem(
        request,
        status,
        message,
        errors=[{"field": IDEMPOTENCY_KEY, "message": message, "type": "idempotency"}],
    )
