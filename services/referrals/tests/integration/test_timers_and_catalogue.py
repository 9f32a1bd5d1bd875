"""Timers on a fake clock survive a restart; the catalogue is published, with a tombstone on removal."""

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from wegweiser.common import events, topics
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import header, produce
from wegweiser.referrals.app import build
from wegweiser.referrals.clock import FakeClock
from wegweiser.referrals.deps import context_of
from wegweiser.referrals.handlers import Seed, seed_catalogue
from wegweiser.referrals.seed import default_programmes, example_partners
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import read_to_end, referral_requested, status_types

pytestmark = pytest.mark.integration

Bearer = Callable[..., dict[str, str]]
RUN = uuid.uuid4().hex[:6]
# Friday 18 December 2026, 10:00 in Berlin: Christmas and a weekend lie ahead.
FRIDAY = dt.datetime(2026, 12, 18, 9, 0, tzinfo=dt.UTC)


async def test_reminder_then_expiry_on_bw_working_days_across_a_restart(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    partner_id = f"it-timer-{RUN}"
    settings = settings.model_copy(update={"remind_after_working_days": 2, "expire_after_working_days": 5})
    clock = FakeClock(FRIDAY)
    staff = tokens("counsellor", provider_id="kreis-08426", ags=["08426001"])
    request = referral_requested(
        "mbe", partner_id, ags="08426001", provider_id="kreis-08426", requested_on=FRIDAY.date()
    )

    async def state() -> str | None:
        response = await client.get(f"/v1/referrals/{request.referral_id}", headers=staff)
        return response.json()["state"] if response.status_code == 200 else None

    async with running(build(settings, clock=clock)) as client:
        body = {
            "partner_id": partner_id,
            "organisation": "Timer test",
            "programmes": ["mbe"],
            "kreise": ["08426"],
            "delivery": "webhook",
            "webhook_url": "https://timer.example/hook",
        }
        assert (
            await client.post("/v1/admin/partners", json=body, headers=tokens("admin"))
        ).status_code == 201
        await produce(settings.kafka_bootstrap_servers, encode(request))
        await eventually(state, what="referral sent")
        sent = (await client.get(f"/v1/referrals/{request.referral_id}", headers=staff)).json()
        # Friday + 5 BW working days: Mon 21, Tue 22, Wed 23, Thu 24, (Christmas, weekend) Mon 28:
        # expiry at midnight after Monday 28 December, Berlin time.
        assert sent["respond_by"] == "2026-12-28T23:00:00Z"
        clock.set(dt.datetime(2026, 12, 22, 22, 59, tzinfo=dt.UTC))  # Tuesday 23:59: not yet
    # Restart: a new process, the same database; the timers are rows, not memory.
    app = build(settings, clock=clock)
    async with running(app) as client:
        rounds = context_of(app).background.timer_rounds
        await eventually(lambda: _after(context_of(app).background, rounds + 2), what="two timer rounds")
        assert await state() == "sent"
        clock.set(dt.datetime(2026, 12, 22, 23, 0, tzinfo=dt.UTC))  # Wednesday 00:00: two working days passed
        reminded = await eventually(lambda: _reminded(client, staff, request.referral_id), what="reminded")
        assert reminded["state"] == "sent"
        clock.set(dt.datetime(2026, 12, 28, 22, 59, tzinfo=dt.UTC))
        rounds = context_of(app).background.timer_rounds
        await eventually(lambda: _after(context_of(app).background, rounds + 2), what="two timer rounds")
        assert await state() == "sent"
        clock.set(dt.datetime(2026, 12, 28, 23, 0, tzinfo=dt.UTC))
        await eventually(lambda: _is(state(), "expired"), what="expired")
        statuses = await status_types(settings.kafka_bootstrap_servers, request.referral_id, expected=3)
    assert statuses == [
        events.ReferralSent.ce_type(),
        events.ReferralReminded.ce_type(),
        events.ReferralExpired.ce_type(),
    ]


async def _after(background: object, rounds: int) -> bool:
    return bool(background.timer_rounds >= rounds)  # type: ignore[attr-defined]


async def _reminded(client: httpx.AsyncClient, staff: dict[str, str], referral_id: uuid.UUID) -> Any:
    body = (await client.get(f"/v1/referrals/{referral_id}", headers=staff)).json()
    return body if body.get("reminded_at") else None


async def _is(coro: object, expected: str) -> bool:
    return bool(await coro == expected)  # type: ignore[misc]


async def test_the_catalogue_is_seeded_managed_by_admins_and_published(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    settings = settings.model_copy(update={"seed_catalogue": True})
    admin, counsellor = tokens("admin"), tokens("counsellor", provider_id="kreis-08111", ags=["08111000"])
    partner_id = f"it-catalogue-{RUN}"
    async with running(build(settings)) as client:
        programmes = (await client.get("/v1/catalogue/programmes", headers=counsellor)).json()
        assert len(programmes) == 10
        psych = next(p for p in programmes if p["programme"] == "psychosozial")
        assert psych["person_fields"] == ["given_names", "phone"]
        local = await client.get(
            "/v1/catalogue/partners?programme=integrationskurs&ags=08115028", headers=counsellor
        )
        assert {p["partner_id"] for p in local.json()} >= {"vhs-leonberg", "sprachschule-boeblingen"}
        assert all(p["webhook_url"] is None for p in local.json())  # URLs only for admins

        body = {
            "partner_id": partner_id,
            "organisation": "Katalogtest",
            "programmes": ["jmd"],
            "ags": ["08111000"],
            "delivery": "webhook",
            "webhook_url": "https://jmd.example/hook",
        }
        assert (await client.post("/v1/admin/partners", json=body, headers=counsellor)).status_code == 403
        bad = await client.post(
            "/v1/admin/partners",
            json={**body, "partner_id": "Not Valid", "ags": ["99999999"], "webhook_url": "http://jmd.example/h",
                  "programmes": ["yoga"]},
            headers=admin,
        )  # fmt: skip
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} >= {"partner_id", "programmes.0", "webhook_url"}
        unknown_area = await client.post(
            "/v1/admin/partners", json={**body, "ags": ["99999999"]}, headers=admin
        )
        assert [e["field"] for e in unknown_area.json()["errors"]] == ["ags"]
        created = await client.post("/v1/admin/partners", json=body, headers=admin)
        assert created.status_code == 201 and created.json()["webhook_secret"].startswith("whsec_")
        assert (await client.post("/v1/admin/partners", json=body, headers=admin)).status_code == 409
        changed = await client.put(f"/v1/admin/partners/{partner_id}", json={**body, "capacity_note": "voll"},
                                   headers=admin)  # fmt: skip
        assert changed.status_code == 200 and changed.json()["webhook_secret"] is None
        assert (await client.delete(f"/v1/admin/partners/{partner_id}", headers=admin)).status_code == 204
        assert (await client.delete(f"/v1/admin/partners/{partner_id}", headers=admin)).status_code == 404
        assert (
            await client.get(f"/v1/catalogue/partners/{partner_id}", headers=counsellor)
        ).status_code == 404
        document = (await client.get("/asyncapi.json")).json()
        assert document["asyncapi"] == "3.0.0"

        key = f"partner:{partner_id}".encode()
        await eventually(
            lambda: _has_tombstone(settings.kafka_bootstrap_servers, key), what="tombstone on the catalogue"
        )
        records = await read_to_end(
            settings.kafka_bootstrap_servers, topics.REFERRAL_CATALOGUE.name, where=lambda r: r.key == key
        )
    assert [header(r, "ce_type") for r in records] == [
        events.PartnerPublished.ce_type(),
        events.PartnerPublished.ce_type(),
        events.PartnerRemoved.ce_type(),
        None,
    ]
    assert records[-1].value is None  # the tombstone: compaction forgets the partner


async def _has_tombstone(bootstrap: str, key: bytes) -> bool:
    found = await read_to_end(bootstrap, topics.REFERRAL_CATALOGUE.name, where=lambda r: r.key == key)
    return any(r.value is None for r in found)


async def test_two_replicas_starting_together_seed_the_catalogue_once(settings: ReferralsSettings) -> None:
    """Both read an empty catalogue before either commits; the one that loses the race must still start."""
    replicas = [context_of(build(settings)) for _ in (1, 2)]
    await replicas[0].runtime.migrate()

    async def slow_topics(partner_ids: object) -> None:
        await asyncio.sleep(0.5)  # holds the first transaction open while the other reads and inserts

    seed = Seed(default_programmes(), example_partners())
    try:
        added = await asyncio.gather(
            *(
                seed_catalogue(seed, uow=r.unit_of_work(), clock=r.policy.clock, ensure_topics=slow_topics)
                for r in replicas
            )
        )
    finally:
        for r in replicas:
            await r.runtime.db.dispose()
    assert sorted(added) == [0, len(seed.programmes) + len(seed.partners)]
