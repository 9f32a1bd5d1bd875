"""Handlers with in-memory fakes: routing to both delivery modes, refusals, answers, timers, consent."""

import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

import pytest

from wegweiser.common import events
from wegweiser.common.dispatch import EventDispatcher
from wegweiser.common.engine import MalformedRecord, Record
from wegweiser.common.events import Programme
from wegweiser.referrals.clock import FakeClock
from wegweiser.referrals.domain.lifecycle import InvalidTransition
from wegweiser.referrals.handlers import (
    Policy,
    RecordFeedback,
    ReferralNotFound,
    Seed,
    apply_feedback,
    create_partner,
    on_case_erased,
    on_consent_withdrawn,
    on_partner_feedback,
    receive_request,
    remove_partner,
    run_due_timers,
    seed_catalogue,
)
from wegweiser.referrals.holiday_calendar import HolidayCalendar
from wegweiser.referrals.seed import default_programmes
from wegweiser.referrals.testing import CONTACT, FakeReferralsUnitOfWork, partner, referral_requested

# Monday 2 November 2026, 09:00 in Berlin.
MONDAY = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
KAFKA = partner("vhs-stuttgart", "integrationskurs", kreise=("08111",), organisation="VHS Stuttgart")
HOOK = partner(
    "psz-stuttgart",
    "psychosozial",
    kreise=("08111",),
    delivery="webhook",
    organisation="PSZ Stuttgart",
    webhook_url="https://psz.example/hooks",
)


async def no_topics(partner_ids: object) -> None:
    return None


async def setup() -> tuple[FakeReferralsUnitOfWork, Policy, FakeClock]:
    clock = FakeClock(MONDAY)
    policy = Policy(
        clock=clock,
        is_holiday=HolidayCalendar("BW").is_holiday,
        remind_after_working_days=3,
        expire_after_working_days=10,
    )
    uow = FakeReferralsUnitOfWork()
    await seed_catalogue(
        Seed(default_programmes(), [KAFKA, HOOK]), uow=uow, clock=clock, ensure_topics=no_topics
    )
    uow.published.clear()
    return uow, policy, clock


def requested(
    programme: Programme = "integrationskurs", partner_id: str | None = None, **changes: Any
) -> events.ReferralRequested:
    """Monday's request with Rania's contact details: a partner must get only its programme's minimum."""
    return referral_requested(programme, partner_id, requested_on=MONDAY.date(), **CONTACT, **changes)


async def handle(uow: FakeReferralsUnitOfWork, policy: Policy, event: events.ReferralRequested) -> None:
    async with uow:
        await receive_request(event, None, uow, policy=policy)
        await uow.commit()


async def answer_on_topic(
    uow: FakeReferralsUnitOfWork, policy: Policy, feedback: events.PartnerFeedback, *, partner_id: str
) -> tuple[str, events.Event | None]:
    """A partner's answer as read from ``partner_id``'s topic; the last message sent to a partner."""
    async with uow:
        await on_partner_feedback(feedback, None, uow, partner_id=partner_id, policy=policy)
        await uow.commit()
    return uow.sent_to[-1]


async def test_a_kafka_partner_topic_names_the_referral_and_the_api_holds_only_the_minimum_data() -> None:
    uow, policy, _ = await setup()
    event = requested()
    await handle(uow, policy, event)
    await handle(uow, policy, event)  # the same request again: still one referral, one message
    [sent] = uow.published
    assert isinstance(sent, events.ReferralSent) and sent.partner_id == "vhs-stuttgart"
    assert "Haddad" not in sent.model_dump_json()
    [(topic, offer)] = uow.sent_to
    assert topic == "wegweiser.partner.vhs-stuttgart.referrals.v1"
    assert isinstance(offer, events.PartnerReferralOffered)
    # A claim check: no personal data on the topic (a log cannot be erased), only where to read it.
    assert offer.person == events.PartnerPerson() and offer.note_for_partner is None
    assert offer.person_url == f"/v1/partner/referrals/{offer.referral_id}/person"
    assert "Haddad" not in offer.model_dump_json() and "1988" not in offer.model_dump_json()
    kept = uow.fake_referrals.offer_rows[offer.referral_id]
    assert kept.person == {
        "family_name": "Haddad",
        "given_names": "Rania",
        "date_of_birth": "1988-03",
        "languages": ["ar"],
        "phone": "0711 1",
    }
    assert "person_pseudonym" not in offer.model_dump_json() and "case_id" not in offer.model_dump()
    # Ten BW working days after Monday 2 November end at midnight after Monday 16 November (Berlin).
    assert offer.respond_by == dt.datetime(2026, 11, 16, 23, 0, tzinfo=dt.UTC)


