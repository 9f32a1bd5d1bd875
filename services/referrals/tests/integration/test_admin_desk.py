"""Referrals' admin desk on the real broker and PostgreSQL (issue 14): the partners with their delivery and
its health, referrals' stuck records per municipality with their reason, retried like ``wegweiser dlq
replay`` and then processed; every retry in referrals' audit log; nobody but an admin gets in."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from wegweiser.common import devtokens, events
from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.fakes import Outage
from wegweiser.common.testing.kafka import produce
from wegweiser.referrals import consumers
from wegweiser.referrals.app import build
from wegweiser.referrals.db import AuditRow
from wegweiser.referrals.deps import context_of
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import CONTACT, closed_port_url, referral_requested
from wegweiser.referrals.web.staff import DEV_PARTNER_STAFF

pytestmark = pytest.mark.integration

COOKIE = "wegweiser_referrals_session"
STUTTGART = "08111000"
FAULT = "Adressprüfung nicht erreichbar"


def rows(page: str, attribute: str) -> dict[str, str]:
    """The desk's table rows by their ``data-`` attribute (``entry`` or ``partner``)."""
    return dict(re.findall(rf'<tr[^>]*data-{attribute}="([^"]+)"[^>]*>(.*?)</tr>', page, re.S))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, html[:2000]
    return match.group(1)


async def retries_audited(app: FastAPI) -> list[dict[str, Any]]:
    """The details of the admin's retries in referrals' audit log, oldest first."""
    async with context_of(app).unit_of_work() as uow:
        query = select(AuditRow).where(col(AuditRow.action) == "admin.dlq_retry").order_by(col(AuditRow.id))
        return [
            {"actor": e.actor, "role": e.actor_role, **e.detail}
            for e in (await uow.session.execute(query)).scalars()
        ]


async def test_nobody_but_an_admin_gets_in_and_the_admin_lands_on_the_desk(
    settings: ReferralsSettings, dev_keys: Path
) -> None:
    app = build(settings)
    async with running(app) as client:
        assert (await client.get("/admin")).headers["location"] == "/login?next=/admin"
        login = (await client.get("/login")).text
        assert "Plattform-Administration" in login and "Administration" in login

        # A partner's staff member: 403 on every page and action of the desk, nothing retried.
        partner = DEV_PARTNER_STAFF[0].subject
        assert (await client.post("/login", data={"subject": partner, "next": "/inbox"})).status_code == 303
        inbox = await client.get("/inbox")
        for path in ("/admin", "/admin/dlq"):
            refused = await client.get(path)
            assert (
                refused.status_code == 403
                and "Diese Seite ist der Administration vorbehalten." in refused.text
            )
        retry = await client.post("/admin/dlq/retry", data={"csrf": csrf_of(inbox.text), "entry": "x:0:0"})
        assert retry.status_code == 403

        # A counsellor's token as session (casework's role): no partner, no admin, 403 too, in English.
        client.cookies.clear()
        counsellor = devtokens.mint(subject="it-counsellor", roles=["counsellor"], key_dir=dev_keys)
        client.cookies.set(COOKIE, counsellor)
        refused = await client.get("/admin?lang=en")
        assert refused.status_code == 403 and "This page is for administrators." in refused.text

        # The admin: the inbox's landing page sends them to the desk; German, and English on request.
        client.cookies.clear()
        assert (await client.post("/login", data={"subject": "admin", "next": "/inbox"})).status_code == 303
        landing = await client.get("/inbox")
        assert (landing.status_code, landing.headers["location"]) == (303, "/admin")
        desk = await client.get("/admin")
        assert desk.status_code == 200 and "Verwaltung: Partner und ihre Zustellung" in desk.text
        assert "Angemeldet als Plattform-Administration" in desk.text
        english = await client.get("/admin?lang=en")
        assert "Administration: partners and their delivery" in english.text
        stuck = await client.get("/admin/dlq")
        assert "Stuck events of referrals" in stuck.text  # the language stays chosen (cookie)
        german = await client.get("/admin/dlq?lang=de")
        assert (
            "Hängende Ereignisse der Überweisungen" in german.text
            and "Gemeindeschlüssel (AGS)" in german.text
        )
        forged = await client.post("/admin/dlq/retry", data={"csrf": "forged", "entry": "x:0:0"})
        assert forged.status_code == 400
    assert await retries_audited(app) == []


