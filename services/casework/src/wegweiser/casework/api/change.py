"""What every route that changes a case needs, as one dependency (``ChangeDep``).

The caller, the request, its unit of work, the settings and today travel together; ``once`` runs a
change under the request's ``Idempotency-Key`` and ``or_problem`` answers a refusal as problem+json.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from wegweiser.casework.api import problems
from wegweiser.casework.deps import SettingsDep, StaffDep, TodayDep, UnitOfWorkDep
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.idempotency import answer_once
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common.auth import Principal

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Change:
    principal: Principal
    request: Request
    uow: CaseworkUnitOfWork
    settings: CaseworkSettings
    today: dt.date

    @property
    def pseudonym_key(self) -> str:
        return self.settings.pseudonym_key

    async def or_problem(self, call: Awaitable[T]) -> T | JSONResponse:
        return await problems.or_problem(self.request, call)

    async def once(self, change: Callable[[], Awaitable[Any]]) -> Any:
        """The change made once per ``Idempotency-Key`` (the first answer again for a repeat)."""
        return await answer_once(
            self.request, self.principal, self.uow, lambda: problems.or_problem(self.request, change())
        )


def staff_change(
    principal: StaffDep, request: Request, uow: UnitOfWorkDep, settings: SettingsDep, today: TodayDep
) -> Change:
    return Change(principal, request, uow, settings, today)


ChangeDep = Annotated[Change, Depends(staff_change)]
