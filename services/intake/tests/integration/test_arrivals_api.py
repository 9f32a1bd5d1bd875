"""Intake on real PostgreSQL and Kafka: arrivals are stored once and their events leave through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from wegweiser.common import devtokens, events, topics
from wegweiser.common.db import create_engine
from wegweiser.common.telemetry import configure_telemetry
from wegweiser.common.testing.apps import running
from wegweiser.common.testing.kafka import header, opened, read_all
from wegweiser.intake.app import build
from wegweiser.intake.handlers import IntakeUnitOfWork
from wegweiser.intake.settings import IntakeSettings

pytestmark = pytest.mark.integration

Settings = Callable[..., IntakeSettings]


def ref() -> str:
    return f"R-{uuid.uuid4().hex[:10]}"


async def events_of(
    bootstrap: str, topic: str, arrival_id: str, expected: int, settings: IntakeSettings
) -> list[tuple[Any, events.Event]]:
    """The arrival's records on ``topic``, opened with intake's own keys (persons travel sealed)."""
    records = await read_all(
        bootstrap, topic, expected=expected, where=lambda r: header(r, "ce_subject") == arrival_id
    )
    engine = create_engine(settings.database_url)
    try:
        unit_of_work = partial(IntakeUnitOfWork, async_sessionmaker(engine))
        return [(r, await opened(r, unit_of_work)) for r in records]
    finally:
        await engine.dispose()


async def test_registration_is_stored_idempotent_and_published(
    intake_settings: Settings, household: Any, authority: Any, service_env: dict[str, Any]
) -> None:
    configure_telemetry("intake-tests")  # traces are what puts traceparent on the records
    reference = ref()
    async with running(build(intake_settings())) as client:
        first = await client.post("/v1/arrivals", json=household(reference), headers=authority())
        again = await client.post("/v1/arrivals", json=household(reference), headers=authority())
        assert first.status_code == 201, first.text
        assert again.status_code == 200
        arrival_id = first.json()["arrival_id"]
        assert first.headers["location"] == f"/v1/arrivals/{arrival_id}"
        assert again.json()["arrival_id"] == arrival_id
        status = (await client.get(f"/v1/arrivals/{arrival_id}", headers=authority())).json()
        assert status["status"] == "registered" and status["household_size"] == 2
        assert status["persons"][0]["family_name_latin"] == "Haddad"
        found = await client.get(f"/v1/arrivals?authority_reference={reference}", headers=authority())
        assert [a["arrival_id"] for a in found.json()] == [arrival_id]
        foreign = await client.get(
            f"/v1/arrivals/{arrival_id}", headers=authority("uab-08115", ("08115003",))
        )
        assert foreign.status_code == 404

        bootstrap = service_env["kafka_bootstrap_servers"]
        personal = await events_of(bootstrap, topics.ARRIVALS.name, arrival_id, 1, intake_settings())
        facts = await events_of(bootstrap, topics.INTAKE_FACTS.name, arrival_id, 1, intake_settings())
    record, registered = personal[0]
    assert record.key == b"08111000" and header(record, "traceparent")
    assert b"Haddad" not in record.value and b'"sealed"' in record.value  # names travel sealed
    assert isinstance(registered, events.ArrivalRegistered) and registered.persons[0].family_name == "Haddad"
    fact_record, fact = facts[0]
    assert isinstance(fact, events.ArrivalRegisteredFact) and fact.household_size == 2
    assert b"Haddad" not in fact_record.value and b"1988" not in fact_record.value


@pytest.mark.parametrize(
    ("overrides", "status", "fields"),
    [
        ({"ags": "99999999"}, 422, {"ags"}),
        ({"ags": "08115003"}, 403, set()),
        ({"allocation_date": "2999-01-01"}, 422, {"allocation_date"}),
        (
            {
                "persons": [
                    {"role": "head", "family_name": "", "given_names": "X", "date_of_birth": "1990-02-30"}
                ]
            },
            422,
            {"persons.0.family_name", "persons.0.date_of_birth"},
        ),
        (
            {"persons": [{"role": "head", "family_name": "حداد", "given_names": "رانيا"}]},
            422,
            {"persons.0.family_name_latin"},
        ),
        # A NUL is refused for every route before validation (common.request_limits), without a field.
        ({"persons": [{"role": "head", "family_name": "A\x00B", "given_names": "X"}]}, 422, set()),
        ({"allocation_date": "gestern", "persons": "nobody"}, 422, {"allocation_date", "persons"}),
    ],
)
async def test_bad_input_is_a_problem_naming_each_field(
    intake_settings: Settings,
    household: Any,
    authority: Any,
    overrides: dict[str, object],
    status: int,
    fields: set[str],
) -> None:
    async with running(build(intake_settings())) as client:
        response = await client.post(
            "/v1/arrivals", json=household("R-bad", **overrides), headers=authority()
        )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json().get("errors", [])} == fields


async def test_messages_are_german_unless_english_is_asked_for(
    intake_settings: Settings, household: Any, authority: Any
) -> None:
    body = household("R-lang", allocation_date="2999-01-01")
    async with running(build(intake_settings())) as client:
        german = (await client.post("/v1/arrivals", json=body, headers=authority())).json()
        english = (
            await client.post("/v1/arrivals", json=body, headers=authority(**{"Accept-Language": "en"}))
        ).json()
    assert german["errors"][0]["message"] == "Das Zuweisungsdatum liegt in der Zukunft."
    assert english["errors"][0]["message"] == "The allocation date lies in the future."


async def test_requests_without_a_valid_token_are_refused(
    intake_settings: Settings, household: Any, dev_keys: Path, tmp_path: Path
) -> None:
    foreign = devtokens.mint(subject="x", roles=["reception_authority"], key_dir=tmp_path, ags=["08111000"])
    counsellor = devtokens.mint(subject="c", roles=["counsellor"], key_dir=dev_keys, ags=["08111000"])
    async with running(build(intake_settings())) as client:
        for headers, expected in [
            ({}, 401),
            ({"Authorization": "Bearer garbage"}, 401),
            ({"Authorization": f"Bearer {foreign}"}, 401),
            ({"Authorization": f"Bearer {counsellor}"}, 403),
        ]:
            response = await client.post("/v1/arrivals", json=household("R-x"), headers=headers)
            assert response.status_code == expected, (headers, response.text)
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_batch_answers_per_item_and_commits_the_valid_ones(
    intake_settings: Settings, household: Any, authority: Any
) -> None:
    known = ref()
    items = [
        household(ref()),
        household(known),
        household(ref(), ags="99999999"),
        household(ref(), ags="08115003"),
        {"authority_reference": 7},
        household(known),
    ]
    async with running(build(intake_settings())) as client:
        before = await client.post("/v1/arrivals", json=household(known), headers=authority())
        response = await client.post("/v1/arrivals/batch", json={"arrivals": items}, headers=authority())
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["created"], body["existing"], body["rejected"]) == (1, 2, 3)
        statuses = [r["status"] for r in body["results"]]
        assert statuses == [201, 200, 422, 403, 422, 200]
        assert (
            body["results"][1]["arrival_id"]
            == before.json()["arrival_id"]
            == body["results"][5]["arrival_id"]
        )
        assert body["results"][2]["errors"][0]["field"] == "arrivals.2.ags"
        assert {e["field"] for e in body["results"][4]["errors"]} >= {
            "arrivals.4.authority_reference",
            "arrivals.4.ags",
        }
        created = body["results"][0]["arrival_id"]
        assert (await client.get(f"/v1/arrivals/{created}", headers=authority())).status_code == 200

        refused = await client.post(
            "/v1/arrivals/batch", json={"arrivals": [household("R-f", ags="99999999")]}, headers=authority()
        )
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        assert [(e["index"], e["field"]) for e in refused.json()["errors"]] == [(0, "arrivals.0.ags")]

        too_many = await client.post(
            "/v1/arrivals/batch",
            json={"arrivals": [household(f"R-{i}") for i in range(1001)]},
            headers=authority(),
        )
        assert too_many.status_code == 413 and "1001" in too_many.json()["detail"]


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    intake_settings: Settings, household: Any, authority: Any
) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    async with running(build(intake_settings())) as client:
        first = await client.post("/v1/arrivals", json=household("R-i1"), headers=authority(**key))
        replay = await client.post("/v1/arrivals", json=household("R-i1"), headers=authority(**key))
        other = await client.post("/v1/arrivals", json=household("R-i2"), headers=authority(**key))
        batch_key = {"Idempotency-Key": uuid.uuid4().hex}
        batch = {"arrivals": [household("R-b1"), household("R-b2")]}
        b1 = await client.post("/v1/arrivals/batch", json=batch, headers=authority(**batch_key))
        b2 = await client.post("/v1/arrivals/batch", json=batch, headers=authority(**batch_key))
    assert first.status_code == 201 and replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["arrival_id"] == first.json()["arrival_id"]
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert b1.json() == b2.json() and b1.json()["created"] == 2


async def test_quota_per_authority_and_per_municipality_answers_429_with_retry_after(
    intake_settings: Settings, household: Any, authority: Any
) -> None:
    settings = intake_settings(
        quota_authority_burst=3, quota_authority_per_s=0.01, quota_ags_burst=2, quota_ags_per_s=0.01
    )
    both = authority(ags=("08111000", "08115003"))
    async with running(build(settings)) as client:
        ok = [await client.post("/v1/arrivals", json=household(ref()), headers=both) for _ in range(2)]
        by_ags = await client.post("/v1/arrivals", json=household(ref()), headers=both)
        other_ags = await client.post("/v1/arrivals", json=household(ref(), ags="08115003"), headers=both)
        by_authority = await client.post("/v1/arrivals", json=household(ref(), ags="08115003"), headers=both)
        other_authority = await client.post(
            "/v1/arrivals",
            json=household(ref(), ags="08115003"),
            headers=authority("uab-08115", ("08115003",)),
        )
    assert [r.status_code for r in ok] == [201, 201]
    assert by_ags.status_code == 429 and int(by_ags.headers["retry-after"]) >= 1
    assert "08111000" in by_ags.json()["detail"]
    assert other_ags.status_code == 201
    assert by_authority.status_code == 429 and "uab-08111" in by_authority.json()["detail"]
    assert other_authority.status_code == 201, "one authority's flood must not starve another"


async def test_correct_relocate_withdraw_each_publish_and_show_in_the_status(
    intake_settings: Settings, household: Any, authority: Any, service_env: dict[str, Any]
) -> None:
    both = authority(ags=("08111000", "08115003"))
    async with running(build(intake_settings())) as client:
        created = (await client.post("/v1/arrivals", json=household(ref()), headers=both)).json()
        arrival_id = created["arrival_id"]
        head, child = created["persons"]
        corrected = await client.patch(
            f"/v1/arrivals/{arrival_id}",
            json={
                "facility": "LEA Sigmaringen",
                "persons": [
                    {
                        **{
                            k: v
                            for k, v in head.items()
                            if k not in ("family_name_latin", "given_names_latin")
                        }
                    },
                    {
                        "role": "partner",
                        "family_name": "Haddad",
                        "given_names": "Sami",
                        "date_of_birth": "1985",
                    },
                ],
            },
            headers=both,
        )
        assert corrected.status_code == 200, corrected.text
        assert corrected.json()["status"] == "corrected"
        assert corrected.json()["corrected_fields"] == ["facility", "persons"]
        assert corrected.json()["persons"][0]["person_id"] == head["person_id"]
        assert child["person_id"] not in {p["person_id"] for p in corrected.json()["persons"]}

        outside = await client.post(
            f"/v1/arrivals/{arrival_id}/relocation", json={"new_ags": "08116004"}, headers=both
        )
        assert outside.status_code == 403
        relocated = await client.post(
            f"/v1/arrivals/{arrival_id}/relocation", json={"new_ags": "08115003"}, headers=both
        )
        assert relocated.status_code == 200 and relocated.json()["ags"] == "08115003"
        withdrawn = await client.post(
            f"/v1/arrivals/{arrival_id}/withdrawal", json={"reason": "weitergezogen"}, headers=both
        )
        assert withdrawn.json()["status"] == "withdrawn"
        again = await client.post(f"/v1/arrivals/{arrival_id}/withdrawal", json={}, headers=both)
        assert again.status_code == 409
        stale = await client.patch(f"/v1/arrivals/{arrival_id}", json={"facility": "X"}, headers=both)
        assert stale.status_code == 409

        bootstrap = service_env["kafka_bootstrap_servers"]
        personal = await events_of(bootstrap, topics.ARRIVALS.name, arrival_id, 4, intake_settings())
        facts = await events_of(bootstrap, topics.INTAKE_FACTS.name, arrival_id, 4, intake_settings())
    kinds = [(type(e).__name__, r.key) for r, e in personal]
    # In order per key; the withdrawal travels under the new AGS (another partition), after the move.
    assert [k for k in kinds if k[1] == b"08111000"] == [
        ("ArrivalRegistered", b"08111000"),
        ("ArrivalCorrected", b"08111000"),
        ("ArrivalRelocated", b"08111000"),
    ]
    assert [k for k in kinds if k[1] == b"08115003"] == [("ArrivalWithdrawn", b"08115003")]
    assert sorted(type(e).__name__ for _, e in facts) == [
        "ArrivalCorrectedFact",
        "ArrivalRegisteredFact",
        "ArrivalRelocatedFact",
        "ArrivalWithdrawnFact",
    ]
    relocated_event = next(e for _, e in personal if isinstance(e, events.ArrivalRelocated))
    assert isinstance(relocated_event, events.ArrivalRelocated) and relocated_event.new_ags == "08115003"


async def test_probable_duplicates_are_flagged_and_merged_only_by_a_reviewer(
    intake_settings: Settings, household: Any, authority: Any, service_env: dict[str, Any]
) -> None:
    other = authority("uab-08115", ("08115003",))
    mueller = {
        "role": "head",
        "family_name": "Müller",
        "given_names": "Jana Maria",
        "date_of_birth": "1990-04-17",
        "nationalities": ["UA"],
    }
    async with running(build(intake_settings())) as client:
        first = (
            await client.post("/v1/arrivals", json=household(ref(), persons=[mueller]), headers=authority())
        ).json()
        second = (
            await client.post(
                "/v1/arrivals",
                json=household(
                    ref(),
                    ags="08115003",
                    persons=[
                        {**mueller, "family_name": "MUELLER", "given_names": "Jana", "date_of_birth": "1990"}
                    ],
                ),
                headers=other,
            )
        ).json()
        assert len(second["duplicates"]) == 1 and first["duplicates"] == []
        flag_id = second["duplicates"][0]
        listed = (await client.get("/v1/duplicates", headers=other)).json()
        assert [f["flag_id"] for f in listed] == [flag_id]
        assert listed[0]["candidate_arrival_id"] == first["arrival_id"]
        assert (await client.get(f"/v1/arrivals/{second['arrival_id']}", headers=other)).json()["status"] == (
            "registered"
        ), "never merged automatically"

        not_theirs = await client.post(f"/v1/duplicates/{flag_id}/merge", headers=authority())
        assert not_theirs.status_code == 403
        merged = await client.post(
            f"/v1/duplicates/{flag_id}/merge", json={"note": "gleiche Person"}, headers=other
        )
        assert merged.status_code == 200, merged.text
        decision = merged.json()
        assert decision["flag"]["status"] == "merged" and decision["flag"]["decided_by"] == "sb-uab-08115"
        assert (
            decision["flag"]["decided_at"]
            and decision["merged_arrival"]["merged_into"] == first["arrival_id"]
        )
        status = (await client.get(f"/v1/arrivals/{second['arrival_id']}", headers=other)).json()
        assert status["status"] == "merged"
        twice = await client.post(f"/v1/duplicates/{flag_id}/dismissal", headers=other)
        assert twice.status_code == 409

        bootstrap = service_env["kafka_bootstrap_servers"]
        personal = await events_of(
            bootstrap, topics.ARRIVALS.name, second["arrival_id"], 3, intake_settings()
        )
    flagged = [e for _, e in personal if isinstance(e, events.DuplicateFlagged)]
    withdrawn = [e for _, e in personal if isinstance(e, events.ArrivalWithdrawn)]
    assert (
        flagged[0].candidate_arrival_id == uuid.UUID(first["arrival_id"])
        and str(flagged[0].flag_id) == flag_id
    )
    assert withdrawn[0].merged_into == uuid.UUID(first["arrival_id"]) and withdrawn[0].reason == "merged"


async def test_the_relay_can_run_as_a_process_of_its_own(
    intake_settings: Settings, household: Any, authority: Any, service_env: dict[str, Any]
) -> None:
    """INTAKE_OUTBOX_RELAY=false: the HTTP side only writes the outbox; ``run_relay`` (what
    ``python -m wegweiser.intake relay`` runs) publishes it, trace context and all."""
    configure_telemetry("intake-tests")
    settings = intake_settings(outbox_relay=False)
    batch = {"arrivals": [household(ref()), household(ref())]}
    async with running(build(settings)) as client:
        response = await client.post("/v1/arrivals/batch", json=batch, headers=authority())
        assert response.status_code == 200 and response.json()["created"] == 2, response.text
        arrival_id = response.json()["results"][0]["arrival_id"]  # the second is flagged: same people
    runtime = build(settings).state.runtime
    relay = asyncio.create_task(runtime.run_relay(poll_interval_s=0.05))
    try:
        bootstrap = service_env["kafka_bootstrap_servers"]
        ((record, registered),) = await events_of(
            bootstrap, topics.ARRIVALS.name, arrival_id, 1, intake_settings()
        )
        ((_, fact),) = await events_of(bootstrap, topics.INTAKE_FACTS.name, arrival_id, 1, intake_settings())
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
    assert header(record, "traceparent") and header(record, "ce_type") == registered.ce_type()
    assert isinstance(registered, events.ArrivalRegistered) and str(registered.arrival_id) == arrival_id
    assert isinstance(fact, events.ArrivalRegisteredFact) and fact.household_size == 2


async def test_the_relay_process_is_woken_by_the_commit_not_by_its_poll(
    intake_settings: Settings, household: Any, authority: Any, service_env: dict[str, Any]
) -> None:
    """On PostgreSQL the outbox's trigger notifies the relay when a transaction queued events: with an
    hour between its polls, an arrival registered by another process is still published at once."""
    settings = intake_settings(outbox_relay=False)
    runtime = build(settings).state.runtime
    relay = asyncio.create_task(runtime.run_relay(poll_interval_s=3600))
    try:
        for _ in range(200):
            if runtime.relay.is_leader:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # past its first look at the outbox: from here on it waits
        async with running(build(settings)) as client:
            response = await client.post(
                "/v1/arrivals/batch", json={"arrivals": [household(ref())]}, headers=authority()
            )
            assert response.status_code == 200, response.text
        arrival_id = response.json()["results"][0]["arrival_id"]
        bootstrap = service_env["kafka_bootstrap_servers"]
        ((_, registered),) = await events_of(
            bootstrap, topics.ARRIVALS.name, arrival_id, 1, intake_settings()
        )
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
    assert str(registered.arrival_id) == arrival_id  # type: ignore[attr-defined]


async def test_names_are_stored_in_nfc_and_invisible_characters_refused_in_german(
    intake_settings: Settings, household: Any, authority: Any
) -> None:
    async with running(build(intake_settings())) as client:
        body = household(ref())
        body["persons"][0]["family_name"] = "Ne\u0301meth"
        created = await client.post("/v1/arrivals", json=body, headers=authority())
        assert created.status_code == 201, created.text
        assert created.json()["persons"][0]["family_name"] == "Németh"

        body = household(ref())
        body["persons"][1]["given_names"] = "Omar\u202e"
        refused = await client.post("/v1/arrivals", json=body, headers=authority())
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        (error,) = refused.json()["errors"]
        assert error["field"] == "persons.1.given_names" and error["type"] == "invisible_character"
        assert error["message"].startswith("Unsichtbares Steuerzeichen U+202E")
        english = await client.post("/v1/arrivals", json=body, headers=authority(**{"Accept-Language": "en"}))
        assert english.json()["errors"][0]["message"].startswith("Invisible control character U+202E")

        batch = await client.post("/v1/arrivals/batch", json={"arrivals": [body]}, headers=authority())
        assert batch.status_code == 422
        assert batch.json()["errors"][0]["field"] == "arrivals.0.persons.1.given_names"
