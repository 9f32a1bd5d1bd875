"""Statistics' HTTP API (``/v1/indicators``): aggregates only, after disclosure control."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from wegweiser.common.auth import Principal, require_role
from wegweiser.common.http import problem
from wegweiser.common.regions import catalogue
from wegweiser.statistics.db import count_consultations
from wegweiser.statistics.disclosure import suppress

ReaderDep = Annotated[Principal, require_role("statistics_reader", "admin")]


class IndicatorValue(BaseModel):
    indicator: str
    region: str
    period: str
    value: int | str
    suppressed: bool


def router() -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["indicators"])

    @api.get("/indicators/consultations", response_model=IndicatorValue)
    async def consultations(
        principal: ReaderDep,
        request: Request,
        ags: Annotated[str, Query(pattern=r"^\d{8}$")],
        year: Annotated[int | None, Query(ge=2017, le=2100)] = None,
    ) -> Any:
        """Number of consultations held in a municipality (all time, or one year)."""
        if catalogue().get(ags) is None:
            return problem(
                request,
                422,
                f"unknown municipality {ags}",
                errors=[{"field": "ags", "message": "unknown AGS"}],
            )
        runtime = request.app.state.runtime
        async with runtime.unit_of_work() as uow:
            count = await count_consultations(uow.session, ags=ags, year=year)
        value = suppress(count, threshold=runtime.settings.suppression_threshold)
        return IndicatorValue(
            indicator="consultations",
            region=ags,
            period=str(year) if year else "all",
            value=value,
            suppressed=value != count,
        )

    return api