async def test_a_webhook_partner_gets_a_queued_signed_later_cloudevent() -> None:
    uow, policy, _ = await setup()
    await handle(uow, policy, requested("psychosozial"))
    [queued] = uow.fake_deliveries.queued
    assert queued["partner_id"] == "psz-stuttgart" and uow.sent_to == []
    assert queued["headers"]["content-type"].startswith("application/cloudevents+json")
    cloudevent = json.loads(queued["body"])  # structured mode: type and subject are signed with the data
    assert cloudevent["type"] == events.PartnerReferralOffered.ce_type()
    assert cloudevent["subject"] == str(queued["referral_id"]) and cloudevent["specversion"] == "1.0"
    body = cloudevent["data"]
    assert body["person"] == {
        "family_name": None,
        "given_names": "Rania",
        "date_of_birth": None,
        "sex": None,
        "languages": None,
        "phone": "0711 1",
        "email": None,
        "address": None,
    }


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (requested(consent_programme="mbe"), "consent_programme_mismatch"),
        (requested(partner_id="vhs-stuttgart", consent_partner="other"), "consent_partner_mismatch"),
        (requested(partner_id="nobody"), "unknown_partner"),
        (requested("jobcenter"), "no_partner"),
        (requested(ags="08426001"), "no_partner"),
    ],
)
async def test_refused_requests_are_unroutable_with_a_reason(
    event: events.ReferralRequested, reason: str
) -> None:
    uow, policy, _ = await setup()
    await handle(uow, policy, event)
    [unroutable] = uow.published
    assert isinstance(unroutable, events.ReferralUnroutable)
    assert unroutable.reason == reason and unroutable.reason_de and unroutable.reason_en
    assert uow.sent_to == [] and uow.fake_deliveries.queued == []
    assert uow.fake_referrals.rows[event.referral_id].state == "unroutable"


async def test_missing_required_person_data_is_refused() -> None:
    uow, policy, _ = await setup()
    event = requested()
    event = event.model_copy(update={"person": events.ReferralPerson(person_pseudonym="p", given_names="R")})
    await handle(uow, policy, event)
    [unroutable] = uow.published
    assert isinstance(unroutable, events.ReferralUnroutable) and unroutable.reason == "incomplete_person_data"
    assert "family_name" in (unroutable.reason_en or "")


async def answer(uow: FakeReferralsUnitOfWork, policy: Policy, cmd: RecordFeedback) -> str:
    async with uow:
        result = await apply_feedback(cmd, uow=uow, policy=policy)
        await uow.commit()
    return result.referral.state


async def test_answers_are_idempotent_and_only_for_the_partners_own_referrals() -> None:
    uow, policy, _ = await setup()
    event = requested()
    await handle(uow, policy, event)
    accept = RecordFeedback("vhs-stuttgart", event.referral_id, uuid.uuid4(), "accepted")
    assert await answer(uow, policy, accept) == "accepted"
    assert await answer(uow, policy, accept) == "accepted"  # same feedback id: no-op
    assert await answer(
        uow, policy, RecordFeedback("vhs-stuttgart", event.referral_id, uuid.uuid4(), "accepted")
    )
    assert [type(e) for e in uow.published] == [events.ReferralSent, events.ReferralAccepted]
    with pytest.raises(ReferralNotFound):  # partner isolation: another partner's referral is unknown to it
        await answer(uow, policy, RecordFeedback("psz-stuttgart", event.referral_id, uuid.uuid4(), "started"))
    with pytest.raises(ReferralNotFound):
        await answer(uow, policy, RecordFeedback("vhs-stuttgart", uuid.uuid4(), uuid.uuid4(), "started"))
    with pytest.raises(InvalidTransition):
        await answer(
            uow,
            policy,
            RecordFeedback(
                "vhs-stuttgart", event.referral_id, uuid.uuid4(), "declined", reason="no_capacity"
            ),
        )
    assert uow.fake_referrals.rows[event.referral_id].state == "accepted"


