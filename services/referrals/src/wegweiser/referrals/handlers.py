"""Referrals' handlers: plain functions taking a command or event and their unit of work.

Every state change and its events commit together (outbox); messages for a partner go either to the
partner's topic through the outbox or into the webhook queue, in the same transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wegweiser.common import events
from wegweiser.common.db import OutboxRecord, UnitOfWork, again_after_conflict
from wegweiser.common.envelope import encode
from wegweiser.common.events import Event
from wegweiser.common.events.referrals import partner_referrals_topic
from wegweiser.common.key_copies import shred_person_keys
from wegweiser.common.partner_areas import place_of
from wegweiser.common.personal_data import DEV_KEY_WRAPPING_KEY
from wegweiser.common.regions import catalogue as regions
from wegweiser.referrals.clock import Clock
from wegweiser.referrals.db import (
    CatalogueRepository,
    DeliveryRepository,
    FeedbackRow,
    PartnerOfferRow,
    PersonKeyRow,
    ReferralRepository,
    WebhookDeliveryRow,
)
from wegweiser.referrals.delivery.message import webhook_message
from wegweiser.referrals.delivery.signing import new_secret
from wegweiser.referrals.domain.catalogue import Partner, ProgrammeInfo, minimum_person_data
from wegweiser.referrals.domain.lifecycle import (
    TERMINAL,
    Action,
    Changed,
    Command,
    Expire,
    InvalidTransition,
    Referral,
    Refuse,
    Remind,
    Send,
    Withdraw,
    decide,
    from_partner_answer,
)
from wegweiser.referrals.domain.routing import Refused, Routed, RoutingRequest, route
from wegweiser.referrals.domain.workdays import BERLIN, IsHoliday, deadline

TOMBSTONE_HEADER = "wg_tombstone"
"""Marks an outbox record whose value must be sent as null: a tombstone on the compacted catalogue."""


class ReferralsUnitOfWork(UnitOfWork):
    person_key_table = PersonKeyRow

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox_signal: asyncio.Event | None = None,
        delivery_signal: asyncio.Event | None = None,
        key_wrapping_key: str = DEV_KEY_WRAPPING_KEY,
    ) -> None:
        super().__init__(sessions, outbox_signal, key_wrapping_key=key_wrapping_key)
        self._delivery_signal = delivery_signal

    async def commit(self) -> None:
        queued = any(isinstance(obj, WebhookDeliveryRow) for obj in self.session.new)
        await super().commit()
        if queued and self._delivery_signal is not None:
            self._delivery_signal.set()  # the webhook worker starts now instead of at its next poll

    @property
    def catalogue(self) -> CatalogueRepository:
        return CatalogueRepository(self.session)

    @property
    def referrals(self) -> ReferralRepository:
        return ReferralRepository(self.session)

    @property
    def deliveries(self) -> DeliveryRepository:
        return DeliveryRepository(self.session)

    def publish_to(self, topic: str, event: Event) -> str:
        """Queue an event for a topic chosen at run time (a partner's own topic) in the outbox."""
        record = encode(event)
        self._add_outbox(topic, record.key, record.value, [[k, v.decode()] for k, v in record.headers])
        return record.event_id

    def publish_tombstone(self, topic: str, key: str) -> None:
        """Queue a null value for ``key``: compaction then forgets it (after the removal event)."""
        self._add_outbox(topic, key, b"", [[TOMBSTONE_HEADER, "1"]])

    def _add_outbox(self, topic: str, key: str, value: bytes, headers: list[list[str]]) -> None:
        self.session.add(
            OutboxRecord(event_id=str(uuid.uuid4()), topic=topic, key=key, value=value, headers=headers)
        )
        self._published = True


@dataclass(frozen=True)
class Policy:
    """What the handlers need besides the database: time, the holiday calendar and the SLA."""

    clock: Clock
    is_holiday: IsHoliday
    remind_after_working_days: int = 3
    expire_after_working_days: int = 10

    def today(self) -> dt.date:
        return self.clock.now().astimezone(BERLIN).date()


# --- mapping domain steps to integration events ---------------------------------------------------


def status_event(referral: Referral, action: Action, at: dt.datetime) -> Event:
    """The event on referrals.status.v1 for one step (pseudonymous: ids, codes, dates)."""
    common = {
        "ags": referral.ags,
        "referral_id": referral.referral_id,
        "case_id": referral.case_id,
        "programme": referral.programme,
        "partner_id": referral.partner_id,
        "requested_on": referral.requested_on,
        "occurred_at": at,
    }
    match action:
        case "send":
            return events.ReferralSent(**common)
        case "accept":
            return events.ReferralAccepted(**common)
        case "decline":
            return events.ReferralDeclined(**common, reason=referral.reason or "other")
        case "start":
            assert referral.started_on is not None
            return events.ReferralStarted(**common, started_on=referral.started_on)
        case "complete":
            return events.ReferralCompleted(**common)
        case "drop" | "withdraw":
            return events.ReferralDropped(**common, reason=referral.reason)
        case "expire":
            return events.ReferralExpired(**common)
        case "remind":
            assert referral.expire_at is not None
            return events.ReferralReminded(**common, expires_at=referral.expire_at)
        case "refuse":
            return events.ReferralUnroutable(**common, reason=referral.reason or "no_partner")
    raise AssertionError(action)


async def deliver(uow: ReferralsUnitOfWork, partner: Partner, message: Event) -> None:
    """Kafka partners: the partner topic through the outbox; webhook partners: the delivery queue."""
    if partner.delivery == "kafka":
        # A topic is a log we cannot erase from: it names the referral, the person stays behind the API.
        if isinstance(message, events.PartnerReferralOffered):
            message = message.claim_check()
        uow.publish_to(partner_referrals_topic(partner.partner_id).name, message)
        return
    headers, body = webhook_message(message)
    uow.deliveries.enqueue(
        partner_id=partner.partner_id,
        referral_id=uuid.UUID(message.subject()),
        ce_type=message.ce_type(),
        headers=headers,
        body=body,
    )


def _common_partner_fields(referral: Referral) -> dict[str, object]:
    assert referral.partner_id is not None
    return {"ags": referral.ags, "referral_id": referral.referral_id, "partner_id": referral.partner_id}


# --- referral requests --------------------------------------------------------------------------------


_REQUEST_FIELDS = {"referral_id", "case_id", "ags", "provider_id", "programme", "requested_on"}
"""What a referral takes over from its request as it is (the consent is nested in the event)."""


async def receive_request(
    event: events.ReferralRequested, envelope: object, uow: ReferralsUnitOfWork, *, policy: Policy
) -> None:
    """Route a requested referral, or refuse it with a reason the counsellor sees."""
    if await uow.referrals.get(event.referral_id) is not None:
        return  # the same request again (e.g. re-emitted by casework with a new ce_id)
    now = policy.clock.now()
    referral = Referral(
        **event.model_dump(include=_REQUEST_FIELDS), consent_id=event.consent.consent_id, updated_at=now
    )
    programme = await uow.catalogue.programme(event.programme)
    decision: Routed | Refused = route(
        RoutingRequest(
            referral_id=event.referral_id,
            programme=event.programme,
            chosen_partner_id=event.partner_id,
            consent_programme=event.consent.programme,
            consent_partner_id=event.consent.partner_id,
        ),
        programme=programme,
        partners=await uow.catalogue.partners(),
        place=place_of(event.ags),
    )
    person: dict[str, object] = {}
    if isinstance(decision, Routed):
        assert programme is not None
        person, missing = minimum_person_data(event.person.model_dump(), programme)
        if missing:
            decision = Refused("incomplete_person_data", detail=", ".join(missing))
    if isinstance(decision, Refused):
        await _refuse(uow, referral, decision, chosen_partner_id=event.partner_id, now=now)
        return
    partner = decision.partner
    sent = decide(
        referral,
        Send(
            partner.partner_id,
            now,
            remind_at=deadline(now, policy.remind_after_working_days, policy.is_holiday),
            expire_at=deadline(now, policy.expire_after_working_days, policy.is_holiday),
        ),
    )
    assert isinstance(sent, Changed) and sent.referral.expire_at is not None
    await uow.referrals.save(sent.referral)
    uow.publish(status_event(sent.referral, "send", now))
    municipality = regions().get(event.ags)
    offer = events.PartnerReferralOffered(
        **_common_partner_fields(sent.referral),
        programme=event.programme,
        municipality=municipality.name if municipality else None,
        requested_on=event.requested_on,
        respond_by=sent.referral.expire_at,
        referring_provider_id=event.provider_id,
        person=events.PartnerPerson.model_validate(person),
        note_for_partner=event.note_for_partner,
    )
    uow.referrals.add_offer(offer_row(offer))
    await deliver(uow, partner, offer)


def offer_row(offer: events.PartnerReferralOffered) -> PartnerOfferRow:
    """The partner inbox's copy of the offer: exactly what the partner's topic or webhook got."""
    return PartnerOfferRow(
        referral_id=offer.referral_id,
        partner_id=offer.partner_id,
        person=offer.person.model_dump(mode="json", exclude_none=True),
        municipality=offer.municipality,
        referring_provider_id=offer.referring_provider_id,
        note_for_partner=offer.note_for_partner,
    )


async def save_step(uow: ReferralsUnitOfWork, referral: Referral, action: Action, at: dt.datetime) -> None:
    """Save a changed referral and publish its status; a final state forgets the partner's offer copy."""
    await uow.referrals.save(referral)
    uow.publish(status_event(referral, action, at))
    if referral.state in TERMINAL:
        await uow.referrals.forget_offer(referral.referral_id)


async def _refuse(
    uow: ReferralsUnitOfWork,
    referral: Referral,
    refused: Refused,
    *,
    chosen_partner_id: str | None,
    now: dt.datetime,
) -> None:
    """Record the refusal and tell casework why, in German and English (``referral.unroutable``)."""
    await uow.referrals.save(decide(referral, Refuse(refused.reason, now)).referral)
    uow.publish(
        events.ReferralUnroutable(
            ags=referral.ags,
            referral_id=referral.referral_id,
            case_id=referral.case_id,
            programme=referral.programme,
            partner_id=chosen_partner_id,
            requested_on=referral.requested_on,
            occurred_at=now,
            reason=refused.reason,
            reason_de=refused.text_de,
            reason_en=refused.text_en,
        )
    )


# --- partner answers ----------------------------------------------------------------------------------


class ReferralNotFound(LookupError):
    """Unknown, or routed to another partner: both look the same to the caller (no existence leak)."""


@dataclass(frozen=True, slots=True)
class RecordFeedback:
    partner_id: str
    referral_id: uuid.UUID
    feedback_id: uuid.UUID
    outcome: str
    reason: str | None = None
    started_on: dt.date | None = None
    channel: str = "http"


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    referral: Referral
    changed: bool
    duplicate: bool = False


async def apply_feedback(cmd: RecordFeedback, *, uow: ReferralsUnitOfWork, policy: Policy) -> FeedbackResult:
    """One partner answer inside the caller's transaction; raises ReferralNotFound or InvalidTransition."""
    seen = await uow.referrals.feedback(cmd.partner_id, cmd.feedback_id)
    referral = await uow.referrals.get(cmd.referral_id, for_update=True)
    if referral is None or referral.partner_id != cmd.partner_id:
        raise ReferralNotFound(str(cmd.referral_id))
    if seen is not None:
        if seen.referral_id != cmd.referral_id:
            raise InvalidTransition(
                "feedback_id_reused",
                "Diese feedback_id wurde schon für eine andere Überweisung verwendet.",
                "This feedback_id was already used for another referral.",
            )
        return FeedbackResult(referral, changed=False, duplicate=True)
    now = policy.clock.now()
    command = from_partner_answer(
        cmd.outcome, reason=cmd.reason, started_on=cmd.started_on, today=policy.today(), at=now
    )
    outcome = decide(referral, command)
    uow.referrals.add_feedback(
        FeedbackRow(
            partner_id=cmd.partner_id,
            feedback_id=cmd.feedback_id,
            referral_id=cmd.referral_id,
            outcome=cmd.outcome,
            reason=cmd.reason,
            channel=cmd.channel,
            result_state=outcome.referral.state,
        )
    )
    if not isinstance(outcome, Changed):
        return FeedbackResult(referral, changed=False)
    await save_step(uow, outcome.referral, outcome.action, now)
    # The partner evidently holds the referral: a still queued copy or reminder is no longer needed.
    await uow.deliveries.cancel(referral_id=referral.referral_id)
    return FeedbackResult(outcome.referral, changed=True)


async def answer_referral(cmd: RecordFeedback, *, uow: ReferralsUnitOfWork, policy: Policy) -> FeedbackResult:
    """The HTTP path: its own transaction; a concurrent resend of the same answer yields its result."""
    for attempt in (1, 2):
        async with uow:
            result = await apply_feedback(cmd, uow=uow, policy=policy)
            try:
                await uow.commit()
            except IntegrityError:
                if attempt == 2:
                    raise
                continue  # the same feedback_id committed a moment ago: read its result
            return result
    raise AssertionError("unreachable")


async def on_partner_feedback(
    event: events.PartnerFeedback,
    envelope: object,
    uow: ReferralsUnitOfWork,
    *,
    partner_id: str,
    policy: Policy,
) -> None:
    """The Kafka path: the partner is the owner of the topic, never a field it wrote itself.

    A refused answer is recorded and answered on the partner's own topic (``feedback.rejected``), like
    the HTTP API answers 404 or 409; nothing is dropped silently.
    """
    cmd = RecordFeedback(
        partner_id=partner_id,
        referral_id=event.referral_id,
        feedback_id=event.feedback_id,
        outcome=event.outcome,
        reason=event.reason,
        started_on=event.started_on,
        channel="kafka",
    )
    try:
        await apply_feedback(cmd, uow=uow, policy=policy)
    except (ReferralNotFound, InvalidTransition) as exc:
        if isinstance(exc, ReferralNotFound):
            code = "unknown_referral"
            de, en = (
                "Unbekannte Überweisung (oder nicht an diesen Partner gesendet).",
                "Unknown referral (or not sent to this partner).",
            )
        else:
            code, de, en = exc.code, exc.de, exc.en
        if await uow.referrals.feedback(partner_id, event.feedback_id) is None:
            uow.referrals.add_feedback(
                FeedbackRow(
                    partner_id=partner_id,
                    feedback_id=event.feedback_id,
                    referral_id=event.referral_id,
                    outcome=event.outcome,
                    reason=event.reason,
                    channel="kafka",
                    rejected_code=code,
                )
            )
        uow.publish_to(
            partner_referrals_topic(partner_id).name,
            events.PartnerFeedbackRejected(
                ags=event.ags,
                referral_id=event.referral_id,
                partner_id=partner_id,
                feedback_id=event.feedback_id,
                code=code,
                detail_de=de,
                detail_en=en,
            ),
        )


# --- timers: reminder, then expiry ---------------------------------------------------------------------


async def run_due_timers(*, unit_of_work: Callable[[], ReferralsUnitOfWork], policy: Policy) -> int:
    """Remind or expire every referral whose time has come; one transaction each. Returns steps taken."""
    now = policy.clock.now()
    async with unit_of_work() as uow:
        due = await uow.referrals.due_timers(now)
    steps = 0
    for candidate in due:
        async with unit_of_work() as uow:
            referral = await uow.referrals.get(candidate.referral_id, for_update=True)
            if referral is None or referral.state != "sent":
                continue
            assert referral.expire_at is not None and referral.partner_id is not None
            expired = referral.expire_at <= now
            command: Command = Expire(now) if expired else Remind(now)
            outcome = decide(referral, command)
            if not isinstance(outcome, Changed):
                continue
            await save_step(uow, outcome.referral, outcome.action, now)
            partner = await uow.catalogue.partner(referral.partner_id)
            if expired:
                await uow.deliveries.cancel(referral_id=referral.referral_id)
            if partner is not None and not partner.removed:
                notice: Event = (
                    events.PartnerReferralWithdrawn(**_common_partner_fields(referral), reason="expired")
                    if expired
                    else events.PartnerReferralReminder(
                        **_common_partner_fields(referral), respond_by=referral.expire_at
                    )
                )
                await deliver(uow, partner, notice)
            await uow.commit()
            steps += 1
    return steps


# --- consent withdrawn (casework's cases.v1) -----------------------------------------------------------


async def on_consent_withdrawn(
    event: events.ConsentWithdrawn, envelope: object, uow: ReferralsUnitOfWork, *, policy: Policy
) -> None:
    """Stop every referral under that consent, erase what waits for delivery, tell the partner."""
    now = policy.clock.now()
    for referral in await uow.referrals.by_consent(event.consent_id):
        await uow.deliveries.cancel(referral_id=referral.referral_id)
        try:
            outcome = decide(referral, Withdraw(now))
        except InvalidTransition:
            continue  # already finished (declined, completed, expired...): nothing under way to stop
        if not isinstance(outcome, Changed):
            continue
        await save_step(uow, outcome.referral, outcome.action, now)
        partner = await uow.catalogue.partner(referral.partner_id) if referral.partner_id else None
        if partner is not None and not partner.removed:
            await deliver(
                uow,
                partner,
                events.PartnerReferralWithdrawn(
                    **_common_partner_fields(referral), reason="consent_withdrawn"
                ),
            )


async def on_case_erased(event: events.CaseErased, envelope: object, uow: ReferralsUnitOfWork) -> None:
    """Casework erased the case (retention over, or on request): so do we, for all its referrals, and
    every partner that was offered one of them is told to delete what it received (``referral.erased``).

    Pending webhook payloads go with their rows; the notice holds ids only, so it may outlive them.
    """
    offered = [r for r in await uow.referrals.by_case(event.case_id) if r.partner_id is not None]
    await uow.referrals.erase_case(event.case_id)
    await shred_person_keys(uow, [str(event.case_id)])  # our copies; casework shreds its own
    for referral in offered:
        partner = await uow.catalogue.partner(referral.partner_id) if referral.partner_id else None
        if partner is not None and not partner.removed:
            notice = events.PartnerReferralErased(**_common_partner_fields(referral), reason=event.reason)
            await deliver(uow, partner, notice)


# --- catalogue ----------------------------------------------------------------------------------------


class PartnerNotFound(LookupError):
    pass


class PartnerExists(ValueError):
    """The id is taken, also by a removed partner: ids are never reused on the compacted topic."""


EnsureTopics = Callable[[Sequence[str]], Awaitable[None]]


def programme_event(info: ProgrammeInfo, at: dt.datetime) -> events.ProgrammePublished:
    return events.ProgrammePublished(
        **info.model_dump(exclude={"programme"}), programme=info.programme, published_at=at
    )


def partner_event(partner: Partner, at: dt.datetime) -> events.PartnerPublished:
    return events.PartnerPublished(**partner.model_dump(exclude={"webhook_url", "removed"}), published_at=at)


@dataclass(frozen=True, slots=True)
class SavedPartner:
    partner: Partner
    webhook_secret: str | None = None  # shown once: on creation, rotation or a switch to webhooks


async def create_partner(
    partner: Partner, *, uow: ReferralsUnitOfWork, clock: Clock, ensure_topics: EnsureTopics
) -> SavedPartner:
    """A new partner: its topics exist before it is published, so no message can go nowhere."""
    async with uow:
        if await uow.catalogue.partner(partner.partner_id) is not None:
            raise PartnerExists(partner.partner_id)
        secret = new_secret() if partner.delivery == "webhook" else None
        return await _save_and_announce(partner, secret, uow=uow, clock=clock, ensure_topics=ensure_topics)


async def update_partner(
    partner: Partner, *, uow: ReferralsUnitOfWork, clock: Clock, ensure_topics: EnsureTopics
) -> SavedPartner:
    async with uow:
        current = await uow.catalogue.partner(partner.partner_id)
        if current is None or current.removed:
            raise PartnerNotFound(partner.partner_id)
        secret = None
        if partner.delivery == "webhook" and await uow.catalogue.webhook_secret(partner.partner_id) is None:
            secret = new_secret()
        return await _save_and_announce(partner, secret, uow=uow, clock=clock, ensure_topics=ensure_topics)


async def _save_and_announce(
    partner: Partner,
    secret: str | None,
    *,
    uow: ReferralsUnitOfWork,
    clock: Clock,
    ensure_topics: EnsureTopics,
) -> SavedPartner:
    """Save and publish the partner, a Kafka partner's topics made sure of, and commit."""
    await uow.catalogue.save_partner(partner, webhook_secret=secret)
    uow.publish(partner_event(partner, clock.now()))
    if partner.delivery == "kafka":
        await ensure_topics([partner.partner_id])
    await uow.commit()
    return SavedPartner(partner, secret)


async def remove_partner(partner_id: str, *, uow: ReferralsUnitOfWork, clock: Clock) -> None:
    """Removal event, then a tombstone; queued webhook payloads for the partner are erased."""
    async with uow:
        current = await uow.catalogue.partner(partner_id)
        if current is None or current.removed:
            raise PartnerNotFound(partner_id)
        await uow.catalogue.save_partner(current.model_copy(update={"removed": True, "active": False}))
        removed = events.PartnerRemoved(partner_id=partner_id, published_at=clock.now())
        uow.publish(removed)
        uow.publish_tombstone(removed.topic.name, removed.key())
        await uow.deliveries.cancel(partner_id=partner_id)
        await uow.commit()


async def rotate_webhook_secret(partner_id: str, *, uow: ReferralsUnitOfWork) -> str:
    async with uow:
        current = await uow.catalogue.partner(partner_id)
        if current is None or current.removed or current.delivery != "webhook":
            raise PartnerNotFound(partner_id)
        secret = new_secret()
        await uow.catalogue.save_partner(current, webhook_secret=secret)
        await uow.commit()
    return secret


async def update_programme(info: ProgrammeInfo, *, uow: ReferralsUnitOfWork, clock: Clock) -> ProgrammeInfo:
    async with uow:
        await uow.catalogue.save_programme(info)
        uow.publish(programme_event(info, clock.now()))
        await uow.commit()
    return info


@dataclass(frozen=True)
class Seed:
    programmes: Sequence[ProgrammeInfo]
    partners: Sequence[Partner] = field(default_factory=list)


async def seed_catalogue(
    seed: Seed, *, uow: ReferralsUnitOfWork, clock: Clock, ensure_topics: EnsureTopics
) -> int:
    """Fill an empty catalogue once (programmes always, example partners if given); returns rows added.

    Replicas that start together seed at the same moment: the one that loses the race meets the
    other's rows as a conflict and looks again, finding them there (before, it failed to start).
    """
    return await again_after_conflict(
        partial(_seed_once, seed, uow=uow, clock=clock, ensure_topics=ensure_topics)
    )


async def _seed_once(
    seed: Seed, *, uow: ReferralsUnitOfWork, clock: Clock, ensure_topics: EnsureTopics
) -> int:
    added = 0
    async with uow:
        now = clock.now()
        known = await uow.catalogue.programmes()
        for info in seed.programmes:
            if info.programme not in known:
                await uow.catalogue.save_programme(info)
                uow.publish(programme_event(info, now))
                added += 1
        if seed.partners and not await uow.catalogue.partners(include_removed=True):
            for partner in seed.partners:
                secret = new_secret() if partner.delivery == "webhook" else None
                await uow.catalogue.save_partner(partner, webhook_secret=secret)
                uow.publish(partner_event(partner, now))
                added += 1
            await ensure_topics([p.partner_id for p in seed.partners if p.delivery == "kafka"])
        await uow.commit()
    return added


async def republish_catalogue(*, uow: ReferralsUnitOfWork, clock: Clock) -> int:
    """Publish every programme and partner again (e.g. after the catalogue topic was recreated)."""
    async with uow:
        now = clock.now()
        programmes = (await uow.catalogue.programmes()).values()
        partners = await uow.catalogue.partners()
        for info in programmes:
            uow.publish(programme_event(info, now))
        for partner in partners:
            uow.publish(partner_event(partner, now))
        await uow.commit()
    return len(programmes) + len(partners)
