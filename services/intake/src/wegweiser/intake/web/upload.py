"""The upload page: a clerk checks a CSV or XLSX file, reads the error report, and imports.

Nothing of a file with errors is stored. The report carries the file back to the browser (base64 in a
hidden field of its one form), so the clerk's choice, to download the failed rows or to import only the
valid rows, checks the very same file again in full. Imports go through the same handler as
``POST /v1/imports``: registration is idempotent per (authority, reference), so a file uploaded twice
creates nothing twice.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import math
import uuid
from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from wegweiser.common.localtime import today
from wegweiser.intake.api.uploads import ImportOut
from wegweiser.intake.deps import ImportsDep, QuotasDep, SettingsDep, UnitOfWorkDep
from wegweiser.intake.domain.imports import ImportJob
from wegweiser.intake.handlers import IntakeUnitOfWork, start_import
from wegweiser.intake.imports import ImportWorker, Validated, import_command, validate_upload
from wegweiser.intake.quotas import Quotas
from wegweiser.intake.settings import IntakeSettings
from wegweiser.intake.upload_reader import XLSX_MEDIA_TYPE, UnreadableFile
from wegweiser.intake.upload_writer import as_csv, as_file, as_xlsx, failed_rows, template_rows
from wegweiser.intake.web.messages import t
from wegweiser.intake.web.pages import ClerkDep, PageUser, render

router = APIRouter(prefix="/upload", include_in_schema=False)

CSV = "text/csv"
MEDIA_TYPES = (CSV, XLSX_MEDIA_TYPE)
REPORT_SUMMARY_ITEMS = 20


@dataclass(frozen=True, slots=True)
class Upload:
    content: bytes
    media_type: str
    filename: str


@router.get("")
async def upload_page(request: Request, clerk: ClerkDep, settings: SettingsDep) -> Response:
    return _form(request, clerk, settings)


@router.get("/template.{kind}")
async def template(kind: Literal["xlsx", "csv"], clerk: ClerkDep) -> Response:
    """The column headings and one example row, in the format the clerk's office uses."""
    rows = template_rows(today())
    content, media_type = (as_xlsx(rows), XLSX_MEDIA_TYPE) if kind == "xlsx" else (as_csv(rows), CSV)
    return _attachment(content, media_type, f"zuweisungen-vorlage.{kind}")


@dataclass(frozen=True, slots=True)
class Importer:
    """What importing a checked file takes: the limits, the database, the authority's quota, the worker."""

    settings: IntakeSettings
    uow: IntakeUnitOfWork
    quotas: Quotas
    imports: ImportWorker


def _importer(settings: SettingsDep, uow: UnitOfWorkDep, quotas: QuotasDep, imports: ImportsDep) -> Importer:
    return Importer(settings, uow, quotas, imports)


ImporterDep = Annotated[Importer, Depends(_importer)]


@router.post("")
async def check(request: Request, clerk: ClerkDep, importer: ImporterDep) -> Response:
    """Check the whole file: import it when it is clean, otherwise answer with the error report."""
    settings = importer.settings
    if _too_large(request, settings):
        return _form(request, clerk, settings, t("upload.too_large", clerk.lang, mb=_mb(settings)), 413)
    form = await request.form(max_files=1, max_fields=5)
    if not _csrf(form, clerk):
        return _form(request, clerk, settings, t("error.csrf", clerk.lang), 400)
    upload, problem = await _file_of(form, clerk.lang, settings)
    if upload is None:
        return _form(request, clerk, settings, problem, 422)
    return await _checked(request, clerk, upload, importer, valid_part=False)


@router.post("/import")
async def import_valid_rows(request: Request, clerk: ClerkDep, importer: ImporterDep) -> Response:
    """The clerk chose to import the valid households of a file with errors."""
    upload = await _returned_file(request, clerk, importer.settings)
    if isinstance(upload, Response):
        return upload
    return await _checked(request, clerk, upload, importer, valid_part=True)


