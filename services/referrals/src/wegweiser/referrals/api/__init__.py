"""Referrals' HTTP API (``/v1``), one module per area; routes only translate.

Access (docs/architecture.md): the catalogue is readable by every signed-in role; changes need ``admin``;
counsellors and supervisors see referrals of their provider in their AGS; a partner sees and answers
only referrals sent to it (anything else is 404, so existence does not leak).
"""

from fastapi import APIRouter

from wegweiser.referrals.api import admin, catalogue, docs, feedback, partner, staff, subject_access

router = APIRouter(prefix="/v1")
for area in (catalogue, admin, subject_access, staff, partner, feedback):
    router.include_router(area.router)

docs_router = docs.router
"""Outside ``/v1``: the AsyncAPI document."""

__all__ = ["docs_router", "router"]
