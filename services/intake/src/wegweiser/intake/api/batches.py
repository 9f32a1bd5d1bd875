"""Register up to 1,000 arrivals in one request; every item gets its own result."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, ValidationError

from wegweiser.common.http import wants_english
from wegweiser.common.localtime import today
from wegweiser.intake.api.admission import admit, municipality_message
from wegweiser.intake.api.errors import COMMON_ERRORS, PROBLEM, PayloadTooLarge, authority_of
from wegweiser.intake.api.idempotency import IDEMPOTENCY_HEADER, JSON, answer_once
from wegweiser.intake.api.models import ARRIVAL_IN, ArrivalIn
from wegweiser.intake.deps import PrincipalDep, QuotasDep, SettingsDep, UnitOfWorkDep
from wegweiser.intake.domain.model import ArrivalConflict, ArrivalRejected
from wegweiser.intake.handlers import (
    YIELD_EVERY,
    IdempotentAnswer,
    RegisterArrivals,
    Registration,
    register_arrivals,
)
from wegweiser.intake.messages import pydantic_errors, rejected_error
from wegweiser.intake.quotas import retry_after

router = APIRouter(prefix="/v1", tags=["arrivals"])

Item = dict[str, Any]  # one entry of ``results`` while the batch is answered


class ItemError(BaseModel):
    field: str
    message: str
    type: str


class BatchItemOut(BaseModel):
    index: int
    status: int = Field(description="201 created, 200 known already, 403, 422 or 429 (item refused)")
    outcome: Literal["created", "existing", "rejected"]
    authority_reference: str | None = None
    arrival_id: uuid.UUID | None = None
    arrival_status: str | None = None
    duplicates: list[uuid.UUID] = Field(default_factory=list)
    errors: list[ItemError] = Field(default_factory=list)
    retry_after: int | None = None


class BatchOut(BaseModel):
    created: int
    existing: int
    rejected: int
    results: list[BatchItemOut]


BATCH_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["arrivals"],
                "additionalProperties": False,
                "properties": {
                    "arrivals": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1000,
                        "items": {"$ref": "#/components/schemas/ArrivalIn"},
                    }
                },
            }
        }
    },
}


@router.post(
    "/arrivals/batch",
    response_model=BatchOut,
    responses={
        413: {"description": "More than 1,000 arrivals", **PROBLEM},
        422: {"description": "No item could be registered; `errors` names item index and field", **PROBLEM},
        429: {"description": "The authority's quota is exhausted; see Retry-After", **PROBLEM},
        401: COMMON_ERRORS[401],
        403: COMMON_ERRORS[403],
    },
    openapi_extra={**IDEMPOTENCY_HEADER, "requestBody": BATCH_BODY},
)
async def register_batch(
    principal: PrincipalDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    quotas: QuotasDep,
) -> Response:
    """Register up to 1,000 arrivals; every item gets its own result, valid items commit together.

    Answer 200 when at least one item was registered or known; otherwise 422 (or 403/429 when that
    is why every item was refused), with the same per-item ``results``.
    """
    authority_id = authority_of(principal)
    english = wants_english(request)
    limit = settings.batch_max_items
    raw = await request.body()
    if len(raw) > limit * 20_000:
        raise PayloadTooLarge(
            f"Anfrage zu groß (höchstens {limit} Ankünfte).",
            f"Request too large (at most {limit} arrivals).",
        )
    items = _batch_items(raw, limit, english=english)
    results: list[Item | None] = [None] * len(items)
    accepted = await _validated(
        items, results, principal_may_access=principal.may_access_ags, english=english
    )
    admitted: list[tuple[int, ArrivalIn]] = []

    def finish(registrations: list[Registration]) -> tuple[int, bytes]:
        for (index, arrival), registration in zip(admitted, registrations, strict=True):
            item = _registration_item(registration, arrival.authority_reference, english)
            if item.get("errors"):
                item["errors"][0]["field"] = f"arrivals.{index}.{item['errors'][0]['field']}"
            results[index] = item
        return _batch_answer(results, english)

    async def run(answer: IdempotentAnswer | None) -> list[Registration]:
        refused = admit(quotas, authority_id, dict(Counter(a.ags for _, a in accepted))) if accepted else {}
        for index, arrival in accepted:
            if arrival.ags in refused:
                results[index] = _over_quota(arrival, refused[arrival.ags], english)
            else:
                admitted.append((index, arrival))
        if not admitted:
            return []
        return await register_arrivals(
            RegisterArrivals(authority_id=authority_id, arrivals=tuple(a.command() for _, a in admitted)),
            uow=uow,
            today=today(),
            pseudonym_key=settings.pseudonym_key,
            answer=answer,
        )

    return (await answer_once(request, principal, uow, finish, run)).response


async def _validated(
    items: list[Any],
    results: list[Item | None],
    *,
    principal_may_access: Callable[[str], bool],
    english: bool,
) -> list[tuple[int, ArrivalIn]]:
    """Validate each item as ``POST /v1/arrivals`` would; refused items get their result here."""
    accepted: list[tuple[int, ArrivalIn]] = []
    for index, item in enumerate(items):
        if index % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)  # let single registrations in between: batches are CPU-bound
        try:
            arrival = ARRIVAL_IN.validate_python(item)
        except ValidationError as exc:
            results[index] = {
                "status": 422,
                "outcome": "rejected",
                "authority_reference": _reference_of(item),
                "errors": pydantic_errors(exc, prefix=f"arrivals.{index}", english=english),
            }
            continue
        if not principal_may_access(arrival.ags):
            message = (
                f"Token does not allow allocations to {arrival.ags}."
                if english
                else f"Das Token erlaubt keine Zuweisung nach {arrival.ags}."
            )
            results[index] = {
                "status": 403,
                "outcome": "rejected",
                "authority_reference": arrival.authority_reference,
                "errors": [{"field": f"arrivals.{index}.ags", "message": message, "type": "forbidden"}],
            }
            continue
        accepted.append((index, arrival))
    return accepted


def _batch_items(raw: bytes, limit: int, *, english: bool) -> list[Any]:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ArrivalRejected("body", "Kein gültiges JSON.", "Not valid JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("arrivals"), list):
        raise ArrivalRejected(
            "arrivals",
            "Erwartet ein Objekt mit der Liste 'arrivals'.",
            "Expected an object with the list 'arrivals'.",
        )
    unknown = sorted(set(document) - {"arrivals"})
    if unknown:
        raise ArrivalRejected(unknown[0][:100], "Unbekanntes Feld.", "Unknown field.")
    items: list[Any] = document["arrivals"]
    if not items:
        raise ArrivalRejected("arrivals", "Mindestens eine Ankunft.", "At least one arrival.")
    if len(items) > limit:
        raise PayloadTooLarge(
            f"{len(items)} Ankünfte in einer Anfrage; höchstens {limit} sind erlaubt."
            if not english
            else f"{len(items)} arrivals in one request; at most {limit} are allowed.",
            f"{len(items)} arrivals in one request; at most {limit} are allowed.",
        )
    return items


def _reference_of(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("authority_reference"), str):
        return str(item["authority_reference"])[:100]
    return None


def _over_quota(arrival: ArrivalIn, wait_s: float, english: bool) -> Item:
    return {
        "status": 429,
        "outcome": "rejected",
        "authority_reference": arrival.authority_reference,
        "errors": [
            {"field": "ags", "message": municipality_message(arrival.ags, english=english), "type": "quota"}
        ],
        "retry_after": int(retry_after(wait_s)),
    }


def _registration_item(result: Registration, reference: str, english: bool) -> Item:
    if result.outcome == "rejected":
        assert result.error is not None
        return {
            "status": 409 if isinstance(result.error, ArrivalConflict) else 422,
            "outcome": "rejected",
            "authority_reference": reference,
            "errors": [rejected_error(result.error, english=english)],
        }
    assert result.arrival is not None
    return {
        "status": 201 if result.outcome == "created" else 200,
        "outcome": result.outcome,
        "authority_reference": reference,
        "arrival_id": str(result.arrival.arrival_id),
        "arrival_status": result.arrival.status,
        "duplicates": [str(f.flag_id) for f in result.flags],
    }


def _batch_answer(results: list[Item | None], english: bool) -> tuple[int, bytes]:
    """200 with per-item results if anything was registered; else the status that explains the refusal."""
    items = []
    for index, item in enumerate(results):
        assert item is not None
        items.append({"index": index, **item})
    counts = Counter(i["outcome"] for i in items)
    body: Item = {
        "created": counts["created"],
        "existing": counts["existing"],
        "rejected": counts["rejected"],
        "results": items,
    }
    if counts["rejected"] < len(items):
        return 200, orjson.dumps(body)
    statuses = {i["status"] for i in items}
    status = statuses.pop() if len(statuses) == 1 else 422
    title = {
        403: ("Keine Berechtigung", "Forbidden"),
        429: ("Zu viele Anfragen", "Too many requests"),
    }.get(status, ("Die Anfrage enthält ungültige Angaben", "The request contains invalid data"))
    problem_body = {
        "type": "about:blank",
        "title": title[1] if english else title[0],
        "status": status,
        "detail": "No arrival of the batch was registered."
        if english
        else "Keine Ankunft wurde registriert.",
        "instance": "/v1/arrivals/batch",
        "errors": [{**e, "index": i["index"]} for i in items for e in i.get("errors", [])],
        **body,
    }
    return status, orjson.dumps(problem_body)