@router.post("/failed-rows")
async def download_failed_rows(request: Request, clerk: ClerkDep, settings: SettingsDep) -> Response:
    """The failed rows as they were uploaded, with their messages, to correct and upload again."""
    upload = await _returned_file(request, clerk, settings)
    if isinstance(upload, Response):
        return upload
    validated = await _validate(upload, clerk, settings)
    if isinstance(validated, str):
        return _form(request, clerk, settings, validated, 422)
    rows = failed_rows(
        upload.content,
        upload.media_type,
        rows=validated.failed_rows,
        errors=validated.errors,
        english=clerk.lang == "en",
    )
    content, media_type, extension = as_file(rows, upload.media_type)
    stem = PurePath(upload.filename).stem or "zuweisungen"
    return _attachment(content, media_type, f"{stem}-fehlerhafte-zeilen.{extension}")


@router.get("/imports/{import_id}")
async def import_page(
    import_id: uuid.UUID, request: Request, clerk: ClerkDep, uow: UnitOfWorkDep
) -> Response:
    """An import's progress and result; the page follows a running job by itself (``upload.js``)."""
    job = await _job(import_id, clerk, uow)
    if job is None:
        return render(request, "error.html", clerk=clerk, status=404, title=t("not_found", clerk.lang))
    return render(request, "import.html", clerk=clerk, job=ImportOut.of(job), arrivals=None)


@router.get("/imports/{import_id}/progress")
async def import_progress(import_id: uuid.UUID, clerk: ClerkDep, uow: UnitOfWorkDep) -> Response:
    """The progress bar's data, for the page's script (the session cookie, not a bearer token)."""
    job = await _job(import_id, clerk, uow)
    if job is None:
        return JSONResponse({"status": "unknown"}, 404)
    out = ImportOut.of(job)
    text = t("import.rows", clerk.lang, done=job.rows_done, total=job.rows_total)
    return JSONResponse({"status": job.status, "percent": out.percent, "text": text})


# --- the steps ------------------------------------------------------------------------------------------


async def _checked(
    request: Request, clerk: PageUser, upload: Upload, importer: Importer, *, valid_part: bool
) -> Response:
    settings, uow = importer.settings, importer.uow
    validated = await _validate(upload, clerk, settings)
    if isinstance(validated, str):
        return _form(request, clerk, settings, validated, 422)
    if validated.errors and not valid_part:
        return _report(request, clerk, upload, validated)
    if not validated.households:
        if validated.errors:
            return _report(request, clerk, upload, validated)
        return _form(request, clerk, settings, t("upload.no_rows", clerk.lang), 422)
    households = len(validated.households)
    synchronous = households <= settings.import_sync_max_households
    if synchronous and (wait := importer.quotas.admit_authority(clerk.org_id, households)) > 0:
        return _form(request, clerk, settings, t("upload.quota", clerk.lang, s=math.ceil(wait)), 429)
    command = import_command(
        validated,
        authority_id=clerk.org_id,
        uploaded_by=clerk.principal.subject,
        filename=upload.filename,
        media_type=upload.media_type,
        synchronous=synchronous,
    )
    job = await start_import(command, uow=uow, today=today(), pseudonym_key=settings.pseudonym_key)
    if job.status != "completed":
        importer.imports.wake()
        return RedirectResponse(f"/upload/imports/{job.import_id}", status_code=303)
    async with uow:
        found = await uow.arrivals.by_references(
            authority_id=clerk.org_id,
            references=[c.authority_reference for _, c, _ in validated.households],
        )
    arrivals = sorted(found.values(), key=lambda a: a.authority_reference)
    return render(request, "import.html", clerk=clerk, job=ImportOut.of(job), arrivals=arrivals)


async def _validate(upload: Upload, clerk: PageUser, settings: IntakeSettings) -> Validated | str:
    """The file checked row by row exactly as the API checks it; a message if it cannot be read."""
    try:
        return await asyncio.to_thread(
            validate_upload,
            upload.content,
            upload.media_type,
            principal=clerk.principal,
            today=today(),
            max_rows=settings.import_max_rows,
        )
    except UnreadableFile as exc:
        return exc.message_en if clerk.lang == "en" else exc.message_de


