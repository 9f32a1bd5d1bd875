"""Intake's HTTP API for reception authorities (``/v1``); routes only translate.

Errors are RFC 9457 problem+json, German first (``Accept-Language: en`` for English). Every POST and
PATCH accepts an ``Idempotency-Key``: the first answer is stored with the change and replayed for the
same key and body; the same key with another body is refused (422).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import IntegrityError

from wegweiser.common.auth import Forbidden, Principal, require_role
from wegweiser.common.http import PROBLEM_JSON, problem, wants_english
from wegweiser.common.localtime import today
from wegweiser.common.regions import catalogue
from wegweiser.intake.domain.duplicates import DuplicateFlag
from wegweiser.intake.domain.model import Arrival, ArrivalConflict, ArrivalRejected, Person, PersonData, Text
from wegweiser.intake.handlers import (
    STEP,
    ArrivalNotFound,
    CorrectArrival,
    DecideDuplicate,
    Decision,
    FlagNotFound,
    NewArrival,
    PersonCorrection,
    RegisterArrivals,
    Registration,
    RelocateArrival,
    Remember,
    WithdrawArrival,
    correct_arrival,
    decide_duplicate,
    register_arrivals,
    relocate_arrival,
    withdraw_arrival,
)
from wegweiser.intake.messages import pydantic_errors, rejected_error
from wegweiser.intake.quotas import Quotas, retry_after

AuthorityDep = Annotated[Principal, require_role("reception_authority", "admin")]
JSON = "application/json"
IDEMPOTENCY_KEY = "Idempotency-Key"
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


# --- request and response models ---------------------------------------------------------------------


def _populated(value: str) -> str:
    if not catalogue().is_allocation_target(value):
        raise PydanticCustomError(
            "unknown_municipality", "{ags} is not a populated municipality of the catalogue", {"ags": value}
        )
    return value


class ArrivalIn(BaseModel):
    """A household allocated to a municipality; ``persons[*].role`` has exactly one ``head``."""

    model_config = ConfigDict(extra="forbid")

    authority_reference: Annotated[Text, Field(min_length=1, max_length=100)] = Field(
        description="The authority's own case number; registering it again returns the first result"
    )
    ags: str = Field(
        pattern=r"^\d{8}$", description="Target municipality (8-digit AGS)", examples=["08111000"]
    )
    allocation_date: dt.date = Field(description="Date of the allocation; not in the future")
    facility: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="Reception facility the household comes from"
    )
    persons: list[PersonData] = Field(min_length=1, max_length=30)

    _ags = field_validator("ags")(_populated)

    def command(self) -> NewArrival:
        return NewArrival(
            authority_reference=self.authority_reference,
            ags=self.ags,
            allocation_date=self.allocation_date,
            facility=self.facility,
            persons=tuple(self.persons),
        )


ARRIVAL_IN = TypeAdapter(ArrivalIn)


class ArrivalOut(BaseModel):
    arrival_id: uuid.UUID
    status: str = Field(description="registered, corrected, relocated, withdrawn or merged")
    version: int
    ags: str
    authority_reference: str
    allocation_date: dt.date
    facility: str | None
    household_size: int
    persons: list[Person]
    relocated_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    withdrawal_reason: str | None = None
    merged_into: uuid.UUID | None = None
    duplicates: list[uuid.UUID] = Field(
        default_factory=list, description="Probable duplicates flagged for review by this request"
    )
    corrected_fields: list[str] | None = None

    @classmethod
    def of(cls, arrival: Arrival, **extra: Any) -> ArrivalOut:
        return cls(
            **arrival.model_dump(exclude={"authority_id", "persons"}),
            persons=list(arrival.persons),
            household_size=len(arrival.persons),
            **extra,
        )


def _arrival_json(arrival: Arrival, **extra: Any) -> bytes:
    return ArrivalOut.of(arrival, **extra).model_dump_json().encode()


class BatchIn(BaseModel):
    arrivals: list[ArrivalIn] = Field(min_length=1, max_length=1000)


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


class PersonCorrectionIn(PersonData):
    person_id: uuid.UUID | None = Field(
        None, description="Keep a known person's identity (and pseudonym); omit for a new household member"
    )


class CorrectionIn(BaseModel):
    """Only the fields sent are corrected; ``persons`` replaces the whole household list."""

    model_config = ConfigDict(extra="forbid")

    allocation_date: dt.date | None = None
    facility: Annotated[Text, Field(max_length=200)] | None = None
    persons: list[PersonCorrectionIn] | None = Field(None, min_length=1, max_length=30)


class RelocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_ags: str = Field(pattern=r"^\d{8}$", examples=["08121000"])
    relocated_on: dt.date | None = Field(None, description="Default: today")

    _ags = field_validator("new_ags")(_populated)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_on: dt.date | None = Field(None, description="Default: today")
    reason: Annotated[Text, Field(max_length=500)] | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[Text, Field(max_length=1000)] | None = None


class DecisionOut(BaseModel):
    flag: DuplicateFlag
    merged_arrival: ArrivalOut | None = None


# --- errors ----------------------------------------------------------------------------------------------


class QuotaExceeded(Exception):
    def __init__(self, wait_s: float, what_de: str, what_en: str) -> None:
        super().__init__(what_en)
        self.wait_s = wait_s
        self.what_de = what_de
        self.what_en = what_en


class PayloadTooLarge(Exception):
    def __init__(self, message_de: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_de = message_de
        self.message_en = message_en


def install_error_handlers(app: FastAPI) -> None:
    """Map the domain's refusals to problem+json (422 naming the field, 409, 404, 413, 429)."""

    async def rejected(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ArrivalRejected)
        english = wants_english(request)
        status = 409 if isinstance(exc, ArrivalConflict) else 422
        error = rejected_error(exc, english=english)
        return problem(request, status, error["message"], errors=[error])

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return problem(request, 404, f"{exc}")

    async def too_many(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, QuotaExceeded)
        return problem(
            request,
            429,
            exc.what_en if wants_english(request) else exc.what_de,
            headers={"Retry-After": retry_after(exc.wait_s)},
        )

    async def too_large(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PayloadTooLarge)
        return problem(request, 413, exc.message_en if wants_english(request) else exc.message_de)

    app.add_exception_handler(ArrivalRejected, rejected)
    app.add_exception_handler(ArrivalNotFound, not_found)
    app.add_exception_handler(FlagNotFound, not_found)
    app.add_exception_handler(QuotaExceeded, too_many)
    app.add_exception_handler(PayloadTooLarge, too_large)


