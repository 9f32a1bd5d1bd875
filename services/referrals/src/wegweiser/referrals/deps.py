"""Typed dependencies of the HTTP routes: the only place that reads what ``app.py`` put on the app.

``app.py`` builds one ``ReferralsContext`` and attaches it; routes ask for the part they need
(``UnitOfWorkDep``, ``PolicyDep``, ``SettingsDep``, ...) and for the caller (``AdminDep``, ``StaffDep``,
``PartnerIdDep``), never for ``request.app.state``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from wegweiser.common.auth import Forbidden, Principal, PrincipalDep, require_role
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.referrals.background import Background
from wegweiser.referrals.consumers import FeedbackConsumer, PartnerTopics
from wegweiser.referrals.delivery.addresses import AddressGuard
from wegweiser.referrals.delivery.worker import WebhookWorker
from wegweiser.referrals.handlers import Policy, ReferralsUnitOfWork
from wegweiser.referrals.settings import ReferralsSettings

__all__ = [
    "AddressGuardDep",
    "AdminDep",
    "ContextDep",
    "PartnerIdDep",
    "PolicyDep",
    "PrincipalDep",
    "ReferralsContext",
    "SettingsDep",
    "StaffDep",
    "UnitOfWorkDep",
    "attach",
    "context_of",
]


@dataclass(frozen=True)
class ReferralsContext:
    """What the composition root built and the routes (and tests) may reach."""

    settings: ReferralsSettings
    runtime: ServiceRuntime
    unit_of_work: Callable[[], ReferralsUnitOfWork]
    policy: Policy
    worker: WebhookWorker
    background: Background
    feedback: FeedbackConsumer
    partner_topics: PartnerTopics
    webhook_addresses: AddressGuard

    def catalogue_changed(self) -> None:
        """After an admin change: re-read the partner set (feedback topics) and wake the webhook worker."""
        self.feedback.changed.set()
        self.worker.wake.set()


def attach(app: FastAPI, context: ReferralsContext) -> None:
    app.state.referrals = context


def context_of(app: FastAPI) -> ReferralsContext:
    """The context ``attach`` stored on ``app`` (typed; for routes through ``ContextDep``, and tests)."""
    context = app.state.referrals
    if not isinstance(context, ReferralsContext):
        raise TypeError("the app was not built by wegweiser.referrals.app.build")
    return context


def _context(request: Request) -> ReferralsContext:
    return context_of(request.app)


ContextDep = Annotated[ReferralsContext, Depends(_context)]


def _settings(context: ContextDep) -> ReferralsSettings:
    return context.settings


def _unit_of_work(context: ContextDep) -> ReferralsUnitOfWork:
    """A fresh unit of work; routes and handlers enter it (``async with``) for each transaction."""
    return context.unit_of_work()


def _policy(context: ContextDep) -> Policy:
    return context.policy


def _address_guard(context: ContextDep) -> AddressGuard:
    return context.webhook_addresses


SettingsDep = Annotated[ReferralsSettings, Depends(_settings)]
UnitOfWorkDep = Annotated[ReferralsUnitOfWork, Depends(_unit_of_work)]
PolicyDep = Annotated[Policy, Depends(_policy)]
AddressGuardDep = Annotated[AddressGuard, Depends(_address_guard)]

AdminDep = Annotated[Principal, require_role("admin")]
StaffDep = Annotated[Principal, require_role("counsellor", "supervisor", "admin")]
_PartnerPrincipal = Annotated[Principal, require_role("partner")]


def _calling_partner(principal: _PartnerPrincipal) -> str:
    """The partner id of a partner's token (403 when the token has none)."""
    if not principal.partner_id:
        raise Forbidden("partner token without partner_id", de="Partner-Token ohne partner_id")
    return principal.partner_id


PartnerIdDep = Annotated[str, Depends(_calling_partner)]