def _report(request: Request, clerk: PageUser, upload: Upload, validated: Validated) -> Response:
    """422 with every error (row, column, what is wrong, what would be right); nothing was imported."""
    return render(
        request,
        "report.html",
        clerk=clerk,
        status=422,
        upload=upload,
        encoded=base64.b64encode(upload.content).decode(),
        errors=validated.errors,
        error_rows=len({e.row for e in validated.errors}),
        failed_rows=len(validated.failed_rows),
        total=validated.rows,
        households=len(validated.households),
        valid_rows=validated.valid_rows,
        summary_items=REPORT_SUMMARY_ITEMS,
        example_date=today().strftime("%d.%m.%Y"),
    )


def _form(
    request: Request, clerk: PageUser, settings: IntakeSettings, error: str | None = None, status: int = 200
) -> Response:
    return render(request, "upload.html", clerk=clerk, status=status, error=error, mb=_mb(settings))


# --- reading the request --------------------------------------------------------------------------------


async def _file_of(form: FormData, lang: str, settings: IntakeSettings) -> tuple[Upload | None, str]:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return None, t("upload.no_file", lang)
    content = await file.read(settings.import_max_bytes + 1)
    if len(content) > settings.import_max_bytes:
        return None, t("upload.too_large", lang, mb=_mb(settings))
    if not content:
        return None, t("upload.no_rows", lang)
    media_type = _media_type(file.filename, file.content_type or "")
    if media_type is None:
        return None, t("upload.wrong_type", lang)
    return Upload(content, media_type, _clean_name(file.filename)), ""


async def _returned_file(request: Request, clerk: PageUser, settings: IntakeSettings) -> Upload | Response:
    """The file a report page carried back; it is checked again in full, like a new upload."""
    if _too_large(request, settings):
        return _form(request, clerk, settings, t("upload.too_large", clerk.lang, mb=_mb(settings)), 413)
    form = await request.form(max_files=0, max_fields=5)
    if not _csrf(form, clerk):
        return _form(request, clerk, settings, t("error.csrf", clerk.lang), 400)
    media_type = str(form.get("media_type", ""))
    try:
        content = base64.b64decode(str(form.get("content", "")), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if media_type not in MEDIA_TYPES or not content or len(content) > settings.import_max_bytes:
        return _form(request, clerk, settings, t("upload.no_file", clerk.lang), 422)
    return Upload(content, media_type, _clean_name(str(form.get("filename", ""))))


def _media_type(filename: str, declared: str) -> str | None:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx" or declared == XLSX_MEDIA_TYPE:
        return XLSX_MEDIA_TYPE
    if suffix in (".csv", ".txt") or declared in (CSV, "application/csv", "text/plain"):
        return CSV
    return None


def _clean_name(filename: str) -> str:
    """The file's own name, without folders or control characters, as the import records it."""
    name = PurePath(filename.replace("\\", "/")).name
    return "".join(c for c in name if c.isprintable())[:200]


def _too_large(request: Request, settings: IntakeSettings) -> bool:
    """Refuse before parsing: base64 in a form needs about 4/3 of the file, plus the other fields."""
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > settings.import_max_bytes * 3 // 2 + 65_536


def _csrf(form: FormData, clerk: PageUser) -> bool:
    return hmac.compare_digest(str(form.get("csrf", "")), clerk.csrf)


def _mb(settings: IntakeSettings) -> int:
    return max(1, settings.import_max_bytes // (1024 * 1024))


def _attachment(content: bytes, media_type: str, filename: str) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'},
    )


async def _job(import_id: uuid.UUID, clerk: PageUser, uow: UnitOfWorkDep) -> ImportJob | None:
    async with uow:
        job = await uow.imports.get(import_id)
    return job if job is not None and job.authority_id == clerk.org_id else None
