"""The subject access export (GDPR Art. 15) from intake: the person's arrival, no one else's data."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wegweiser.common import devtokens
from wegweiser.common.testing.apps import running
from wegweiser.intake.app import build
from wegweiser.intake.settings import IntakeSettings

pytestmark = pytest.mark.integration


def admin(dev_keys: Path) -> dict[str, str]:
    token = devtokens.mint(subject="dev-admin", roles=["admin"], key_dir=dev_keys)
    return {"Authorization": f"Bearer {token}"}


async def test_export_holds_the_persons_arrival_and_no_one_elses(
    intake_settings: Callable[..., IntakeSettings], household: Any, authority: Any, dev_keys: Path
) -> None:
    async with running(build(intake_settings())) as client:
        first = await client.post(
            "/v1/arrivals", json=household(f"R-{uuid.uuid4().hex[:10]}"), headers=authority()
        )
        assert first.status_code == 201, first.text
        arrival_id = first.json()["arrival_id"]
        me, other = first.json()["persons"][0], first.json()["persons"][1]
        path = f"/v1/admin/persons/{me['person_id']}/export"
        refused = await client.get(path, headers=authority())
        answer = await client.get(path, headers=admin(dev_keys))
        english = await client.get(path, headers={**admin(dev_keys), "Accept-Language": "en"})
        unknown = await client.get(f"/v1/admin/persons/{uuid.uuid4()}/export", headers=admin(dev_keys))

    assert refused.status_code == 403
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert (doc["schema"], doc["service"], doc["person_id"]) == (
        "wegweiser.subject-access.v1",
        "intake",
        me["person_id"],
    )
    [arrival] = doc["sections"]["Ankünfte (Zuweisungen)"]
    assert arrival["arrival_id"] == arrival_id and arrival["household_size"] == 2
    assert arrival["person"] == me
    assert other["person_id"] not in answer.text and other["given_names"] not in answer.text
    assert list(english.json()["sections"]) == ["Arrivals (allocations)"]
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
