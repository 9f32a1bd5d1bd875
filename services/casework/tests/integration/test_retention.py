"""The retention purge and erasure on request, on PostgreSQL: personal data goes, tombstones stay."""

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from wegweiser.casework import handlers as h
from wegweiser.casework.app import build
from wegweiser.casework.db import (
    AuditRow,
    CaseRow,
    ConsentRow,
    ConsultationRow,
    GoalRow,
    IdempotencyRow,
    ReferralRow,
)
from wegweiser.casework.domain.model import Consent, Consultation, Goal
from wegweiser.casework.migrations import MIGRATIONS
from wegweiser.casework.retention import due_cases, purge
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import COUNSELLOR, STUTTGART, bearer, head_of_household
from wegweiser.common import events
from wegweiser.common.db import OutboxRecord, create_engine, utcnow
from wegweiser.common.envelope import Envelope, decode
from wegweiser.common.migrations import upgrade_database
from wegweiser.common.retention import RetentionPeriod
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

KEY = "k" * 32
PERIOD = RetentionPeriod(months=24)
UoW = Callable[[], h.CaseworkUnitOfWork]


@pytest.fixture
async def unit_of_work(database_url: str) -> AsyncIterator[UoW]:
    engine = create_engine(database_url)
    await upgrade_database(engine, MIGRATIONS)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    yield lambda: h.CaseworkUnitOfWork(sessions)
    await engine.dispose()


async def full_case(uow: UoW, *, opened_on: dt.date, closed_on: dt.date | None) -> uuid.UUID:
    """A walk-in household with a note, a goal, a consent and a referral; closed on ``closed_on``."""
    today = closed_on or opened_on
    person = head_of_household(date_of_birth="1988-03-14")
    case = await h.open_walk_in_case(
        h.OpenWalkInCase(STUTTGART, opened_on, (person,), COUNSELLOR),
        uow=uow(),
        today=today,
        pseudonym_key=KEY,
    )
    note = Consultation(
        held_on=opened_on,
        duration_minutes=45,
        type="erstgespraech",
        channel="persoenlich",
        note="Traumatisiert",
    )
    await h.record_consultation(h.RecordConsultation(case.case_id, note, COUNSELLOR), uow=uow(), today=today)
    goal = Goal(handlungsfeld="sprache", description="B1-Kurs bei der VHS", set_on=opened_on)
    await h.set_goal(h.SetGoal(case.case_id, goal, COUNSELLOR), uow=uow(), today=today, pseudonym_key=KEY)
    consent = Consent(person_id=person.person_id, purpose="integrationskurs", granted_on=opened_on)
    await h.grant_consent(
        h.GrantConsent(case.case_id, consent, COUNSELLOR), uow=uow(), today=today, pseudonym_key=KEY
    )
    await h.request_referral(
        h.RequestReferral(case.case_id, person.person_id, "integrationskurs", COUNSELLOR),
        uow=uow(),
        today=today,
        pseudonym_key=KEY,
    )
    if closed_on is not None:
        await h.close_case(
            h.CloseCase(case.case_id, "goals_met", closed_on, COUNSELLOR), uow=uow(), today=closed_on
        )
    return case.case_id


async def records_of(uow: UoW, case_id: uuid.UUID) -> dict[str, int]:
    async with uow() as u:
        return {
            table.__tablename__: (
                await u.session.execute(
                    select(func.count()).select_from(table).where(col(table.case_id) == case_id)
                )
            ).scalar_one()
            for table in (ConsultationRow, GoalRow, ConsentRow, ReferralRow, AuditRow)
        }


async def row(uow: UoW, case_id: uuid.UUID) -> CaseRow:
    async with uow() as u:
        found = await u.session.get(CaseRow, case_id)
        assert found is not None
        u.session.expunge(found)  # outlives the unit of work's rollback
        return found


async def erased_events(uow: UoW) -> list[events.CaseErased]:
    async with uow() as u:
        records = (await u.session.execute(select(OutboxRecord))).scalars().all()
        decoded = [decode([(k, v.encode()) for k, v in r.headers], r.value)[1] for r in records]
    return [e for e in decoded if isinstance(e, events.CaseErased)]


