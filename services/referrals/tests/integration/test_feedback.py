"""Partners answer over HTTP and over their feedback topic: idempotent, and only for their own referrals."""

import asyncio
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from wegweiser.common import events, topics
from wegweiser.common.envelope import encode
from wegweiser.common.events.referrals import partner_feedback_topic
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import header, produce, read_all
from wegweiser.referrals.app import build
from wegweiser.referrals.deps import context_of
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import read_to_end, referral_requested

pytestmark = pytest.mark.integration

Bearer = Callable[..., dict[str, str]]
EXAMPLE = Path(__file__).parents[2] / "examples" / "partner_consumer.py"
A, B = "it-partner-a", "it-partner-b"


async def create_partners(client: httpx.AsyncClient, admin: dict[str, str], *ids: str) -> None:
    for partner_id in ids:
        body = {"partner_id": partner_id, "organisation": f"Test {partner_id}", "programmes": ["mbe"],
                "kreise": ["08111"], "delivery": "kafka"}  # fmt: skip
        response = await client.post("/v1/admin/partners", json=body, headers=admin)
        assert response.status_code in (201, 409), response.text


async def state_of(client: httpx.AsyncClient, partner: dict[str, str], referral_id: uuid.UUID) -> str | None:
    response = await client.get(f"/v1/partner/referrals/{referral_id}", headers=partner)
    return response.json()["state"] if response.status_code == 200 else None


