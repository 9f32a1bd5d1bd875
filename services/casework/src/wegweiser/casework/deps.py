"""Typed FastAPI dependencies of casework's API and web UI: the one place that reads ``app.state``.

``app.py`` puts the ``ServiceRuntime`` on ``app.state.runtime``; routes ask for what they need by type
(``UnitOfWorkDep``, ``SettingsDep``, ``StaffDep``...) instead of reaching into the request.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

from fastapi import Depends, Request

from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import localtime
from wegweiser.common.auth import JwksValidator, Principal, require_role
from wegweiser.common.runtime import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime:
    return cast(ServiceRuntime, request.app.state.runtime)


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> CaseworkSettings:
    return cast(CaseworkSettings, runtime.settings)


def get_unit_of_work(runtime: RuntimeDep) -> CaseworkUnitOfWork:
    """One per request; each ``async with`` on it is a transaction of its own, one after the other."""
    return cast(CaseworkUnitOfWork, runtime.unit_of_work())


def get_token_validator(runtime: RuntimeDep) -> JwksValidator:
    return runtime.auth


SettingsDep = Annotated[CaseworkSettings, Depends(get_settings)]
UnitOfWorkDep = Annotated[CaseworkUnitOfWork, Depends(get_unit_of_work)]
TokenValidatorDep = Annotated[JwksValidator, Depends(get_token_validator)]
TodayDep = Annotated[dt.date, Depends(localtime.today)]
"""Today in Baden-Württemberg, the day every date rule of a case is judged by."""

StaffDep = Annotated[Principal, require_role("counsellor", "supervisor", "admin")]
SupervisorDep = Annotated[Principal, require_role("supervisor")]
AdminDep = Annotated[Principal, require_role("admin")]