async def test_a_refused_kafka_answer_is_recorded_and_answered_on_the_partners_topic() -> None:
    uow, policy, _ = await setup()
    event = requested()
    await handle(uow, policy, event)
    feedback = events.PartnerFeedback(
        ags="08111000", referral_id=event.referral_id, feedback_id=uuid.uuid4(), outcome="completed"
    )
    topic, rejected = await answer_on_topic(uow, policy, feedback, partner_id="vhs-stuttgart")
    assert topic == "wegweiser.partner.vhs-stuttgart.referrals.v1"
    assert isinstance(rejected, events.PartnerFeedbackRejected) and rejected.code == "invalid_transition"
    assert uow.fake_referrals.feedback_rows[("vhs-stuttgart", feedback.feedback_id)].rejected_code
    # Written on a foreign partner's topic: that partner learns nothing beyond "unknown referral".
    topic, rejected = await answer_on_topic(uow, policy, feedback, partner_id="psz-stuttgart")
    assert topic == "wegweiser.partner.psz-stuttgart.referrals.v1"
    assert isinstance(rejected, events.PartnerFeedbackRejected) and rejected.code == "unknown_referral"
    assert uow.fake_referrals.rows[event.referral_id].state == "sent"


async def test_no_answer_means_one_reminder_then_expiry_in_bw_working_days() -> None:
    uow, policy, clock = await setup()
    event = requested()
    await handle(uow, policy, event)
    hook = requested("psychosozial")
    await handle(uow, policy, hook)
    uow.published.clear()

    async def tick() -> list[type]:
        before = len(uow.published)
        await run_due_timers(unit_of_work=lambda: uow, policy=policy)
        return [type(e) for e in uow.published[before:]]

    clock.set(dt.datetime(2026, 11, 5, 22, 59, tzinfo=dt.UTC))  # Thursday 23:59 in Berlin
    assert await tick() == []
    clock.set(dt.datetime(2026, 11, 5, 23, 0, tzinfo=dt.UTC))  # Friday 00:00: three working days passed
    assert await tick() == [events.ReferralReminded, events.ReferralReminded]
    assert await tick() == []  # a reminder is sent once
    assert isinstance(uow.sent_to[-1][1], events.PartnerReferralReminder)
    assert uow.fake_deliveries.queued[-1]["ce_type"] == events.PartnerReferralReminder.ce_type()
    clock.set(dt.datetime(2026, 11, 16, 22, 59, tzinfo=dt.UTC))
    assert await tick() == []
    clock.set(dt.datetime(2026, 11, 16, 23, 0, tzinfo=dt.UTC))  # ten working days after Monday 2 November
    assert await tick() == [events.ReferralExpired, events.ReferralExpired]
    assert uow.fake_referrals.rows[event.referral_id].state == "expired"
    assert isinstance(uow.sent_to[-1][1], events.PartnerReferralWithdrawn)
    # The queued webhook payloads of the expired referral are erased; only the withdrawal notice waits.
    pending = [d for d in uow.fake_deliveries.queued if d["status"] == "pending"]
    assert [d["ce_type"] for d in pending] == [events.PartnerReferralWithdrawn.ce_type()]
    assert all(d["body"] is None for d in uow.fake_deliveries.queued if d["status"] == "cancelled")
    with pytest.raises(InvalidTransition):  # too late to accept
        await answer(
            uow, policy, RecordFeedback("vhs-stuttgart", event.referral_id, uuid.uuid4(), "accepted")
        )


async def test_withdrawn_consent_stops_the_referral_and_tells_the_partner() -> None:
    uow, policy, _ = await setup()
    event = requested("psychosozial")
    await handle(uow, policy, event)
    withdrawn = events.ConsentWithdrawn(
        ags="08111000", case_id=event.case_id, consent_id=event.consent.consent_id, withdrawn_on=MONDAY.date()
    )
    async with uow:
        await on_consent_withdrawn(withdrawn, None, uow, policy=policy)
        await uow.commit()
    dropped = uow.published[-1]
    assert isinstance(dropped, events.ReferralDropped) and dropped.reason == "consent_withdrawn"
    first, notice = uow.fake_deliveries.queued
    assert first["status"] == "cancelled" and first["body"] is None
    assert notice["ce_type"] == events.PartnerReferralWithdrawn.ce_type() and notice["status"] == "pending"


