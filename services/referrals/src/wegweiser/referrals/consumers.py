"""Referrals' event handlers."""

from __future__ import annotations

from wegweiser.common import events
from wegweiser.common.db import UnitOfWork
from wegweiser.common.envelope import Envelope
from wegweiser.referrals.db import KnownCase


async def on_case_opened(event: events.CaseOpened, envelope: Envelope, uow: UnitOfWork) -> None:
    if await uow.session.get(KnownCase, event.case_id) is None:
        uow.session.add(
            KnownCase(
                case_id=event.case_id, ags=event.ags, provider_id=event.provider_id, opened_on=event.opened_on
            )
        )