async def test_http_answers_are_idempotent_scoped_and_explained(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    partner_a, partner_b = tokens("partner", partner_id=A), tokens("partner", partner_id=B)
    async with running(build(settings)) as client:
        await create_partners(client, tokens("admin"), A, B)
        request = referral_requested("mbe", A)
        await produce(settings.kafka_bootstrap_servers, encode(request))
        await eventually(lambda: state_of(client, partner_a, request.referral_id), what="referral sent to A")
        url = f"/v1/partner/referrals/{request.referral_id}/feedback"

        # Partner isolation: B cannot see or answer A's referral, nor an unknown one.
        assert (await client.post(url, json={"outcome": "accepted"}, headers=partner_b)).status_code == 404
        assert (
            await client.get(f"/v1/partner/referrals/{request.referral_id}", headers=partner_b)
        ).status_code == 404
        unknown_url = f"/v1/partner/referrals/{uuid.uuid4()}/feedback"
        unknown = await client.post(unknown_url, json={"outcome": "accepted"}, headers=partner_a)
        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
        assert (
            await client.post(url, json={"outcome": "accepted"}, headers=tokens("counsellor"))
        ).status_code == 403

        # Bad input: a decline without reason names the field; an unknown outcome is a 422 too.
        no_reason = await client.post(url, json={"outcome": "declined"}, headers=partner_a)
        assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
        assert [e["field"] for e in no_reason.json()["errors"]] == ["reason"]
        assert (await client.post(url, json={"outcome": "vielleicht"}, headers=partner_a)).status_code == 422

        # Idempotent: the same answer twice (with or without a key) changes the referral once.
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = await client.post(url, json={"outcome": "accepted"}, headers={**partner_a, **key})
        again = await client.post(url, json={"outcome": "accepted"}, headers={**partner_a, **key})
        blind = await client.post(url, json={"outcome": "accepted"}, headers=partner_a)
        assert first.status_code == again.status_code == blind.status_code == 200
        assert (first.json()["changed"], again.json()["duplicate"], blind.json()["changed"]) == (
            True,
            True,
            False,
        )

        # A step the lifecycle forbids is a 409 with the reason, German first.
        finished = await client.post(
            url, json={"outcome": "declined", "reason": "no_capacity"}, headers=partner_a
        )
        assert finished.status_code == 409 and "angenommen" in finished.json()["detail"]
        english = await client.post(url, json={"outcome": "declined", "reason": "no_capacity"},
                                    headers={**partner_a, "Accept-Language": "en"})  # fmt: skip
        assert english.json()["detail"] == "A referral that is accepted cannot decline."
        started = await client.post(url, json={"outcome": "started"}, headers=partner_a)
        assert started.json()["state"] == "started"
        listed = await client.get("/v1/partner/referrals?state=started", headers=partner_a)
        assert str(request.referral_id) in [r["referral_id"] for r in listed.json()]
        assert "Haddad" not in listed.text

        accepted = await read_all(
            settings.kafka_bootstrap_servers,
            topics.REFERRAL_STATUS.name,
            expected=3,
            where=lambda r: header(r, "ce_subject") == str(request.referral_id),
        )
    assert sorted(header(r, "ce_type") or "" for r in accepted) == sorted(
        [events.ReferralSent.ce_type(), events.ReferralAccepted.ce_type(), events.ReferralStarted.ce_type()]
    )


async def test_any_idempotency_key_is_taken_as_intake_takes_it(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    """Issue 14: the partner API took only a UUID as ``Idempotency-Key``; intake and casework take any
    1 to 200 printable characters. A repeat with the same key changes the referral once."""
    partner_a = tokens("partner", partner_id=A)
    async with running(build(settings)) as client:
        await create_partners(client, tokens("admin"), A)
        request = referral_requested("mbe", A)
        await produce(settings.kafka_bootstrap_servers, encode(request))
        await eventually(lambda: state_of(client, partner_a, request.referral_id), what="referral sent to A")
        url = f"/v1/partner/referrals/{request.referral_id}/feedback"

        too_long = await client.post(
            url, json={"outcome": "accepted"}, headers={**partner_a, "Idempotency-Key": "x" * 201}
        )
        assert too_long.status_code == 422, too_long.text
        assert too_long.json()["errors"][0]["field"] == "Idempotency-Key"
        assert "Zeichen" in too_long.json()["detail"]

        keyed = {**partner_a, "Idempotency-Key": "annahme-klick-1"}
        first, again = [await client.post(url, json={"outcome": "accepted"}, headers=keyed) for _ in range(2)]
        assert (first.status_code, again.status_code) == (200, 200), again.text
        assert (first.json()["changed"], again.json()["duplicate"]) == (True, True)
        assert await state_of(client, partner_a, request.referral_id) == "accepted"

        # One name for the status (issue 14): ``status``, with the deprecated ``state`` still answered.
        assert first.json()["status"] == first.json()["state"] == "accepted"
        for query in ("status", "state"):
            listed = await client.get(f"/v1/partner/referrals?{query}=accepted", headers=partner_a)
            mine = [
                (r["status"], r["state"])
                for r in listed.json()
                if r["referral_id"] == str(request.referral_id)
            ]
            assert mine == [("accepted", "accepted")]
        waiting = (await client.get("/v1/partner/referrals?status=sent", headers=partner_a)).json()
        assert str(request.referral_id) not in [r["referral_id"] for r in waiting]


async def test_the_example_partner_answers_over_kafka_once_and_only_for_itself(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    bootstrap = settings.kafka_bootstrap_servers
    partner_a = tokens("partner", partner_id=A)
    app = build(settings)
    async with running(app) as client:
        await create_partners(client, tokens("admin"), A, B)
        await eventually(_feedback_consumer_ready(app, {A, B}), what="feedback consumer on A and B")
        example = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLE),
            "--bootstrap-servers",
            bootstrap,
            "--partner",
            A,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            request = referral_requested("mbe", A)
            await produce(bootstrap, encode(request))
            await eventually(
                lambda: _is(state_of(client, partner_a, request.referral_id), "accepted"),
                timeout_s=60,
                what="the example partner accepted",
            )
        finally:
            example.terminate()
            stdout, _ = await asyncio.wait_for(example.communicate(), 30)
        output = stdout.decode()
        assert f"answered {request.referral_id}: accepted" in output
        person_url = f"/v1/partner/referrals/{request.referral_id}/person"
        assert f"person at {person_url}" in output  # the topic names where the person is, not who
        person = (await client.get(person_url, headers=partner_a)).json()["person"]
        assert sorted(k for k, v in person.items() if v is not None) == ["family_name", "given_names"]

        # The same answer again, as a redelivery (same ce_id) and as a resend (new ce_id, same feedback_id).
        feedback = events.PartnerFeedback(ags="08111000", referral_id=request.referral_id,
                                          feedback_id=uuid.uuid4(), outcome="started")  # fmt: skip
        record = encode(feedback)
        record_a = _to(record, partner_feedback_topic(A).name)
        resend = _to(encode(feedback), partner_feedback_topic(A).name)
        # B writes an answer for A's referral on its own topic: refused, A's referral untouched.
        foreign = _to(encode(feedback.model_copy(update={"outcome": "dropped", "feedback_id": uuid.uuid4()})),
                      partner_feedback_topic(B).name)  # fmt: skip
        await produce(bootstrap, record_a, record_a, resend, foreign)
        await eventually(
            lambda: _is(state_of(client, partner_a, request.referral_id), "started"), what="started"
        )
        rejected = await read_all(
            bootstrap,
            f"wegweiser.partner.{B}.referrals.v1",
            expected=1,
            where=lambda r: header(r, "ce_subject") == str(request.referral_id),
        )
        statuses = await read_all(
            bootstrap,
            topics.REFERRAL_STATUS.name,
            expected=3,
            where=lambda r: header(r, "ce_subject") == str(request.referral_id),
        )
        await asyncio.sleep(1)  # room for a wrong extra event to appear before counting exactly
        again = await read_to_end(
            bootstrap,
            topics.REFERRAL_STATUS.name,
            where=lambda r: header(r, "ce_subject") == str(request.referral_id),
        )
        assert await state_of(client, partner_a, request.referral_id) == "started"
    assert header(rejected[0], "ce_type") == events.PartnerFeedbackRejected.ce_type()
    assert b"unknown_referral" in rejected[0].value and b"Haddad" not in rejected[0].value
    assert [header(r, "ce_type") for r in statuses] == [
        events.ReferralSent.ce_type(),
        events.ReferralAccepted.ce_type(),
        events.ReferralStarted.ce_type(),
    ]
    assert len(again) == 3


def _to(record: Any, topic: str) -> Any:
    import dataclasses

    return dataclasses.replace(record, topic=topic)


async def _is(coro: Any, expected: str) -> bool:
    return bool(await coro == expected)


def _feedback_consumer_ready(app: FastAPI, partners: set[str]) -> Callable[[], Any]:
    async def check() -> bool:
        feedback = context_of(app).feedback
        return bool(partners <= feedback.partners and feedback.ready)

    return check


async def test_a_state_filter_that_is_no_state_is_refused_not_sent_to_the_database(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    # Found by the API fuzz run: a NUL byte in ``state`` reached PostgreSQL and came back as a 500.
    partner = tokens("partner", partner_id=A)
    async with running(build(settings)) as client:
        refused = await client.get("/v1/partner/referrals", params={"state": "sent\x00"}, headers=partner)
        listed = await client.get("/v1/partner/referrals", params={"state": "sent"}, headers=partner)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert listed.status_code == 200
