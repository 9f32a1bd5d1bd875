"""Referrals' tables (adapter side) and the repositories that map rows to domain objects.

Personal data lives in three places here (docs/architecture.md): the payload of a pending webhook
delivery (``webhook_deliveries.body``) and an unsent outbox record for a partner topic, both only until
delivery, and the partner inbox's copy of the offer (``partner_offers``), only while the referral is
under way (erased when it reaches a final state or its consent is withdrawn).
Referral rows are pseudonymous: ids, codes and dates; still personal data, so they are
erased with their case (``case.erased``) or after the retention period from their final state.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    Text,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col

from wegweiser.common.audit import AuditEntry
from wegweiser.common.db import utcnow
from wegweiser.common.personal_data import PersonKeyColumns
from wegweiser.referrals.domain.catalogue import Partner, ProgrammeInfo
from wegweiser.referrals.domain.lifecycle import TERMINAL, Referral


class ReferralsTable(SQLModel, registry=registry()):
    pass


class PersonKeyRow(ReferralsTable, PersonKeyColumns, table=True):
    """The data keys of personal fields sealed on Kafka (``wegweiser.common.personal_data``)."""

    __tablename__ = "person_keys"


class AuditRow(ReferralsTable, AuditEntry, table=True):
    """Who exported which person's or case's data, and which admin retried which stuck records, when
    (``wegweiser.common.audit``); append-only."""

    __tablename__ = "audit_log"


class KnownCase(ReferralsTable, table=True):
    __tablename__ = "known_cases"

    case_id: uuid.UUID = Field(primary_key=True)
    ags: str = Field(index=True, max_length=12)
    provider_id: str | None = Field(default=None, max_length=100)
    opened_on: dt.date


class ProgrammeRow(ReferralsTable, table=True):
    __tablename__ = "programmes"

    programme: str = Field(primary_key=True, max_length=40)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=utcnow)


class PartnerRow(ReferralsTable, table=True):
    __tablename__ = "partners"

    partner_id: str = Field(primary_key=True, max_length=63)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    delivery: str = Field(max_length=10)
    removed: bool = Field(default=False, index=True)
    webhook_secret: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ReferralRow(ReferralsTable, table=True):
    __tablename__ = "referrals"

    referral_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    ags: str = Field(index=True, max_length=12)
    provider_id: str = Field(index=True, max_length=100)
    programme: str = Field(max_length=40)
    consent_id: uuid.UUID = Field(index=True)
    requested_on: dt.date
    state: str = Field(index=True, max_length=20)
    partner_id: str | None = Field(default=None, index=True, max_length=63)
    reason: str | None = Field(default=None, max_length=60)
    started_on: dt.date | None = None
    sent_at: dt.datetime | None = None
    # The timers: persisted, so a restart neither loses nor repeats a reminder or an expiry.
    remind_at: dt.datetime | None = Field(default=None, index=True)
    reminded_at: dt.datetime | None = None
    expire_at: dt.datetime | None = Field(default=None, index=True)
    updated_at: dt.datetime | None = None


class FeedbackRow(ReferralsTable, table=True):
    """Each partner answer once: a resent feedback id (HTTP or Kafka) returns the first result."""

    __tablename__ = "partner_feedback"

    partner_id: str = Field(primary_key=True, max_length=63)
    feedback_id: uuid.UUID = Field(primary_key=True)
    referral_id: uuid.UUID = Field(index=True)
    outcome: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=60)
    channel: str = Field(max_length=10)  # "http", "kafka" or "web" (the partner inbox)
    result_state: str | None = Field(default=None, max_length=20)
    rejected_code: str | None = Field(default=None, max_length=60)
    received_at: dt.datetime = Field(default_factory=utcnow)


class PartnerOfferRow(ReferralsTable, table=True):
    """What a referral's offer gave the partner (the consented minimum), for the partner inbox to show.

    Erased when the referral reaches a final state (the consent's withdrawal drops it), and with it.
    """

    __tablename__ = "partner_offers"

    referral_id: uuid.UUID = Field(primary_key=True)
    partner_id: str = Field(index=True, max_length=63)
    person: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    municipality: str | None = Field(default=None, max_length=200)
    referring_provider_id: str = Field(max_length=100)
    note_for_partner: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


@dataclass(frozen=True, slots=True)
class PartnerOffer:
    """A ``PartnerOfferRow`` read for a page: plain values, usable after the transaction."""

    referral_id: uuid.UUID
    person: dict[str, Any]
    municipality: str | None
    note_for_partner: str | None

    @classmethod
    def of(cls, row: PartnerOfferRow) -> PartnerOffer:
        return cls(row.referral_id, dict(row.person), row.municipality, row.note_for_partner)


class WebhookDeliveryRow(ReferralsTable, table=True):
    """One message for a webhook partner, sent by the delivery worker, never from inside a request."""

    __tablename__ = "webhook_deliveries"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    )
    delivery_id: uuid.UUID = Field(unique=True)  # the Webhook-Id header: partners deduplicate by it
    partner_id: str = Field(index=True, max_length=63)
    referral_id: uuid.UUID = Field(index=True)
    ce_type: str = Field(max_length=120)
    headers: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: str = Field(default="pending", index=True, max_length=12)  # pending/delivered/failed/cancelled
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    last_status_code: int | None = None
    last_attempt_at: dt.datetime | None = None  # when last_error / last_status_code were recorded
    created_at: dt.datetime = Field(default_factory=utcnow)
    delivered_at: dt.datetime | None = None
    erased_at: dt.datetime | None = None


class CatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def programmes(self) -> dict[str, ProgrammeInfo]:
        rows = (await self.session.execute(select(ProgrammeRow))).scalars()
        return {r.programme: ProgrammeInfo.model_validate(r.data) for r in rows}

    async def programme(self, code: str) -> ProgrammeInfo | None:
        row = await self.session.get(ProgrammeRow, code)
        return ProgrammeInfo.model_validate(row.data) if row else None

    async def save_programme(self, info: ProgrammeInfo) -> None:
        row = await self.session.get(ProgrammeRow, info.programme)
        data = info.model_dump(mode="json")
        if row is None:
            self.session.add(ProgrammeRow(programme=info.programme, data=data))
        else:
            row.data, row.updated_at = data, utcnow()

    async def partners(self, *, include_removed: bool = False) -> list[Partner]:
        query = select(PartnerRow).order_by(col(PartnerRow.partner_id))
        if not include_removed:
            query = query.where(col(PartnerRow.removed).is_(False))
        return [_partner(r) for r in (await self.session.execute(query)).scalars()]

    async def partner(self, partner_id: str) -> Partner | None:
        """Also a removed partner: its id stays taken."""
        row = await self.session.get(PartnerRow, partner_id)
        return _partner(row) if row else None

    async def save_partner(self, partner: Partner, *, webhook_secret: str | None = None) -> None:
        row = await self.session.get(PartnerRow, partner.partner_id)
        data = partner.model_dump(mode="json")
        if row is None:
            row = PartnerRow(partner_id=partner.partner_id, data=data, delivery=partner.delivery)
            self.session.add(row)
        row.data, row.delivery, row.removed, row.updated_at = (
            data,
            partner.delivery,
            partner.removed,
            utcnow(),
        )
        if webhook_secret is not None:
            row.webhook_secret = webhook_secret

    async def webhook_secret(self, partner_id: str) -> str | None:
        row = await self.session.get(PartnerRow, partner_id)
        return row.webhook_secret if row else None

    async def kafka_partner_ids(self) -> list[str]:
        """Partners that take referrals on their own Kafka topics (removed ones excluded)."""
        query = select(col(PartnerRow.partner_id)).where(
            col(PartnerRow.delivery) == "kafka", col(PartnerRow.removed).is_(False)
        )
        return list((await self.session.execute(query)).scalars())


def _partner(row: PartnerRow) -> Partner:
    return Partner.model_validate({**row.data, "removed": row.removed})


class ReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, referral_id: uuid.UUID, *, for_update: bool = False) -> Referral | None:
        row = await self.session.get(ReferralRow, referral_id, with_for_update=for_update)
        return _referral(row) if row else None

    async def save(self, referral: Referral) -> None:
        row = await self.session.get(ReferralRow, referral.referral_id)
        data = referral.model_dump()
        if row is None:
            self.session.add(ReferralRow(**data))
        else:
            for name, value in data.items():
                setattr(row, name, value)

    async def due_timers(self, now: dt.datetime, *, limit: int = 200) -> list[Referral]:
        """Referrals awaiting an answer whose reminder or expiry time has come."""
        query = (
            select(ReferralRow)
            .where(
                col(ReferralRow.state) == "sent",
                or_(
                    col(ReferralRow.expire_at) <= now,
                    and_(col(ReferralRow.remind_at) <= now, col(ReferralRow.reminded_at).is_(None)),
                ),
            )
            .order_by(col(ReferralRow.remind_at))
            .limit(limit)
        )
        return [_referral(r) for r in (await self.session.execute(query)).scalars()]

    async def by_case(self, case_id: uuid.UUID) -> list[Referral]:
        query = select(ReferralRow).where(col(ReferralRow.case_id) == case_id)
        return [_referral(r) for r in (await self.session.execute(query)).scalars()]

    async def by_consent(self, consent_id: uuid.UUID) -> list[Referral]:
        query = select(ReferralRow).where(col(ReferralRow.consent_id) == consent_id)
        return [_referral(r) for r in (await self.session.execute(query)).scalars()]

    async def visible(
        self,
        *,
        provider_id: str | None = None,
        ags: set[str] | None = None,
        partner_id: str | None = None,
        case_id: uuid.UUID | None = None,
        state: str | None = None,
        limit: int = 200,
    ) -> list[Referral]:
        """Filtered list; ``None`` filters are unrestricted, so callers pass the caller's scope."""
        query = select(ReferralRow).order_by(col(ReferralRow.requested_on).desc()).limit(limit)
        if provider_id is not None:
            query = query.where(col(ReferralRow.provider_id) == provider_id)
        if ags is not None:
            query = query.where(col(ReferralRow.ags).in_(ags))
        if partner_id is not None:
            query = query.where(col(ReferralRow.partner_id) == partner_id)
        if case_id is not None:
            query = query.where(col(ReferralRow.case_id) == case_id)
        if state is not None:
            query = query.where(col(ReferralRow.state) == state)
        return [_referral(r) for r in (await self.session.execute(query)).scalars()]

    async def ended_before(self, before: dt.datetime, *, limit: int) -> list[Referral]:
        """Referrals that reached a final state before ``before``, oldest first."""
        query = (
            select(ReferralRow)
            .where(
                col(ReferralRow.state).in_(TERMINAL),
                or_(
                    col(ReferralRow.updated_at) < before,
                    and_(
                        col(ReferralRow.updated_at).is_(None),
                        col(ReferralRow.requested_on) < before.date(),
                    ),
                ),
            )
            .order_by(col(ReferralRow.updated_at), col(ReferralRow.referral_id))
            .limit(limit)
        )
        return [_referral(r) for r in (await self.session.execute(query)).scalars()]

    async def erase(self, referral_ids: list[uuid.UUID]) -> dict[str, int]:
        """Delete the referrals with their partner answers and webhook deliveries (payloads included)."""
        counts = {}
        for name, table, column in (
            ("webhook_deliveries", WebhookDeliveryRow, WebhookDeliveryRow.referral_id),
            ("partner_feedback", FeedbackRow, FeedbackRow.referral_id),
            ("partner_offers", PartnerOfferRow, PartnerOfferRow.referral_id),
            ("referrals", ReferralRow, ReferralRow.referral_id),
        ):
            result = await self.session.execute(
                delete(table)
                .where(col(column).in_(referral_ids))
                .execution_options(synchronize_session=False)
            )
            counts[name] = int(getattr(result, "rowcount", 0) or 0)
        return counts

    async def forget_orphan_feedback(self, before: dt.datetime) -> int:
        """Answers received before ``before`` for referrals that no longer exist (or never did)."""
        result = await self.session.execute(
            delete(FeedbackRow).where(
                col(FeedbackRow.received_at) < before,
                col(FeedbackRow.referral_id).not_in(select(col(ReferralRow.referral_id))),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def erase_case(self, case_id: uuid.UUID) -> dict[str, int]:
        """Everything about one case, whatever the state of its referrals, and the case's own row."""
        query = select(col(ReferralRow.referral_id)).where(col(ReferralRow.case_id) == case_id)
        ids = (await self.session.execute(query)).scalars()
        counts = await self.erase(list(ids))
        result = await self.session.execute(delete(KnownCase).where(col(KnownCase.case_id) == case_id))
        return {**counts, "known_cases": int(getattr(result, "rowcount", 0) or 0)}

    def add_offer(self, row: PartnerOfferRow) -> None:
        self.session.add(row)

    async def offers(self, partner_id: str, referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, PartnerOffer]:
        """The partner's own offers among ``referral_ids`` (another partner's are never returned)."""
        query = select(PartnerOfferRow).where(
            col(PartnerOfferRow.partner_id) == partner_id, col(PartnerOfferRow.referral_id).in_(referral_ids)
        )
        return {
            row.referral_id: PartnerOffer.of(row) for row in (await self.session.execute(query)).scalars()
        }

    async def forget_offer(self, referral_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(PartnerOfferRow).where(col(PartnerOfferRow.referral_id) == referral_id)
        )

    async def feedback(self, partner_id: str, feedback_id: uuid.UUID) -> FeedbackRow | None:
        return await self.session.get(FeedbackRow, (partner_id, feedback_id))

    def add_feedback(self, row: FeedbackRow) -> None:
        self.session.add(row)


def _referral(row: ReferralRow) -> Referral:
    return Referral.model_validate(row.model_dump())


@dataclass
class DeliveryHealth:
    """A webhook partner's queue as the admin desk shows it: deliveries by status (pending, delivered,
    failed, cancelled), when the last one arrived, and the latest error (an attempt's, also one retried)."""

    counts: dict[str, int] = field(default_factory=dict)
    last_delivered_at: dt.datetime | None = None
    last_error: str | None = None
    last_status_code: int | None = None
    last_error_at: dt.datetime | None = None


class DeliveryRepository:
    """The webhook queue as seen by handlers: enqueue, and stop or erase what is no longer needed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def enqueue(
        self, *, partner_id: str, referral_id: uuid.UUID, ce_type: str, headers: dict[str, str], body: bytes
    ) -> uuid.UUID:
        delivery_id = uuid.uuid4()
        self.session.add(
            WebhookDeliveryRow(
                delivery_id=delivery_id,
                partner_id=partner_id,
                referral_id=referral_id,
                ce_type=ce_type,
                headers=headers,
                body=body,
            )
        )
        return delivery_id

    async def cancel(self, *, referral_id: uuid.UUID | None = None, partner_id: str | None = None) -> int:
        """Cancel pending deliveries and erase their personal data (consent withdrawn, partner removed)."""
        query = update(WebhookDeliveryRow).where(col(WebhookDeliveryRow.status) == "pending")
        if referral_id is not None:
            query = query.where(col(WebhookDeliveryRow.referral_id) == referral_id)
        if partner_id is not None:
            query = query.where(col(WebhookDeliveryRow.partner_id) == partner_id)
        result = await self.session.execute(
            query.values(status="cancelled", body=None, erased_at=utcnow()).execution_options(
                synchronize_session=False
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def health(self) -> dict[str, DeliveryHealth]:
        """Every partner's webhook queue for the admin desk: counts by status, last delivery, latest error.

        Three reads, not one snapshot: a delivery queued between them may be in a later one only.
        """
        found: dict[str, DeliveryHealth] = {}
        partner, status = col(WebhookDeliveryRow.partner_id), col(WebhookDeliveryRow.status)
        counts = await self.session.execute(select(partner, status, func.count()).group_by(partner, status))
        for partner_id, state, n in counts.all():
            found.setdefault(partner_id, DeliveryHealth()).counts[state] = n
        delivered = select(partner, func.max(col(WebhookDeliveryRow.delivered_at))).group_by(partner)
        for partner_id, at in (await self.session.execute(delivered)).all():
            found.setdefault(partner_id, DeliveryHealth()).last_delivered_at = at
        attempted = col(WebhookDeliveryRow.last_attempt_at)
        latest = (
            select(partner, func.max(attempted).label("at"))
            .where(col(WebhookDeliveryRow.last_error).is_not(None))
            .group_by(partner)
            .subquery()
        )
        errors = select(WebhookDeliveryRow).join(
            latest, (partner == latest.c.partner_id) & (attempted == latest.c.at)
        )
        for row in (await self.session.execute(errors)).scalars():
            health = found.setdefault(row.partner_id, DeliveryHealth())
            health.last_error, health.last_status_code = row.last_error, row.last_status_code
            health.last_error_at = row.last_attempt_at
        return found

    async def counts_by_status(self, partner_id: str) -> dict[str, int]:
        """A partner's webhook queue: how many deliveries are pending, delivered, failed, cancelled."""
        rows = await self.session.execute(
            select(col(WebhookDeliveryRow.status), func.count())
            .where(col(WebhookDeliveryRow.partner_id) == partner_id)
            .group_by(col(WebhookDeliveryRow.status))
        )
        return {status: n for status, n in rows.all()}