# --- plumbing shared by the routes ---------------------------------------------------------------------


def authority_of(principal: Principal) -> str:
    if principal.authority_id is None:
        raise Forbidden("token names no authority (claim authority_id)")
    return principal.authority_id


def _admit(request: Request, authority_id: str, ags_counts: dict[str, int]) -> dict[str, float]:
    """Take quota for the arrivals about to be registered; 429 when the authority's bucket is empty."""
    quotas: Quotas = request.app.state.quotas
    total = sum(ags_counts.values())
    wait = quotas.admit_authority(authority_id, total)
    if wait > 0:
        raise QuotaExceeded(
            wait,
            f"Kontingent der Behörde {authority_id} ausgeschöpft; bitte später erneut senden.",
            f"Quota of authority {authority_id} exhausted; please retry later.",
        )
    refused = quotas.admit_ags(ags_counts)
    if refused:
        quotas.refund_authority(authority_id, sum(ags_counts[a] for a in refused))
    return refused


class _Rendered:
    """Renders a handler result once: for the stored idempotent answer and for the response alike."""

    def __init__(self, render: Callable[[Any], tuple[int, bytes]]) -> None:
        self._render = render
        self.value: tuple[int, bytes] | None = None

    def __call__(self, result: Any) -> tuple[int, bytes]:
        if self.value is None:
            self.value = self._render(result)
        return self.value


