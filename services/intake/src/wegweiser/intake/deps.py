"""Typed dependencies of intake's routes: the one place that reads ``app.state``.

``app.py`` puts the objects there once; routes ask for them by type (``UnitOfWorkDep``, ``SettingsDep``,
...) instead of reaching into the untyped state themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from wegweiser.common.auth import Principal, require_role
from wegweiser.common.http import from_app_state
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.intake.handlers import IntakeUnitOfWork
from wegweiser.intake.imports import ImportWorker
from wegweiser.intake.quotas import Quotas
from wegweiser.intake.settings import IntakeSettings


def install(
    app: FastAPI, *, runtime: ServiceRuntime, settings: IntakeSettings, quotas: Quotas, imports: ImportWorker
) -> None:
    """Called once by ``app.build``: what the dependencies below hand to the routes."""
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.quotas = quotas
    app.state.imports = imports


def _unit_of_work(request: Request) -> IntakeUnitOfWork:
    runtime: ServiceRuntime = request.app.state.runtime
    uow: IntakeUnitOfWork = runtime.unit_of_work()
    return uow


SettingsDep = Annotated[IntakeSettings, from_app_state("settings")]
UnitOfWorkDep = Annotated[IntakeUnitOfWork, Depends(_unit_of_work)]
"""A fresh unit of work per request; handlers open and close its transactions themselves."""
QuotasDep = Annotated[Quotas, from_app_state("quotas")]
ImportsDep = Annotated[ImportWorker, from_app_state("imports")]
PrincipalDep = Annotated[Principal, require_role("reception_authority", "admin")]
"""The caller: a reception authority (or an admin), from a valid token."""
AdminDep = Annotated[Principal, require_role("admin")]
"""An administrator: only for the subject access export."""