async def test_purge_erases_cases_closed_longer_ago_than_the_period_and_only_those(unit_of_work: UoW) -> None:
    today = dt.date(2026, 11, 26)
    due = await full_case(unit_of_work, opened_on=dt.date(2022, 3, 1), closed_on=dt.date(2024, 11, 25))
    kept = await full_case(unit_of_work, opened_on=dt.date(2022, 3, 1), closed_on=dt.date(2024, 11, 26))
    still_open = await full_case(unit_of_work, opened_on=dt.date(2022, 3, 1), closed_on=None)
    before_due = await records_of(unit_of_work, due)
    assert await due_cases(unit_of_work, period=PERIOD, today=today) == [due]

    report = await purge(unit_of_work, period=PERIOD, today=today)

    assert report.erased == [due]
    assert report.records == {"persons": 1, "consultations": 1, "goals": 1, "consents": 1, "referrals": 1}
    tombstone = await row(unit_of_work, due)
    assert tombstone.status == "erased"
    assert tombstone.persons == []
    assert (tombstone.search_names, tombstone.search_dobs) == ("", "")
    assert (tombstone.counsellor_id, tombstone.extension_justification) == (None, None)
    # what statistics and the audit trail need, without identity, stays
    assert (tombstone.ags, tombstone.provider_id, tombstone.opened_on, tombstone.closed_on) == (
        STUTTGART,
        "kreis-08111",
        dt.date(2022, 3, 1),
        dt.date(2024, 11, 25),
    )
    assert tombstone.closure_reason == "goals_met"
    after = await records_of(unit_of_work, due)
    assert {k: v for k, v in after.items() if k != "audit_log"} == dict.fromkeys(
        ("consultations", "goals", "consents", "referrals"), 0
    )
    assert after["audit_log"] == before_due["audit_log"] + 1  # nothing removed, one entry added
    async with unit_of_work() as u:
        entry = (
            await u.session.execute(
                select(AuditRow).where(col(AuditRow.case_id) == due, col(AuditRow.action) == "erase")
            )
        ).scalar_one()
        assert (entry.actor, entry.detail["reason"], entry.detail["consultations"]) == (
            "system",
            "retention",
            1,
        )
        assert "Haddad" not in str(entry.detail)
    assert [(e.case_id, e.reason, e.erased_on) for e in await erased_events(unit_of_work)] == [
        (due, "retention", today)
    ]
    for untouched in (kept, still_open):
        assert (await row(unit_of_work, untouched)).persons[0]["family_name"] == "Haddad"
        assert (await records_of(unit_of_work, untouched))["consultations"] == 1

    again = await purge(unit_of_work, period=PERIOD, today=today)
    assert again.counts() == {"cases": 0}
    assert len(await erased_events(unit_of_work)) == 1


async def test_an_erased_case_is_gone_for_people_and_ignores_late_arrival_events(unit_of_work: UoW) -> None:
    arrived = events.ArrivalRegistered(
        ags=STUTTGART,
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference="UAB-2020-0001",
        allocation_date=dt.date(2020, 1, 6),
        persons=(
            events.ArrivedPerson(
                person_id=uuid.uuid4(), role="head", family_name="Haddad", given_names="Rania"
            ),
        ),
    )
    envelope = Envelope(
        id="e1", source="/wegweiser/intake", type="t", subject="s", time=dt.datetime.now(dt.UTC), headers={}
    )
    async with unit_of_work() as u:
        await h.open_case_for_arrival(arrived, envelope, u, pseudonym_key=KEY)
        await u.commit()
    async with unit_of_work() as u:
        opened = await u.cases.by_arrival(arrived.arrival_id)
        assert opened is not None
        await u.cases.save(
            opened.close(reason="moved_away", on=dt.date(2021, 1, 8), today=dt.date(2021, 1, 8))
        )
        await u.commit()
    await purge(unit_of_work, period=PERIOD, today=dt.date(2026, 11, 26))
    # intake erases the arrival the case was opened for on this event (a walk-in names none)
    assert [e.arrival_id for e in await erased_events(unit_of_work)] == [arrived.arrival_id]

    corrected = events.ArrivalCorrected(
        **arrived.model_dump(exclude={"occurred_at"}), corrected_fields=("persons",)
    )
    async with unit_of_work() as u:  # late or replayed events of the arrival
        await h.open_case_for_arrival(arrived, envelope, u, pseudonym_key=KEY)
        await h.correct_case_for_arrival(corrected, envelope, u)
        await u.commit()
    async with unit_of_work() as u:
        assert await u.cases.get(opened.case_id, h.scope_of(COUNSELLOR)) is None
        assert await u.cases.visible(h.scope_of(COUNSELLOR)) == []
        tombstone = await u.cases.for_system(opened.case_id)
        assert (await u.session.execute(select(func.count()).select_from(CaseRow))).scalar_one() == 1
    assert tombstone is not None and (tombstone.status, tombstone.persons) == ("erased", ())


