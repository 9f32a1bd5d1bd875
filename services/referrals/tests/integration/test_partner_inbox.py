"""The partner inbox on the real broker and PostgreSQL: sign-in, isolation between partners, each answer.

Every answer goes through the partner API's handler, so the same events reach ``referrals.status.v1``;
a form sent twice is one answer; partner B never sees or changes partner A's referral.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from wegweiser.common import events, topics
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import header, produce, read_all
from wegweiser.referrals.app import build
from wegweiser.referrals.clock import FakeClock
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import CONTACT, referral_requested, status_types
from wegweiser.referrals.web.staff import DEV_PARTNER_STAFF

pytestmark = pytest.mark.integration

Bearer = Callable[..., dict[str, str]]
A_STAFF, B_STAFF = DEV_PARTNER_STAFF[0], DEV_PARTNER_STAFF[1]  # vhs-stuttgart, jmd-stuttgart
COOKIE = "wegweiser_referrals_session"
PHONE = "+49 711 5550100"


async def create_partners(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """The two development partners, as Kafka partners in Stuttgart."""
    for partner_id, programme in ((A_STAFF.partner_id, "integrationskurs"), (B_STAFF.partner_id, "jmd")):
        body = {"partner_id": partner_id, "organisation": f"Test {partner_id}", "programmes": [programme],
                "kreise": ["08111"], "delivery": "kafka"}  # fmt: skip
        response = await client.post("/v1/admin/partners", json=body, headers=admin)
        assert response.status_code == 201, response.text


@contextlib.asynccontextmanager
async def signed_in(app: FastAPI, subject: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own, signed in at the development login as ``subject``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/login", data={"subject": subject, "next": "/inbox"})
        assert (response.status_code, response.headers["location"]) == (303, "/inbox")
        assert COOKIE in response.cookies  # apart from casework's and intake's on the same host
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def form_token(html: str, action: str) -> str:
    """The one-time token of the answer form for ``action``."""
    pattern = rf'name="action" value="{action}">\s*<input type="hidden" name="form_token" value="([^"]+)"'
    match = re.search(pattern, html)
    assert match, f"no form for {action}"
    return match.group(1)


async def answer(
    client: httpx.AsyncClient, referral_id: uuid.UUID, action: str, **fields: Any
) -> httpx.Response:
    """Open the referral's page and send the form of ``action`` as a browser would."""
    page = await client.get(f"/inbox/{referral_id}")
    assert page.status_code == 200, page.text[:500]
    data = {
        "csrf": csrf_of(page.text),
        "action": action,
        "form_token": form_token(page.text, action),
        **fields,
    }
    return await client.post(f"/inbox/{referral_id}/answer", data=data)


async def forged_answer(client: httpx.AsyncClient, action: str) -> dict[str, str]:
    """An answer form not taken from the referral's page: this session's CSRF token, a new form token
    (another partner's guess, or a page left open in another tab)."""
    return {
        "csrf": csrf_of((await client.get("/inbox")).text),
        "action": action,
        "form_token": str(uuid.uuid4()),
    }


async def sent_to(client: httpx.AsyncClient, referral_id: uuid.UUID) -> bool:
    return str(referral_id) in (await client.get("/inbox")).text