async def test_an_erased_case_erases_its_referrals_and_tells_every_partner_that_was_offered_one() -> None:
    uow, policy, _ = await setup()
    course, counselling, other_case = requested(), requested("psychosozial"), requested()
    counselling = counselling.model_copy(update={"case_id": course.case_id})
    for event in (course, counselling, other_case):
        await handle(uow, policy, event)
    erased = events.CaseErased(
        ags="08111000", case_id=course.case_id, erased_on=MONDAY.date(), reason="request"
    )
    async with uow:
        await on_case_erased(erased, None, uow)
        await uow.commit()
    assert list(uow.fake_referrals.rows) == list(uow.fake_referrals.offer_rows) == [other_case.referral_id]
    topic, notice = uow.sent_to[-1]
    assert topic == "wegweiser.partner.vhs-stuttgart.referrals.v1"
    assert isinstance(notice, events.PartnerReferralErased) and notice.reason == "request"
    assert notice.referral_id == course.referral_id and "Haddad" not in notice.model_dump_json()
    webhook_notice = uow.fake_deliveries.queued[-1]
    assert webhook_notice["ce_type"] == events.PartnerReferralErased.ce_type()
    assert (
        webhook_notice["referral_id"] == counselling.referral_id and b"Haddad" not in webhook_notice["body"]
    )
    assert [t for t, m in uow.sent_to if isinstance(m, events.PartnerReferralErased)] == [topic]


async def test_the_inbox_copy_of_an_offer_lives_only_while_the_referral_is_under_way() -> None:
    """The partner inbox shows exactly the offer's minimum; a final state or a withdrawal erases it."""
    uow, policy, _ = await setup()
    completed, withdrawn = requested(), requested()
    for event in (completed, withdrawn):
        await handle(uow, policy, event)
    offers = await uow.referrals.offers("vhs-stuttgart", [completed.referral_id, withdrawn.referral_id])
    assert offers[completed.referral_id].person == {
        "family_name": "Haddad", "given_names": "Rania", "date_of_birth": "1988-03", "languages": ["ar"],
        "phone": "0711 1",
    }  # fmt: skip
    assert await uow.referrals.offers("psz-stuttgart", [completed.referral_id]) == {}  # not another's
    for outcome in ("accepted", "started", "completed"):
        cmd = RecordFeedback("vhs-stuttgart", completed.referral_id, uuid.uuid4(), outcome, channel="web")
        async with uow:
            await apply_feedback(cmd, uow=uow, policy=policy)
        assert (completed.referral_id in uow.fake_referrals.offer_rows) == (outcome != "completed")
    async with uow:
        consent = withdrawn.consent.consent_id
        await on_consent_withdrawn(
            events.ConsentWithdrawn(
                ags="08111000", case_id=withdrawn.case_id, consent_id=consent, withdrawn_on=MONDAY.date()
            ),
            None,
            uow,
            policy=policy,
        )
    assert uow.fake_referrals.offer_rows == {}


async def test_catalogue_changes_are_published_and_removal_ends_in_a_tombstone() -> None:
    uow, _, clock = await setup()
    created: list[object] = []

    async def topics(partner_ids: object) -> None:
        created.append(partner_ids)

    jmd = partner("jmd-ulm", "jmd", kreise=("08421",), organisation="JMD Ulm")
    saved = await create_partner(jmd, uow=uow, clock=clock, ensure_topics=topics)
    assert created == [["jmd-ulm"]] and saved.webhook_secret is None
    published = uow.published[-1]
    assert isinstance(published, events.PartnerPublished) and published.key() == "partner:jmd-ulm"
    await remove_partner("jmd-ulm", uow=uow, clock=clock)
    assert isinstance(uow.published[-1], events.PartnerRemoved)
    assert uow.sent_to[-1] == ("wegweiser.referrals.catalogue.v1", None)
    assert (await uow.catalogue.partner("jmd-ulm")).removed  # type: ignore[union-attr]


async def test_engine_consumers_skip_the_catalogue_tombstone() -> None:
    """Casework reads the catalogue through the shared dispatcher: a tombstone is no event, no DLQ entry."""
    calls: list[object] = []

    async def handler(event: object, envelope: object, uow: object) -> None:
        calls.append(event)

    dispatcher = EventDispatcher(
        group="g", handlers={events.PartnerRemoved: handler}, unit_of_work=FakeReferralsUnitOfWork
    )
    topic = "wegweiser.referrals.catalogue.v1"
    tombstone = Record(
        topic=topic,
        partition=0,
        offset=1,
        key="partner:x",
        value=None,
        headers=(),
        timestamp_ms=0,
        attempt=1,
        source_topic=topic,
        source_partition=0,
        source_offset=1,
    )
    await dispatcher(tombstone)
    assert calls == []
    with pytest.raises(MalformedRecord):  # a null value that claims to be an event is still malformed
        await dispatcher(dataclasses.replace(tombstone, headers=(("ce_type", b"x"),)))
