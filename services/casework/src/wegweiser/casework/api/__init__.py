"""Casework's HTTP API for integrations (``/v1``), the same operations as the web UI; routes only translate.

One module per business area; errors are problem+json as ``problems`` describes.
"""

from fastapi import APIRouter

from wegweiser.casework.api import admin, cases, consent, consultations, plan, referrals, supervision

router = APIRouter(prefix="/v1")
for area in (cases, consultations, plan, consent, referrals, supervision, admin):
    router.include_router(area.router)