async def test_a_partner_sees_and_answers_only_its_own_referrals(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    app = build(settings)
    async with (
        running(app) as client,
        signed_in(app, A_STAFF.subject) as a,
        signed_in(app, B_STAFF.subject) as b,
    ):
        assert (await client.get("/inbox")).headers["location"] == "/login?next=/inbox"
        login = await client.get("/login")
        assert all(s.display_name in login.text for s in DEV_PARTNER_STAFF)
        assert "Volkshochschule Stuttgart" in login.text and "Partner (Sachbearbeitung)" in login.text
        # A partner's API token is no session: the inbox asks for a sign-in.
        api_token = tokens("partner", partner_id=A_STAFF.partner_id)
        assert (await client.get("/inbox", headers=api_token)).status_code == 303
        await create_partners(client, tokens("admin"))

        request = referral_requested("integrationskurs", A_STAFF.partner_id, **{**CONTACT, "phone": PHONE})
        await produce(settings.kafka_bootstrap_servers, encode(request))
        await eventually(lambda: sent_to(a, request.referral_id), what="the referral in A's inbox")
        url = f"/inbox/{request.referral_id}"
        assert "Rania Haddad" in (await a.get("/inbox")).text
        detail = (await a.get(url)).text
        assert PHONE in detail and "gesendet" in detail and "Stuttgart" in detail
        assert CONTACT["email"] not in detail  # the programme's minimum: no e-mail for a course

        # Partner B: not in its inbox, its page is "not found", and its answer changes nothing.
        assert str(request.referral_id) not in (await b.get("/inbox")).text
        assert (await b.get(url)).status_code == 404
        forged = await forged_answer(b, "accept")
        refused = await b.post(f"{url}/answer", data=forged)
        assert refused.status_code == 404 and "Nicht gefunden" in refused.text
        # A form without this session's CSRF token is refused.
        assert (await a.post(f"{url}/answer", data={**forged, "csrf": "0" * 32})).status_code == 400
        assert "gesendet" in (await a.get(url)).text

        # Accept, sent twice (a double click): recorded once.
        page = (await a.get(url)).text
        twice = {"csrf": csrf_of(page), "action": "accept", "form_token": form_token(page, "accept")}
        first = await a.post(f"{url}/answer", data=twice)
        again = await a.post(f"{url}/answer", data=twice)
        assert first.status_code == again.status_code == 303
        assert "Die Überweisung ist angenommen." in (await a.get(first.headers["location"])).text

        # A start without a valid date is shown beside the field (422); then started, then completed.
        bad = await answer(a, request.referral_id, "start", started_on="gestern")
        assert bad.status_code == 422 and "Bitte ein gültiges Datum angeben" in bad.text
        on = request.requested_on.isoformat()
        assert (await answer(a, request.referral_id, "start", started_on=on)).status_code == 303
        assert (await answer(a, request.referral_id, "complete")).status_code == 303
        final = (await a.get(url)).text
        assert "abgeschlossen" in final and PHONE not in final  # the offer's copy is erased

        status = await status_types(settings.kafka_bootstrap_servers, request.referral_id, expected=4)
    assert status == [
        events.ReferralSent.ce_type(),
        events.ReferralAccepted.ce_type(),
        events.ReferralStarted.ce_type(),
        events.ReferralCompleted.ce_type(),
    ]


async def test_decline_needs_a_reason_and_drop_out_is_reported_with_one(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    app = build(settings)
    async with running(app) as client, signed_in(app, A_STAFF.subject) as a:
        await create_partners(client, tokens("admin"))
        declined, dropped = (
            referral_requested("integrationskurs", A_STAFF.partner_id, **CONTACT) for _ in "12"
        )
        await produce(settings.kafka_bootstrap_servers, encode(declined), encode(dropped))
        await eventually(lambda: sent_to(a, declined.referral_id), what="the first in A's inbox")
        await eventually(lambda: sent_to(a, dropped.referral_id), what="the second in A's inbox")

        no_reason = await answer(a, declined.referral_id, "decline")
        assert (
            no_reason.status_code == 422 and "Bitte einen Grund für die Ablehnung wählen." in no_reason.text
        )
        assert (await answer(a, declined.referral_id, "decline", reason="no_capacity")).status_code == 303
        page = (await a.get(f"/inbox/{declined.referral_id}?lang=en")).text  # English from now on
        assert "declined" in page and "No capacity" in page

        assert (await answer(a, dropped.referral_id, "accept")).status_code == 303
        assert (await answer(a, dropped.referral_id, "drop", reason="no_show")).status_code == 303
        # A step the lifecycle no longer allows (the page was open in another tab): 409 with the reason.
        late = await forged_answer(a, "complete")
        refused = await a.post(f"/inbox/{dropped.referral_id}/answer", data=late)
        assert refused.status_code == 409 and "A referral that is dropped cannot complete." in refused.text

        only_dropped = (await a.get("/inbox?state=dropped")).text
        assert str(dropped.referral_id) in only_dropped and str(declined.referral_id) not in only_dropped
        status = await read_all(
            settings.kafka_bootstrap_servers,
            topics.REFERRAL_STATUS.name,
            expected=3,
            where=lambda r: header(r, "ce_subject") == str(dropped.referral_id),
        )
    assert header(status[-1], "ce_type") == events.ReferralDropped.ce_type()


async def test_a_due_reminder_is_shown_to_its_partner_only(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    clock = FakeClock(dt.datetime.now(dt.UTC))
    app = build(settings, clock=clock)
    async with (
        running(app) as client,
        signed_in(app, A_STAFF.subject) as a,
        signed_in(app, B_STAFF.subject) as b,
    ):
        await create_partners(client, tokens("admin"))
        request = referral_requested("integrationskurs", A_STAFF.partner_id, **CONTACT)
        await produce(settings.kafka_bootstrap_servers, encode(request))
        await eventually(lambda: sent_to(a, request.referral_id), what="the referral in A's inbox")
        assert "Keine Erinnerung fällig." in (await a.get("/inbox")).text

        clock.advance(dt.timedelta(days=6))  # past the reminder (3 working days), before the expiry (10)

        async def reminded() -> bool:
            page = (await a.get("/inbox")).text
            due = page.split('id="due-title"')[1].split("</section>")[0]
            return str(request.referral_id) in due

        await eventually(reminded, what="the due reminder in A's inbox")
        completed_only = (await a.get("/inbox?state=completed")).text  # the reminders stay on top
        assert str(request.referral_id) in completed_only.split('id="due-title"')[1].split("</section>")[0]
        detail = (await a.get(f"/inbox/{request.referral_id}")).text
        assert "Erinnerung: Bitte antworten Sie bis" in detail
        assert "Keine Erinnerung fällig." in (await b.get("/inbox")).text
