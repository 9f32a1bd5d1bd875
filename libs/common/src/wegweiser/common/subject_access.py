"""The one shape of a subject access export (GDPR Art. 15), shared by every service that holds a person.

Each service answers ``GET /v1/admin/persons/{person_id}/export`` with this document for what it holds
itself; `wegweiser export-person` (``subject_access_all``) joins the three. Section titles are German,
English when the request asks for ``Accept-Language: en``. With ``Accept: application/pdf`` the same
route answers the same document as a readable PDF (``answer``; rendered by ``subject_access_pdf``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

SCHEMA = "wegweiser.subject-access.v1"
PDF = "application/pdf"

# For the routes' ``responses=``: OpenAPI shows that the export also comes as a PDF.
OPENAPI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": f"The export (`{SCHEMA}`) as JSON, or as a readable PDF with `Accept: {PDF}`",
        "content": {"application/json": {}, PDF: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def wants_english(accept_language: str | None) -> bool:
    """English only when it is the first language asked for; German is the default."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return first == "en" or first.startswith("en-") or first.startswith("en;")


def document(
    *,
    service: str,
    person_id: uuid.UUID | None,
    sections: Mapping[str, Any],
    titles: Mapping[str, tuple[str, str]],
    english: bool,
    now: dt.datetime,
    case_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """``sections`` keyed by a stable id; ``titles`` maps each id to its (German, English) title.

    A service that knows the person only by case (referrals) names the case and leaves ``person_id`` null.
    """
    subject = {"case_id": str(case_id)} if case_id is not None else {}
    return {
        "schema": SCHEMA,
        "service": service,
        "person_id": str(person_id) if person_id is not None else None,
        **subject,
        "generated_at": now.isoformat(),
        "language": "en" if english else "de",
        "sections": {titles[key][english]: value for key, value in sections.items()},
    }


def wants_pdf(accept: str | None) -> bool:
    """A PDF when the client ranks ``application/pdf`` at least as high as JSON (and names it at all)."""
    ranks: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.strip().lower()] = max(quality, ranks.get(media.strip().lower(), 0.0))
    json_rank = max(ranks.get(m, 0.0) for m in ("application/json", "application/*", "*/*"))
    return ranks.get(PDF, 0.0) > 0 and ranks[PDF] >= json_rank


def media(request: Request) -> str:
    """``"pdf"`` or ``"json"``: what ``answer`` will send, for the audit entry written before it."""
    return "pdf" if wants_pdf(request.headers.get("accept")) else "json"


async def answer(request: Request, doc: dict[str, Any]) -> Response:
    """The document as the client asked for it: JSON, or the PDF (rendered off the event loop)."""
    if media(request) == "json":
        return JSONResponse(doc)
    # Imported here: fpdf2 and its fonts cost half a second at every start of every service.
    from wegweiser.common import subject_access_pdf

    body = await asyncio.to_thread(subject_access_pdf.render, doc)
    subject = doc.get("person_id") or doc.get("case_id")
    name = f"auskunft-{doc['service']}-{subject}.pdf"
    return Response(
        body,
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
