"""Intake on real PostgreSQL and Kafka: the API stores an arrival and its events leave through the outbox."""

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from wegweiser.common import devtokens, events, topics
from wegweiser.common.envelope import decode
from wegweiser.common.testing.apps import running
from wegweiser.common.testing.kafka import header, read_all
from wegweiser.intake.app import build
from wegweiser.intake.settings import IntakeSettings

pytestmark = pytest.mark.integration


def authority(dev_keys: Path, ags: str = "08111000") -> dict[str, str]:
    token = devtokens.mint(
        subject="uab", roles=["reception_authority"], key_dir=dev_keys, authority_id="uab-08111", ags=[ags]
    )
    return {"Authorization": f"Bearer {token}"}


def body(reference: str, **overrides: object) -> dict[str, object]:
    return {
        "authority_reference": reference,
        "ags": "08111000",
        "allocation_date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "persons": [
            {
                "role": "head",
                "family_name": "Haddad",
                "given_names": "Rania",
                "date_of_birth": "1988-03",
                "nationalities": ["SY"],
            },
            {"role": "child", "family_name": "Haddad", "given_names": "Omar", "date_of_birth": "2016"},
        ],
        **overrides,
    }


async def test_registration_is_stored_idempotent_and_published(
    service_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    app = build(IntakeSettings(database_url=database_url, **service_env))
    reference = f"R-{uuid.uuid4().hex[:8]}"
    async with running(app) as client:
        first = await client.post("/v1/arrivals", json=body(reference), headers=authority(dev_keys))
        again = await client.post("/v1/arrivals", json=body(reference), headers=authority(dev_keys))
        assert first.status_code == 201, first.text
        assert again.status_code == 200
        arrival_id = first.json()["arrival_id"]
        assert again.json()["arrival_id"] == arrival_id
        status = await client.get(f"/v1/arrivals/{arrival_id}", headers=authority(dev_keys))
        assert status.json()["status"] == "registered"

        personal = await read_all(
            kafka_bootstrap := service_env["kafka_bootstrap_servers"],
            topics.ARRIVALS.name,
            expected=1,
            where=lambda r: header(r, "ce_subject") == arrival_id,
        )
        facts = await read_all(
            kafka_bootstrap,
            topics.INTAKE_FACTS.name,
            expected=1,
            where=lambda r: header(r, "ce_subject") == arrival_id,
        )
    assert personal[0].key == b"08111000"
    assert header(personal[0], "traceparent")
    _, registered = decode(personal[0].headers, personal[0].value)
    assert isinstance(registered, events.ArrivalRegistered) and registered.persons[0].family_name == "Haddad"
    assert b"Haddad" not in facts[0].value and b"1988" not in facts[0].value


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
        ({"allocation_date": "gestern", "persons": "nobody"}, 422, {"allocation_date", "persons"}),
    ],
)
async def test_bad_input_is_a_problem_naming_each_field(
    service_env: dict[str, Any],
    database_url: str,
    dev_keys: Path,
    overrides: dict[str, object],
    status: int,
    fields: set[str],
) -> None:
    async with running(build(IntakeSettings(database_url=database_url, **service_env))) as client:
        response = await client.post(
            "/v1/arrivals", json=body("R-bad", **overrides), headers=authority(dev_keys)
        )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json().get("errors", [])} == fields


async def test_requests_without_a_valid_token_are_refused(
    service_env: dict[str, Any], database_url: str, dev_keys: Path, tmp_path: Path
) -> None:
    foreign = devtokens.mint(subject="x", roles=["reception_authority"], key_dir=tmp_path, ags=["08111000"])
    counsellor = devtokens.mint(subject="c", roles=["counsellor"], key_dir=dev_keys, ags=["08111000"])
    async with running(build(IntakeSettings(database_url=database_url, **service_env))) as client:
        for headers, expected in [
            ({}, 401),
            ({"Authorization": "Bearer garbage"}, 401),
            ({"Authorization": f"Bearer {foreign}"}, 401),
            ({"Authorization": f"Bearer {counsellor}"}, 403),
        ]:
            response = await client.post("/v1/arrivals", json=body("R-x"), headers=headers)
            assert response.status_code == expected, (headers, response.text)
            assert response.headers["content-type"] == "application/problem+json"
