"""Casework's copy of the programme and partner catalogue that referrals publishes (compacted topic).

Counsellors pick a programme, and a partner where the person wants one, from this copy; the
programme's ``person_fields`` decide what a referral request may carry (``programmes.person_fields_for``).
"""

from __future__ import annotations

from wegweiser.casework.db import PartnerRow, ProgrammeRow
from wegweiser.casework.handlers import CaseworkUnitOfWork, on
from wegweiser.common import events
from wegweiser.common.dispatch import EventHandler
from wegweiser.common.envelope import Envelope


async def programme_published(
    event: events.ProgrammePublished, envelope: Envelope, uow: CaseworkUnitOfWork
) -> None:
    """Latest wins: the compacted topic may replay older versions after a rebalance."""
    current = await uow.catalogue.programme(event.programme)
    if current is not None and current.published_at is not None and current.published_at > event.published_at:
        return
    await uow.catalogue.put_programme(
        ProgrammeRow(
            code=event.programme,
            name_de=event.name_de,
            name_en=event.name_en,
            person_fields=list(event.person_fields),
            required_fields=list(event.required_fields),
            active=event.active,
            published_at=event.published_at,
        )
    )


async def partner_published(
    event: events.PartnerPublished, envelope: Envelope, uow: CaseworkUnitOfWork
) -> None:
    current = await uow.catalogue.partner(event.partner_id)
    if current is not None and current.published_at is not None and current.published_at > event.published_at:
        return
    await uow.catalogue.put_partner(
        PartnerRow(
            partner_id=event.partner_id,
            name=event.organisation,
            programmes=list(event.programmes),
            ags=list(event.ags),
            kreise=list(event.kreise),
            laender=list(event.laender),
            active=event.active,
            published_at=event.published_at,
        )
    )


async def partner_removed(event: events.PartnerRemoved, envelope: Envelope, uow: CaseworkUnitOfWork) -> None:
    current = await uow.catalogue.partner(event.partner_id)
    if current is None or (current.published_at is not None and current.published_at > event.published_at):
        return
    current.active = False
    current.published_at = event.published_at
    await uow.catalogue.put_partner(current)


CATALOGUE_HANDLERS: dict[type[events.Event], EventHandler] = {
    events.ProgrammePublished: on(programme_published),
    events.PartnerPublished: on(partner_published),
    events.PartnerRemoved: on(partner_removed),
}
