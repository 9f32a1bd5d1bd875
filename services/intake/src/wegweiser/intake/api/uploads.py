"""Upload a CSV or XLSX file of households: validated in full, then imported now or by a job."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wegweiser.common.http import not_found, problem, wants_english
from wegweiser.common.localtime import today
from wegweiser.common.request_limits import max_body
from wegweiser.intake.api.admission import authority_exhausted
from wegweiser.intake.api.errors import PROBLEM, PayloadTooLarge, authority_of, visible_to
from wegweiser.intake.api.idempotency import IDEMPOTENCY_HEADER, answer_once
from wegweiser.intake.api.models import PRINTABLE
from wegweiser.intake.deps import ImportsDep, PrincipalDep, QuotasDep, SettingsDep, UnitOfWorkDep
from wegweiser.intake.domain.imports import ImportJob
from wegweiser.intake.domain.model import ArrivalRejected
from wegweiser.intake.handlers import IdempotentAnswer, start_import
from wegweiser.intake.imports import Validated, import_command, validate_upload
from wegweiser.intake.upload_reader import XLSX_MEDIA_TYPE, UnreadableFile

router = APIRouter(prefix="/v1", tags=["imports"])

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class ImportOut(ImportJob):
    percent: float

    @classmethod
    def of(cls, job: ImportJob) -> ImportOut:
        percent = 100.0 * job.rows_done / job.rows_total if job.rows_total else 100.0
        return cls(**job.model_dump(), percent=round(percent, 1))


class RowError(BaseModel):
    row: int
    column: str | None
    field: str | None
    message: str


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportOut,
    responses={
        202: {
            "description": "Large file: validated and queued; follow Location for progress",
            "model": ImportOut,
        },
        413: {"description": "File too large", **PROBLEM},
        415: {"description": "Neither CSV nor XLSX", **PROBLEM},
        422: {
            "description": "Errors in the file (`errors`: row, column, message); nothing imported",
            **PROBLEM,
        },
        429: {"description": "Quota exhausted; see Retry-After", **PROBLEM},
    },
    openapi_extra={**UPLOAD_BODY, **IDEMPOTENCY_HEADER, **max_body(None)},  # own limit: import_max_bytes
)
async def upload(
    principal: PrincipalDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    quotas: QuotasDep,
    imports: ImportsDep,
    filename: Annotated[str | None, Query(max_length=300, pattern=PRINTABLE)] = None,
) -> Response:
    """Upload a CSV or XLSX export as the raw body (`curl --data-binary @liste.xlsx`); see README."""
    authority_id = authority_of(principal)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (*CSV_TYPES, XLSX_MEDIA_TYPE):
        english = wants_english(request)
        return problem(
            request,
            415,
            "Send text/csv or an XLSX file." if english else "Bitte text/csv oder eine XLSX-Datei senden.",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.import_max_bytes:
        raise PayloadTooLarge("Datei zu groß.", "File too large.")
    content = await request.body()
    if len(content) > settings.import_max_bytes:
        raise PayloadTooLarge("Datei zu groß.", "File too large.")
    try:
        validated = await asyncio.to_thread(
            validate_upload,
            content,
            media_type,
            principal=principal,
            today=today(),
            max_rows=settings.import_max_rows,
        )
    except UnreadableFile as exc:
        raise ArrivalRejected("file", exc.message_de, exc.message_en) from None
    if validated.errors or not validated.households:
        return _refused(request, validated)
    synchronous = len(validated.households) <= settings.import_sync_max_households

    async def run(answer: IdempotentAnswer | None) -> ImportJob:
        if synchronous and (wait := quotas.admit_authority(authority_id, len(validated.households))) > 0:
            raise authority_exhausted(authority_id, wait)
        return await start_import(
            import_command(
                validated,
                authority_id=authority_id,
                uploaded_by=principal.subject,
                filename=filename,
                media_type=media_type,
                synchronous=synchronous,
            ),
            uow=uow,
            today=today(),
            pseudonym_key=settings.pseudonym_key,
            answer=answer,
        )

    def render(job: ImportJob) -> tuple[int, bytes]:
        return (201 if job.status == "completed" else 202), ImportOut.of(job).model_dump_json().encode()

    answered = await answer_once(request, principal, uow, render, run)
    response, job = answered.response, answered.result
    if job is not None:
        response.headers["Location"] = f"/v1/imports/{job.import_id}"
        if job.status != "completed":
            imports.wake()
    return response


def _refused(request: Request, validated: Validated) -> JSONResponse:
    """422 listing every row error (the first 1,000); nothing was imported."""
    english = wants_english(request)
    errors = [
        RowError(row=e.row, column=e.column, field=e.field, message=e.message_en if english else e.message_de)
        for e in validated.errors
    ] or [RowError(row=1, column=None, field=None, message="No rows." if english else "Keine Zeilen.")]
    return problem(
        request,
        422,
        f"{len(errors)} errors; nothing was imported."
        if english
        else f"{len(errors)} Fehler; nichts wurde importiert.",
        rows=validated.rows,
        errors=[e.model_dump() for e in errors[:1000]],
        errors_total=len(errors),
    )


@router.get(
    "/imports/{import_id}", response_model=ImportOut, responses={404: {"description": "Unknown", **PROBLEM}}
)
async def progress(
    import_id: uuid.UUID, principal: PrincipalDep, request: Request, uow: UnitOfWorkDep
) -> ImportOut | JSONResponse:
    """Progress of an import: rows and households done of the total."""
    async with uow:
        job = await uow.imports.get(import_id)
    if job is None or not visible_to(principal, job.authority_id):
        return not_found(request, "Import", "import", import_id)
    return ImportOut.of(job)