async def _answer(
    request: Request,
    principal: Principal,
    render: Callable[[Any], tuple[int, bytes]],
    run: Callable[[Remember | None], Awaitable[Any]],
) -> tuple[Response, Any]:
    """Run a change, honouring ``Idempotency-Key``; returns the response and the result (None on replay)."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    rendered = _Rendered(render)
    if key is None:
        result = await run(None)
        return _response(*rendered(result)), result
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise ArrivalRejected(
            IDEMPOTENCY_KEY,
            "Idempotency-Key: 1 bis 200 druckbare Zeichen.",
            "Idempotency-Key: 1 to 200 printable characters.",
        )
    owner = principal.authority_id or f"admin:{principal.subject}"
    digest = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + await request.body()
    ).hexdigest()
    replay = await _replay(request, owner, key, digest)
    if replay is not None:
        return replay, None
    try:
        result = await run(Remember(authority_id=owner, key=key, request_hash=digest, render=rendered))
    except IntegrityError:
        # The same key committed concurrently: answer as that request was answered.
        replay = await _replay(request, owner, key, digest)
        if replay is None:
            raise
        return replay, None
    return _response(*rendered(result)), result


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    """JSON for answers, problem+json for refusals; a refused batch says when to retry."""
    if status < 400:
        return Response(body, status, media_type=JSON, headers=headers)
    headers = dict(headers or {})
    if status == 429:
        waits = [i.get("retry_after") or 1 for i in orjson.loads(body).get("results", [])]
        headers["Retry-After"] = str(max(waits, default=1))
    return Response(body, status, media_type=PROBLEM_JSON, headers=headers)


async def _replay(request: Request, owner: str, key: str, digest: str) -> Response | None:
    async with request.app.state.runtime.unit_of_work() as uow:
        row = await uow.arrivals.remembered(authority_id=owner, key=key)
    if row is None:
        return None
    if row.request_hash != digest:
        raise ArrivalRejected(
            IDEMPOTENCY_KEY,
            "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet.",
            "This Idempotency-Key was already used for a different request.",
        )
    return _response(row.status_code, row.body, {"Idempotent-Replayed": "true"})


def _registration_item(result: Registration, reference: str, english: bool) -> dict[str, Any]:
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


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


# --- routes ----------------------------------------------------------------------------------------------

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid token", **PROBLEM},
    403: {"description": "Role or AGS not allowed by the token", **PROBLEM},
    422: {"description": "Invalid input; `errors` names each field", **PROBLEM},
}
IDEMPOTENCY_HEADER = {
    "parameters": [
        {
            "name": IDEMPOTENCY_KEY,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": "Repeat a request safely: the first answer is replayed for the same key and body",
        }
    ]
}


def router() -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.post(
        "/arrivals",
        tags=["arrivals"],
        status_code=201,
        response_model=ArrivalOut,
        responses={
            200: {"description": "Known already (same reference or Idempotency-Key)", "model": ArrivalOut},
            429: {"description": "Quota exhausted; see Retry-After", **PROBLEM},
            **COMMON_ERRORS,
        },
        openapi_extra=IDEMPOTENCY_HEADER,
    )
    async def register(body: ArrivalIn, principal: AuthorityDep, request: Request) -> Response:
        """Register one arrival. The same authority reference again returns the first result (200)."""
        authority_id = authority_of(principal)
        if not principal.may_access_ags(body.ags):
            raise Forbidden(f"token does not allow allocations to {body.ags}")
        runtime = _runtime(request)

        def render(results: list[Registration]) -> tuple[int, bytes]:
            (result,) = results
            if result.error is not None:
                raise result.error
            assert result.arrival is not None
            status = 201 if result.outcome == "created" else 200
            return status, _arrival_json(result.arrival, duplicates=[f.flag_id for f in result.flags])

        async def run(remember: Remember | None) -> list[Registration]:
            refused = _admit(request, authority_id, {body.ags: 1})
            if refused:
                raise QuotaExceeded(
                    refused[body.ags],
                    f"Kontingent der Gemeinde {body.ags} ausgeschöpft; bitte später erneut senden.",
                    f"Quota of municipality {body.ags} exhausted; please retry later.",
                )
            return await register_arrivals(
                RegisterArrivals(authority_id=authority_id, arrivals=(body.command(),)),
                uow=runtime.unit_of_work(),
                today=today(),
                pseudonym_key=runtime.settings.pseudonym_key,
                remember=remember,
            )

        response, results = await _answer(request, principal, render, run)
        if results and results[0].arrival is not None:
            response.headers["Location"] = f"/v1/arrivals/{results[0].arrival.arrival_id}"
        return response

    @api.post(
        "/arrivals/batch",
        tags=["arrivals"],
        response_model=BatchOut,
        responses={
            413: {"description": "More than 1,000 arrivals", **PROBLEM},
            422: {
                "description": "No item could be registered; `errors` names item index and field",
                **PROBLEM,
            },
            429: {"description": "The authority's quota is exhausted; see Retry-After", **PROBLEM},
            401: COMMON_ERRORS[401],
            403: COMMON_ERRORS[403],
        },
        openapi_extra={
            **IDEMPOTENCY_HEADER,
            "requestBody": {
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
            },
        },
    )
    async def register_batch(principal: AuthorityDep, request: Request) -> Response:
        """Register up to 1,000 arrivals; every item gets its own result, valid items commit together.

        Answer 200 when at least one item was registered or known; otherwise 422 (or 403/429 when that
        is why every item was refused), with the same per-item ``results``.
        """
        authority_id = authority_of(principal)
        runtime = _runtime(request)
        english = wants_english(request)
        limit = runtime.settings.batch_max_items
        raw = await request.body()
        if len(raw) > limit * 20_000:
            raise PayloadTooLarge(
                f"Anfrage zu groß (höchstens {limit} Ankünfte).",
                f"Request too large (at most {limit} arrivals).",
            )
        items = _batch_items(request, raw, limit)
        results: list[dict[str, Any] | None] = [None] * len(items)
        accepted: list[tuple[int, ArrivalIn]] = []
        for index, item in enumerate(items):
            if index % STEP == STEP - 1:
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
            if not principal.may_access_ags(arrival.ags):
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

        admitted: list[tuple[int, ArrivalIn]] = []

        def finish(registrations: list[Registration]) -> tuple[int, bytes]:
            for (index, arrival), registration in zip(admitted, registrations, strict=True):
                item = _registration_item(registration, arrival.authority_reference, english)
                if item.get("errors"):
                    item["errors"][0]["field"] = f"arrivals.{index}.{item['errors'][0]['field']}"
                results[index] = item
            return _batch_answer(results, english)

        async def run(remember: Remember | None) -> list[Registration]:
            refused = (
                _admit(request, authority_id, dict(Counter(a.ags for _, a in accepted))) if accepted else {}
            )
            for index, arrival in accepted:
                if arrival.ags in refused:
                    results[index] = _over_quota(arrival, refused[arrival.ags], english)
                else:
                    admitted.append((index, arrival))
            if not admitted:
                return []
            return await register_arrivals(
                RegisterArrivals(authority_id=authority_id, arrivals=tuple(a.command() for _, a in admitted)),
                uow=runtime.unit_of_work(),
                today=today(),
                pseudonym_key=runtime.settings.pseudonym_key,
                remember=remember,
            )

        response, _ = await _answer(request, principal, finish, run)
        return response

    @api.get(
        "/arrivals/{arrival_id}",
        tags=["arrivals"],
        response_model=ArrivalOut,
        responses={404: {"description": "Unknown, or another authority's", **PROBLEM}},
    )
    async def get(arrival_id: uuid.UUID, principal: AuthorityDep, request: Request) -> Any:
        """Status of an arrival registered by the caller's authority (others answer 404)."""
        async with _runtime(request).unit_of_work() as uow:
            arrival = await uow.arrivals.get(arrival_id)
        if arrival is None or (
            "admin" not in principal.roles and arrival.authority_id != principal.authority_id
        ):
            return problem(request, 404, f"arrival {arrival_id}")
        return ArrivalOut.of(arrival)

    @api.get("/arrivals", tags=["arrivals"], response_model=list[ArrivalOut])
    async def find(
        principal: AuthorityDep,
        request: Request,
        authority_reference: Annotated[str, Query(min_length=1, max_length=100, pattern=PRINTABLE)],
    ) -> Any:
        """Find the caller's arrival by its own reference (an empty list if there is none)."""
        authority_id = authority_of(principal)
        async with _runtime(request).unit_of_work() as uow:
            arrival = await uow.arrivals.by_reference(
                authority_id=authority_id, reference=authority_reference
            )
        return [ArrivalOut.of(arrival)] if arrival else []

    @api.patch(
        "/arrivals/{arrival_id}",
        tags=["arrivals"],
        response_model=ArrivalOut,
        responses={
            404: {"description": "Unknown", **PROBLEM},
            409: {"description": "No longer active", **PROBLEM},
        },
        openapi_extra=IDEMPOTENCY_HEADER,
    )
    async def correct(
        arrival_id: uuid.UUID, body: CorrectionIn, principal: AuthorityDep, request: Request
    ) -> Response:
        """Correct allocation date, facility or household; ``arrival.corrected`` if anything changed."""
        runtime = _runtime(request)
        persons = (
            None
            if body.persons is None
            else tuple(
                PersonCorrection(
                    data=PersonData(**p.model_dump(exclude={"person_id"})), person_id=p.person_id
                )
                for p in body.persons
            )
        )

        def render(result: tuple[Arrival, tuple[str, ...]]) -> tuple[int, bytes]:
            arrival, fields = result
            return 200, _arrival_json(arrival, corrected_fields=list(fields))

        async def run(remember: Remember | None) -> tuple[Arrival, tuple[str, ...]]:
            return await correct_arrival(
                CorrectArrival(
                    arrival_id=arrival_id,
                    principal=principal,
                    allocation_date=body.allocation_date,
                    facility=body.facility,
                    persons=persons,
                ),
                uow=runtime.unit_of_work(),
                today=today(),
                pseudonym_key=runtime.settings.pseudonym_key,
                remember=remember,
            )

        response, _ = await _answer(request, principal, render, run)
        return response

    @api.post(
        "/arrivals/{arrival_id}/relocation",
        tags=["arrivals"],
        response_model=ArrivalOut,
        responses={
            404: {"description": "Unknown", **PROBLEM},
            409: {"description": "No longer active", **PROBLEM},
        },
        openapi_extra=IDEMPOTENCY_HEADER,
    )
    async def relocate(
        arrival_id: uuid.UUID, body: RelocationIn, principal: AuthorityDep, request: Request
    ) -> Response:
        """Allocate the household to another municipality (the token must allow both AGS)."""
        runtime = _runtime(request)

        async def run(remember: Remember | None) -> Arrival:
            return await relocate_arrival(
                RelocateArrival(
                    arrival_id=arrival_id,
                    principal=principal,
                    new_ags=body.new_ags,
                    relocated_on=body.relocated_on or today(),
                ),
                uow=runtime.unit_of_work(),
                today=today(),
                remember=remember,
            )

        response, _ = await _answer(request, principal, lambda a: (200, _arrival_json(a)), run)
        return response

    @api.post(
        "/arrivals/{arrival_id}/withdrawal",
        tags=["arrivals"],
        response_model=ArrivalOut,
        responses={
            404: {"description": "Unknown", **PROBLEM},
            409: {"description": "No longer active", **PROBLEM},
        },
        openapi_extra=IDEMPOTENCY_HEADER,
    )
    async def withdraw(
        arrival_id: uuid.UUID, body: WithdrawalIn, principal: AuthorityDep, request: Request
    ) -> Response:
        """Withdraw the allocation (entered by mistake, person moved on before arriving, ...)."""
        runtime = _runtime(request)

        async def run(remember: Remember | None) -> Arrival:
            return await withdraw_arrival(
                WithdrawArrival(
                    arrival_id=arrival_id,
                    principal=principal,
                    withdrawn_on=body.withdrawn_on or today(),
                    reason=body.reason,
                ),
                uow=runtime.unit_of_work(),
                today=today(),
                remember=remember,
            )

        response, _ = await _answer(request, principal, lambda a: (200, _arrival_json(a)), run)
        return response

    @api.get("/duplicates", tags=["duplicates"], response_model=list[DuplicateFlag])
    async def list_duplicates(
        principal: AuthorityDep,
        request: Request,
        status: Literal["open", "merged", "dismissed", "obsolete"] | None = "open",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> Any:
        """Probable duplicates that involve the caller's arrivals (an admin sees all)."""
        scope = None if "admin" in principal.roles else authority_of(principal)
        async with _runtime(request).unit_of_work() as uow:
            return await uow.arrivals.flags(authority_id=scope, status=status, limit=limit, offset=offset)

    @api.get(
        "/duplicates/{flag_id}",
        tags=["duplicates"],
        response_model=DuplicateFlag,
        responses={404: {"description": "Unknown", **PROBLEM}},
    )
    async def get_duplicate(flag_id: uuid.UUID, principal: AuthorityDep, request: Request) -> Any:
        async with _runtime(request).unit_of_work() as uow:
            flag = await uow.arrivals.flag(flag_id)
        admin = "admin" in principal.roles
        if flag is None or not (
            admin or principal.authority_id in (flag.authority_id, flag.candidate_authority_id)
        ):
            return problem(request, 404, f"duplicate {flag_id}")
        return flag

    def decision_route(decision: Literal["merged", "dismissed"]) -> Any:
        async def decide(
            flag_id: uuid.UUID, principal: AuthorityDep, request: Request, body: DecisionIn | None = None
        ) -> Response:
            runtime = _runtime(request)

            def render(result: Decision) -> tuple[int, bytes]:
                merged = ArrivalOut.of(result.merged) if result.merged else None
                return 200, DecisionOut(flag=result.flag, merged_arrival=merged).model_dump_json().encode()

            async def run(remember: Remember | None) -> Decision:
                return await decide_duplicate(
                    DecideDuplicate(
                        flag_id=flag_id,
                        principal=principal,
                        decision=decision,
                        note=body.note if body else None,
                    ),
                    uow=runtime.unit_of_work(),
                    today=today(),
                    remember=remember,
                )

            response, _ = await _answer(request, principal, render, run)
            return response

        return decide

    decision_responses: dict[int | str, dict[str, Any]] = {
        404: {"description": "Unknown", **PROBLEM},
        409: {"description": "Decided already, or an arrival is no longer active", **PROBLEM},
    }
    api.add_api_route(
        "/duplicates/{flag_id}/merge",
        decision_route("merged"),
        methods=["POST"],
        tags=["duplicates"],
        response_model=DecisionOut,
        responses=decision_responses,
        openapi_extra=IDEMPOTENCY_HEADER,
        summary="Merge: the later arrival is retired into the earlier one (arrival.withdrawn, merged_into)",
    )
    api.add_api_route(
        "/duplicates/{flag_id}/dismissal",
        decision_route("dismissed"),
        methods=["POST"],
        tags=["duplicates"],
        response_model=DecisionOut,
        responses=decision_responses,
        openapi_extra=IDEMPOTENCY_HEADER,
        summary="Dismiss: not the same person; recorded with who and when",
    )
    return api


def _batch_items(request: Request, raw: bytes, limit: int) -> list[Any]:
    english = wants_english(request)
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


def _over_quota(arrival: ArrivalIn, wait_s: float, english: bool) -> dict[str, Any]:
    message = (
        f"Quota of municipality {arrival.ags} exhausted; please retry later."
        if english
        else f"Kontingent der Gemeinde {arrival.ags} ausgeschöpft; bitte später erneut senden."
    )
    return {
        "status": 429,
        "outcome": "rejected",
        "authority_reference": arrival.authority_reference,
        "errors": [{"field": "ags", "message": message, "type": "quota"}],
        "retry_after": int(retry_after(wait_s)),
    }


def _batch_answer(results: list[dict[str, Any] | None], english: bool) -> tuple[int, bytes]:
    """200 with per-item results if anything was registered; else the status that explains the refusal."""
    items = []
    for index, item in enumerate(results):
        assert item is not None
        items.append({"index": index, **item})
    counts = Counter(i["outcome"] for i in items)
    body: dict[str, Any] = {
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