async def test_outbox_records_published_before_the_cut_off_are_deleted(unit_of_work: UoW) -> None:
    await full_case(unit_of_work, opened_on=dt.date(2026, 1, 5), closed_on=None)
    async with unit_of_work() as u:
        ids = list(
            (await u.session.execute(select(col(OutboxRecord.id)).order_by(col(OutboxRecord.id)))).scalars()
        )
        old, recent = ids[:2], ids[2:4]
        for record_id, at in [(i, utcnow() - dt.timedelta(days=30)) for i in old] + [
            (i, utcnow()) for i in recent
        ]:
            record = await u.session.get(OutboxRecord, record_id)
            assert record is not None
            record.published_at = at
        await u.commit()

    week_ago = utcnow() - dt.timedelta(days=7)
    report = await purge(unit_of_work, period=PERIOD, today=dt.date(2026, 11, 26), outbox_before=week_ago)

    assert report.records["outbox_records"] == 2
    async with unit_of_work() as u:
        left = set((await u.session.execute(select(col(OutboxRecord.id)))).scalars())
    assert left == set(ids) - set(old)  # recent and unsent records stay


async def test_answers_kept_for_repeated_requests_are_forgotten_after_the_cut_off(unit_of_work: UoW) -> None:
    async with unit_of_work() as u:
        for key, at in (("old", utcnow() - dt.timedelta(days=3)), ("recent", utcnow())):
            u.answers.add(IdempotencyRow(owner="api:x", key=key, request_hash="h", created_at=at))
        await u.commit()

    two_days_ago = utcnow() - dt.timedelta(hours=48)
    report = await purge(
        unit_of_work, period=PERIOD, today=dt.date(2026, 11, 26), answers_before=two_days_ago
    )

    assert report.records["idempotency_answers"] == 1
    async with unit_of_work() as u:
        assert await u.answers.get("api:x", "old") is None
        assert await u.answers.get("api:x", "recent") is not None


def admin_headers(dev_keys: Path, role: str = "admin") -> dict[str, str]:
    return bearer(dev_keys, f"dev-{role}", role, provider_id=None if role == "admin" else "kreis-08111")


async def test_admin_erases_a_closed_case_on_request(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    admin, counsellor = admin_headers(dev_keys), admin_headers(dev_keys, "counsellor")
    app = build(CaseworkSettings(database_url=database_url, **casework_env))
    async with running(app) as client:
        opened = await client.post(
            "/v1/cases",
            headers=counsellor,
            json={
                "ags": STUTTGART,
                "opened_on": "2026-01-05",
                "persons": [{"family_name": "A", "given_names": "B"}],
            },
        )
        case_id = opened.json()["case_id"]
        path = f"/v1/admin/cases/{case_id}/erase"

        assert (await client.post(path, headers=counsellor)).status_code == 403
        still_open = await client.post(path, headers=admin)
        assert still_open.status_code == 409
        assert still_open.headers["content-type"].startswith("application/problem+json")
        assert still_open.json()["code"] == "case_open"
        closure = {"reason": "moved_away", "closed_on": "2026-02-01"}
        assert (
            await client.post(f"/v1/cases/{case_id}/closure", headers=counsellor, json=closure)
        ).is_success

        erased = await client.post(path, headers=admin)
        assert erased.status_code == 200
        assert erased.json() == {
            "case_id": case_id,
            "status": "erased",
            "erased_now": True,
            "records": {"persons": 1, "consultations": 0, "goals": 0, "consents": 0, "referrals": 0},
        }
        assert (await client.get(f"/v1/cases/{case_id}", headers=counsellor)).status_code == 404
        again = await client.post(path, headers=admin)
        assert (again.status_code, again.json()["erased_now"]) == (200, False)
        unknown = await client.post(f"/v1/admin/cases/{uuid.uuid4()}/erase", headers=admin)
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        async with app.state.runtime.unit_of_work() as u:
            tombstone = await u.session.get(CaseRow, uuid.UUID(case_id))
            assert tombstone is not None and (tombstone.status, tombstone.persons) == ("erased", [])
