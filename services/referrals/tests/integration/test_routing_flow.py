"""Referrals on real PostgreSQL and Kafka: requests are routed, refused with reasons, delivered to topics."""

import json
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest

from wegweiser.common import events, topics
from wegweiser.common.envelope import decode, encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import header, produce, read_all
from wegweiser.referrals.app import build
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import CONTACT, referral_requested

pytestmark = pytest.mark.integration

Bearer = Callable[..., dict[str, str]]
KAFKA_PARTNER = "it-vhs-a"


def partner_body(partner_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "organisation": f"Integration test {partner_id}",
        "programmes": ["integrationskurs", "psychosozial"],
        "kreise": ["08111"],
        "delivery": "kafka",
        **overrides,
    }


async def referral_state(client: httpx.AsyncClient, headers: dict[str, str], referral_id: uuid.UUID) -> Any:
    response = await client.get(f"/v1/referrals/{referral_id}", headers=headers)
    return response.json() if response.status_code == 200 else None


async def test_requests_are_routed_or_refused_and_partners_get_only_the_minimum(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    bootstrap = settings.kafka_bootstrap_servers
    admin = tokens("admin")
    counsellor = tokens("counsellor", provider_id="kreis-08111", ags=["08111000"])
    async with running(build(settings)) as client:
        created = await client.post("/v1/admin/partners", json=partner_body(KAFKA_PARTNER), headers=admin)
        assert created.status_code in (201, 409), created.text
        routed = referral_requested(**CONTACT)
        refused = referral_requested(consent_programme="mbe", **CONTACT)
        chosen_elsewhere = referral_requested(
            partner_id=KAFKA_PARTNER, consent_partner="someone-else", **CONTACT
        )
        psych = referral_requested("psychosozial", **CONTACT)
        await produce(bootstrap, *(encode(e) for e in (routed, refused, chosen_elsewhere, psych)))

        sent = await eventually(lambda: referral_state(client, counsellor, routed.referral_id), what="routed")
        assert sent["partner_id"] == KAFKA_PARTNER
        for event, reason in (
            (refused, "consent_programme_mismatch"),
            (chosen_elsewhere, "consent_partner_mismatch"),
        ):
            state = await eventually(
                partial(referral_state, client, counsellor, event.referral_id), what="refused"
            )
            assert state["state"] == "unroutable" and state["reason"] == reason
            assert state["reason_text"].startswith("Die Einwilligung")
        english = await client.get(
            f"/v1/referrals/{refused.referral_id}", headers={**counsellor, "Accept-Language": "en"}
        )
        assert english.json()["reason_text"] == "The consent does not cover this programme."
        foreign = tokens("counsellor", provider_id="diakonie-s", ags=["08111000"])
        assert (await client.get(f"/v1/referrals/{routed.referral_id}", headers=foreign)).status_code == 404

        offers = await read_all(
            bootstrap,
            f"wegweiser.partner.{KAFKA_PARTNER}.referrals.v1",
            expected=2,
            where=lambda r: header(r, "ce_subject") in {str(routed.referral_id), str(psych.referral_id)},
        )
        statuses = await read_all(
            bootstrap,
            topics.REFERRAL_STATUS.name,
            expected=4,
            where=lambda r: (
                header(r, "ce_subject")
                in {str(e.referral_id) for e in (routed, refused, chosen_elsewhere, psych)}
            ),
        )
        # The topic names the referral (a claim check); the partner API answers the minimum dataset.
        partner = tokens("partner", partner_id=KAFKA_PARTNER)
        persons = {
            str(e.referral_id): (
                await client.get(f"/v1/partner/referrals/{e.referral_id}/person", headers=partner)
            ).json()["person"]
            for e in (routed, psych)
        }
    course_person = {k: v for k, v in persons[str(routed.referral_id)].items() if v is not None}
    assert course_person == {"family_name": "Haddad", "given_names": "Rania", "date_of_birth": "1988-03",
                             "languages": ["ar"], "phone": "0711 1"}  # fmt: skip
    psych_person = {k: v for k, v in persons[str(psych.referral_id)].items() if v is not None}
    assert psych_person == {"given_names": "Rania", "phone": "0711 1"}
    for record in offers:
        assert record.key == b"08111000" and b"pppp" not in record.value and b"case_id" not in record.value
        assert b"Haddad" not in record.value and b"0711" not in record.value
        assert json.loads(record.value)["person_url"].endswith(f"{header(record, 'ce_subject')}/person")
    types = sorted(header(r, "ce_type") or "" for r in statuses)
    assert types.count(events.ReferralSent.ce_type()) == 2
    assert types.count(events.ReferralUnroutable.ce_type()) == 2
    for record in statuses:
        _, status = decode(record.headers, record.value)
        assert b"Haddad" not in record.value and record.key == b"08111000"
        assert status.subject() == header(record, "ce_subject")
