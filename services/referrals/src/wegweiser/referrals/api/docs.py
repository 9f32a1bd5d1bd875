"""The AsyncAPI 3 document of the partner topics, served beside the OpenAPI one."""

from typing import Any

from fastapi import APIRouter

from wegweiser.referrals.asyncapi import document

router = APIRouter(tags=["docs"])


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3 document of the partner topics (also committed under docs/)."""
    return document()