async def test_the_desk_shows_each_partners_delivery_its_health_and_its_open_breaker(
    settings: ReferralsSettings, tokens: Any
) -> None:
    settings = settings.model_copy(update={"breaker_open_s": 300.0, "breaker_open_max_s": 600.0})
    app = build(settings)
    admin = tokens("admin")
    down, kafka = f"it-down-{uuid.uuid4().hex[:6]}", f"it-kafka-{uuid.uuid4().hex[:6]}"
    async with running(app) as client:
        for body in (
            {"partner_id": down, "programmes": ["psychosozial"], "kreise": ["08111"], "delivery": "webhook",
             "webhook_url": closed_port_url()},
            {"partner_id": kafka, "programmes": ["jmd"], "ags": [STUTTGART], "delivery": "kafka"},
        ):  # fmt: skip
            created = await client.post(
                "/v1/admin/partners",
                json={"organisation": f"Org {body['partner_id']}", **body},
                headers=admin,
            )
            assert created.status_code == 201, created.text
        await produce(
            settings.kafka_bootstrap_servers, encode(referral_requested("psychosozial", down, phone="0711 1"))
        )
        await client.post("/login", data={"subject": "admin", "next": "/admin"})

        async def breaker_open() -> dict[str, str]:
            found = rows((await client.get("/admin")).text, "partner")
            return found if "offen: Zustellung pausiert" in found.get(down, "") else {}

        partners = await eventually(
            breaker_open, timeout_s=60, what="the dead partner's breaker open on the desk"
        )
        api = (await client.get(f"/v1/admin/partners/{down}/delivery", headers=admin)).json()
        assert api["breaker"] == "open"  # the desk says what the admin API says
        row = partners[down]
        assert (
            f"Org {down}" in row and "Psychosoziale" in row and "Stuttgart, Stadtkreis (ganzer Kreis)" in row
        )
        assert "Webhook" in row and "/hooks/down" in row
        pending = api["deliveries"].get("pending", 0)
        assert f"{pending} ausstehend, 0 fehlgeschlagen, 0 zugestellt" in row
        assert "Zuletzt zugestellt: –" in row
        assert re.search(r"Letzter Fehler \(\d\d\.\d\d\.\d{4} \d\d:\d\d\):", row), row
        assert "ConnectError" in row  # the refused connection, as the worker recorded it
        row = partners[kafka]
        assert f"wegweiser.partner.{kafka}.referrals.v1" in row and "Stuttgart" in row
        assert "liest sein Kafka-Topic selbst" in row
        english = rows((await client.get("/admin?lang=en")).text, "partner")
        assert "open: delivery paused after repeated failures" in english[down]


async def test_a_stuck_request_is_listed_with_its_reason_retried_from_the_desk_audited_and_then_routed(
    settings: ReferralsSettings, monkeypatch: pytest.MonkeyPatch, tokens: Any
) -> None:
    outage = Outage(FAULT)
    monkeypatch.setattr(consumers, "receive_request", outage.wrap(consumers.receive_request))
    quick = EngineConfig(max_attempts=2, backoff_initial_s=0.2)
    monkeypatch.setattr(ReferralsSettings, "engine_config", lambda self: quick)
    app = build(settings)
    partner_id = f"it-vhs-{uuid.uuid4().hex[:6]}"
    request = referral_requested("integrationskurs", partner_id, **CONTACT)
    async with running(app) as client:
        body = {"partner_id": partner_id, "organisation": "VHS", "programmes": ["integrationskurs"],
                "ags": [STUTTGART], "delivery": "kafka"}  # fmt: skip
        assert (
            await client.post("/v1/admin/partners", json=body, headers=tokens("admin"))
        ).status_code == 201
        await produce(settings.kafka_bootstrap_servers, encode(request))
        await client.post("/login", data={"subject": "admin", "next": "/admin"})

        async def listed() -> dict[str, str]:
            return rows((await client.get(f"/admin/dlq?ags={STUTTGART}")).text, "entry")

        [(entry_id, row)] = (await eventually(listed, timeout_s=60, what="the failed request listed")).items()
        assert f"ConnectionError: {FAULT}" in row and "Nach 2 Versuch(en) fehlgeschlagen" in row
        assert events.ReferralRequested.ce_type() in row
        page = (await client.get(f"/admin/dlq?ags={STUTTGART}")).text
        assert "<h2" in page and "Stuttgart" in page and "Haddad" not in page  # the reason, no person data

        async with context_of(app).unit_of_work() as uow:
            assert await uow.referrals.get(request.referral_id) is None

        # The fault is gone; the admin presses "Erneut versuchen": the request is published again and routed.
        outage.end()
        retried = await client.post(
            "/admin/dlq/retry", data={"csrf": csrf_of(page), "entry": entry_id, "ags": STUTTGART}
        )
        assert (retried.status_code, retried.headers["location"]) == (
            303,
            f"/admin/dlq?done=retried&n=1&ags={STUTTGART}",
        )
        assert (
            "1 Ereignis(se) wurden erneut zur Verarbeitung gegeben."
            in (await client.get(retried.headers["location"])).text
        )

        async def routed() -> bool:
            async with context_of(app).unit_of_work() as uow:
                referral = await uow.referrals.get(request.referral_id)
            return referral is not None and (referral.state, referral.partner_id) == ("sent", partner_id)

        await eventually(routed, timeout_s=60, what="the request routed to the partner after the retry")
        await eventually(lambda: listed_empty(client), timeout_s=60, what="nothing stuck any more")
        [audited] = await retries_audited(app)
        assert (audited["actor"], audited["role"], audited["entries"]) == ("admin", "admin", [entry_id])
        assert audited["outcome"][0].startswith(f"replayed {entry_id}")

        # Casework's entry (or a made-up one) cannot be retried from referrals' desk, and is not audited.
        foreign = f"casework.dlq.{settings.consumer_group_prefix}-casework:0:0"
        for entry in (foreign, "kaputt"):
            refused = await client.post("/admin/dlq/retry", data={"csrf": csrf_of(page), "entry": entry})
            assert refused.status_code == 404
        assert len(await retries_audited(app)) == 1


async def listed_empty(client: Any) -> bool:
    return rows((await client.get(f"/admin/dlq?ags={STUTTGART}")).text, "entry") == {}
