"""Importing uploads: a whole CSV/XLSX file is validated first (a report per row), then registered.

Up to ``import_sync_max_households`` households are imported in the request, in one transaction
(201). Larger files become a job (202): its validated content is stored with it, a worker registers
it chunk by chunk, each chunk in one transaction with the job's progress, and a job whose process
died is taken over when its lease expires. Registration is idempotent per (authority, reference),
so nothing is registered twice. The routes are in ``api/uploads.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry import propagate, trace
from pydantic import ValidationError

from wegweiser.common.auth import Principal
from wegweiser.common.db import utcnow
from wegweiser.common.localtime import today
from wegweiser.common.regions import catalogue
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.intake.api.models import ARRIVAL_IN
from wegweiser.intake.domain.imports import ImportJob
from wegweiser.intake.domain.model import ArrivalRejected, check_arrival
from wegweiser.intake.handlers import (
    ImportChunk,
    ImportHousehold,
    NewArrival,
    StartImport,
    import_chunk,
    new_arrival,
)
from wegweiser.intake.messages import pydantic_errors
from wegweiser.intake.quotas import Quotas
from wegweiser.intake.settings import IntakeSettings
from wegweiser.intake.upload_reader import (
    COLUMNS,
    CellError,
    Household,
    read_sheet,
)

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True, slots=True)
class Validated:
    """A checked file: its valid households, and the errors with the rows of every failed household.

    A household with an error in any of its rows is not among ``households``: it is imported whole
    or not at all. The API refuses a file with errors; the upload page may import the valid part.
    """

    households: list[tuple[dict[str, Any], NewArrival, int]]  # document, command, rows
    rows: int
    errors: list[CellError]
    failed_rows: frozenset[int] = frozenset()

    @property
    def valid_rows(self) -> int:
        return sum(rows for _, _, rows in self.households)


def validate_upload(
    content: bytes, media_type: str, *, principal: Principal, today: dt.date, max_rows: int
) -> Validated:
    """Read and check every row exactly as the JSON API would; nothing is stored here."""
    sheet = read_sheet(content, media_type, max_rows=max_rows)
    errors = list(sheet.errors)
    unreadable = {e.row for e in sheet.errors}  # cells that could not be read: their household fails
    regions = catalogue()
    households: list[tuple[dict[str, Any], NewArrival, int]] = []
    owners: dict[str, str] = {}
    for household in sheet.households:
        document = household.document()
        reference = document.get("authority_reference")
        if isinstance(reference, str) and owners.setdefault(reference, household.key) != household.key:
            errors.append(
                _at(
                    household,
                    sheet.columns,
                    "authority_reference",
                    "Aktenzeichen gehört schon zu einem anderen Haushalt.",
                    "Reference already belongs to another household.",
                )
            )
            continue
        try:
            arrival_in = ARRIVAL_IN.validate_python(document)
        except ValidationError as exc:
            german = pydantic_errors(exc, english=False)
            english = pydantic_errors(exc, english=True)
            for de, en in zip(german, english, strict=True):
                errors.append(_at(household, sheet.columns, de["field"], de["message"], en["message"]))
            continue
        if not principal.may_access_ags(arrival_in.ags):
            errors.append(
                _at(
                    household,
                    sheet.columns,
                    "ags",
                    f"Das Token erlaubt keine Zuweisung nach {arrival_in.ags}.",
                    f"The token does not allow allocations to {arrival_in.ags}.",
                )
            )
            continue
        command = arrival_in.command()
        try:
            check_arrival(
                new_arrival(authority_id=principal.authority_id or "", item=command),
                today=today,
                is_allocation_target=regions.is_allocation_target(command.ags),
            )
        except ArrivalRejected as exc:
            errors.append(_at(household, sheet.columns, exc.field, exc.message_de, exc.message_en))
            continue
        if unreadable.intersection(household.rows):
            continue
        households.append((arrival_in.model_dump(mode="json"), command, len(household.rows)))
    # A cell that could not be read is also "missing" to the validation: report it once.
    unique = {(e.row, e.column or e.field): e for e in reversed(errors)}
    failed = {e.row for e in errors if e.row > 1}
    for household in sheet.households:
        if failed.intersection(household.rows):
            failed.update(household.rows)
    return Validated(
        households,
        sheet.rows,
        sorted(unique.values(), key=lambda e: (e.row, e.column or "")),
        frozenset(failed),
    )


def _at(household: Household, columns: dict[str, str], field: str, de: str, en: str) -> CellError:
    """Point an error of the household's document at the spreadsheet row and column it came from."""
    parts = field.split(".")
    row = household.rows[0]
    name = parts[0]
    if parts[0] == "persons" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        row = household.rows[index] if index < len(household.rows) else row
        name = parts[2] if len(parts) > 2 else "persons"
    column = columns.get(name) or (COLUMNS[name][0] if name in COLUMNS else None)
    return CellError(row, column, name, de, en)


