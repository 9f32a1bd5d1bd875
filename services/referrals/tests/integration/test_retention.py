"""Referrals' retention on PostgreSQL: finished referrals after the period, all of a case on case.erased."""

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.common import events
from wegweiser.common.db import create_engine
from wegweiser.common.envelope import encode
from wegweiser.common.events.referrals import partner_referrals_topic
from wegweiser.common.migrations import upgrade_database
from wegweiser.common.retention import RetentionPeriod
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import header, produce, read_all
from wegweiser.referrals.app import build
from wegweiser.referrals.background import sweep_personal_data
from wegweiser.referrals.clock import FakeClock
from wegweiser.referrals.db import (
    DeliveryRepository,
    FeedbackRow,
    KnownCase,
    ReferralRepository,
    ReferralRow,
    WebhookDeliveryRow,
)
from wegweiser.referrals.deps import context_of
from wegweiser.referrals.domain.lifecycle import Referral
from wegweiser.referrals.migrations import MIGRATIONS
from wegweiser.referrals.settings import ReferralsSettings

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
# Oberried: no other test uses it, so on a shared broker our case.erased is not queued behind another
# test's backlog of Stuttgart events (the engine serves municipalities fairly, not topics in order).
QUIET_AGS = "08315084"
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    await upgrade_database(engine, MIGRATIONS)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def seed(sessions: Sessions, *, case_id: uuid.UUID, state: str, updated_at: dt.datetime) -> uuid.UUID:
    """A referral with a partner answer and a (pending) webhook delivery carrying the person's data."""
    referral = Referral.model_validate(
        {
            "referral_id": uuid.uuid4(),
            "case_id": case_id,
            "ags": QUIET_AGS,
            "provider_id": "kreis-08315",
            "programme": "integrationskurs",
            "consent_id": uuid.uuid4(),
            "requested_on": updated_at.date(),
            "state": state,
            "partner_id": "vhs-stuttgart",
            "updated_at": updated_at,
        }
    )
    async with sessions() as session:
        await ReferralRepository(session).save(referral)
        if await session.get(KnownCase, case_id) is None:
            session.add(KnownCase(case_id=case_id, ags=QUIET_AGS, opened_on=dt.date(2020, 1, 1)))
        session.add(
            FeedbackRow(
                partner_id="vhs-stuttgart",
                feedback_id=uuid.uuid4(),
                referral_id=referral.referral_id,
                outcome="accepted",
                channel="http",
            )
        )
        DeliveryRepository(session).enqueue(
            partner_id="vhs-stuttgart",
            referral_id=referral.referral_id,
            ce_type="de.wegweiser.partner.referral.offered.v1",
            headers={},
            body=b'{"family_name": "Haddad"}',
        )
        await session.commit()
    return referral.referral_id


Table = type[ReferralRow] | type[FeedbackRow] | type[WebhookDeliveryRow]
TABLES: tuple[Table, ...] = (ReferralRow, FeedbackRow, WebhookDeliveryRow)


async def remaining(sessions: Sessions, table: Table, referral_id: uuid.UUID) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(table).where(col(table.referral_id) == referral_id)
        return int((await session.execute(query)).scalar_one())


async def test_finished_referrals_are_erased_after_the_period_from_their_final_state(
    sessions: Sessions,
) -> None:
    case = uuid.uuid4()
    old = await seed(sessions, case_id=case, state="completed", updated_at=NOW - dt.timedelta(days=800))
    recent = await seed(sessions, case_id=case, state="declined", updated_at=NOW - dt.timedelta(days=700))
    under_way = await seed(sessions, case_id=case, state="started", updated_at=NOW - dt.timedelta(days=900))

    async def sweep() -> dict[str, int]:
        return await sweep_personal_data(
            sessions=sessions,
            clock=FakeClock(NOW),
            retention=dt.timedelta(days=30),
            period=RetentionPeriod(months=24),
        )

    late_answer = uuid.uuid4()  # answered after its referral was erased with its case
    async with sessions() as session:
        session.add(
            FeedbackRow(
                partner_id="vhs-stuttgart",
                feedback_id=uuid.uuid4(),
                referral_id=late_answer,
                outcome="completed",
                channel="kafka",
                rejected_code="unknown_referral",
                received_at=NOW - dt.timedelta(days=800),
            )
        )
        await session.commit()

    counts = await sweep()

    assert (counts["referrals_erased"], counts["partner_feedback_erased"]) == (1, 2)
    assert await remaining(sessions, FeedbackRow, late_answer) == 0
    for table in TABLES:
        assert await remaining(sessions, table, old) == 0
        assert await remaining(sessions, table, recent) == 1
        assert await remaining(sessions, table, under_way) == 1
    assert (await sweep())["referrals_erased"] == 0


async def test_case_erased_from_casework_erases_every_referral_of_the_case(
    service_env: dict[str, Any], database_url: str
) -> None:
    """...and the partner that was offered them (the example catalogue's vhs-stuttgart, on Kafka) reads
    one ``referral.erased`` per referral on its own topic."""
    settings = ReferralsSettings(database_url=database_url, **service_env)
    app = build(settings)
    erased_case, other_case = uuid.uuid4(), uuid.uuid4()
    async with running(app) as _client:
        sessions = context_of(app).runtime.sessions
        mine = [
            await seed(sessions, case_id=erased_case, state=state, updated_at=NOW)
            for state in ("sent", "completed")
        ]
        theirs = await seed(sessions, case_id=other_case, state="sent", updated_at=NOW)
        erasure = events.CaseErased(
            ags=QUIET_AGS, case_id=erased_case, erased_on=NOW.date(), reason="request"
        )
        await produce(settings.kafka_bootstrap_servers, encode(erasure))

        async def gone() -> bool:
            async with sessions() as session:
                return await session.get(KnownCase, erased_case) is None

        await eventually(gone, timeout_s=60, what="case.erased consumed")
        for table in TABLES:
            assert [await remaining(sessions, table, r) for r in mine] == [0, 0]
            assert await remaining(sessions, table, theirs) == 1
        async with sessions() as session:
            assert await session.get(KnownCase, other_case) is not None
        notices = await read_all(
            settings.kafka_bootstrap_servers,
            partner_referrals_topic("vhs-stuttgart").name,
            expected=2,
            where=lambda r: (
                header(r, "ce_type") == events.PartnerReferralErased.ce_type()
                and json.loads(r.value or b"{}")["referral_id"] in {str(m) for m in mine}
            ),
        )
        assert sorted(json.loads(n.value or b"{}")["referral_id"] for n in notices) == sorted(map(str, mine))