def import_command(
    validated: Validated,
    *,
    authority_id: str,
    uploaded_by: str,
    filename: str | None,
    media_type: str,
    synchronous: bool,
) -> StartImport:
    """The valid households of a checked file as one import (the API's and the upload page's)."""
    return StartImport(
        authority_id=authority_id,
        uploaded_by=uploaded_by,
        filename=filename,
        media_type=media_type,
        households=tuple(ImportHousehold(arrival=c, rows=r) for _, c, r in validated.households),
        rows_total=validated.valid_rows,
        payload="" if synchronous else job_payload(validated.households),
        synchronous=synchronous,
    )


def job_payload(households: Sequence[tuple[dict[str, Any], NewArrival, int]]) -> str:
    return orjson.dumps([{"rows": rows, "arrival": document} for document, _, rows in households]).decode()


def _from_payload(payload: str) -> list[ImportHousehold]:
    return [
        ImportHousehold(arrival=ARRIVAL_IN.validate_python(h["arrival"]).command(), rows=h["rows"])
        for h in orjson.loads(payload)
    ]


class ImportWorker:
    """Runs import jobs of this database: one at a time per process, claimed by lease across replicas."""

    def __init__(self, *, runtime: ServiceRuntime, settings: IntakeSettings, quotas: Quotas) -> None:
        self._runtime = runtime
        self._settings = settings
        self._quotas = quotas
        self._poll_s = settings.import_poll_s
        self._lease = dt.timedelta(seconds=settings.import_lease_s)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="intake-imports")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.run_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("import worker failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()

    async def run_pending(self) -> int:
        """Claim and finish every job nobody works on; returns how many were run."""
        async with self._runtime.unit_of_work() as uow:
            pending = await uow.imports.claimable(now=utcnow())
        ran = 0
        for import_id in pending:
            async with self._runtime.unit_of_work() as uow:
                claimed = await uow.imports.claim(import_id, now=utcnow(), lease_until=utcnow() + self._lease)
                await uow.commit()
            if claimed:
                await self._process(import_id)
                ran += 1
        return ran

    async def _process(self, import_id: uuid.UUID) -> None:
        async with self._runtime.unit_of_work() as uow:
            job = await uow.imports.get(import_id)
            payload = await uow.imports.payload(import_id)
            request_trace = await uow.imports.request_trace(import_id)
        if job is None or payload is None:
            return
        # The job continues the upload's trace: each arrival it registers is one flow from the request on.
        upload = propagate.extract({"traceparent": request_trace} if request_trace else {})
        with tracer.start_as_current_span(
            "intake import job", context=upload, attributes={"wegweiser.import_id": str(import_id)}
        ):
            await self._import(job, _from_payload(payload))

    async def _import(self, job: ImportJob, households: list[ImportHousehold]) -> None:
        """Chunk after chunk, each committed with the job's progress, until the job is done."""
        import_id = job.import_id
        size = self._settings.import_chunk_households
        current: ImportJob | None = job
        while current is not None and current.status == "running":
            start = current.households_done
            chunk = tuple(households[start : start + size])
            await self._wait_for_quota(current.authority_id, len(chunk))
            current = await import_chunk(
                ImportChunk(
                    import_id=import_id, start=start, households=chunk, lease_until=utcnow() + self._lease
                ),
                uow=self._runtime.unit_of_work(),
                today=today(),
                pseudonym_key=self._settings.pseudonym_key,
            )
            await asyncio.sleep(0)  # let requests in between chunks

    async def _wait_for_quota(self, authority_id: str, n: int) -> None:
        """A job waits for its authority's quota instead of being refused: the upload was accepted."""
        wait = self._quotas.admit_authority(authority_id, n)
        while wait > 0:
            await asyncio.sleep(min(wait, 5.0))
            wait = self._quotas.admit_authority(authority_id, n)
