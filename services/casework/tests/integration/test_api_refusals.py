"""Inputs that once escaped as 500s answer as problem+json: a goal ending before it starts (422) and a
consultation sent twice (the same one again: 201 and one row; another one under its id: 409)."""

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from wegweiser.casework.app import build
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import devtokens
from wegweiser.common.http import PROBLEM_JSON
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

TODAY = dt.date.today()
STUTTGART = "08111000"


def bearer(dev_keys: Path) -> dict[str, str]:
    token = devtokens.mint(
        subject="s-mueller",
        roles=["counsellor"],
        key_dir=dev_keys,
        provider_id="kreis-08111",
        ags=[STUTTGART],
    )
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


async def walk_in(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    opened = await client.post(
        "/v1/cases",
        headers=headers,
        json={
            "ags": STUTTGART,
            "opened_on": TODAY.isoformat(),
            "persons": [{"family_name": "Haddad", "given_names": "Rania"}],
        },
    )
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    return case_id


async def test_a_goal_whose_target_date_lies_before_its_start_is_a_422_naming_the_field(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys)
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        case_id = await walk_in(client, headers)
        response = await client.post(
            f"/v1/cases/{case_id}/goals",
            headers=headers,
            json={
                "handlungsfeld": "wohnen",
                "description": "Wohnung suchen",
                "set_on": TODAY.isoformat(),
                "target_date": (TODAY - dt.timedelta(days=1)).isoformat(),
            },
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        (error,) = response.json()["errors"]
        assert error["field"] == "target_date"
        assert error["message"] == "The target date lies before the agreement."
        goals = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()["goals"]
        assert goals == []


async def test_a_consultation_sent_twice_is_recorded_once_and_its_id_not_reused(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys)
    body = {
        "consultation_id": str(uuid.uuid4()),
        "held_on": TODAY.isoformat(),
        "duration_minutes": 20,
        "type": "kurzberatung",
        "channel": "telefon",
    }
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        case_id = await walk_in(client, headers)
        path = f"/v1/cases/{case_id}/consultations"
        first = await client.post(path, headers=headers, json=body)
        again = await client.post(path, headers=headers, json=body)
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json() == first.json()
        detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
        assert [c["consultation_id"] for c in detail["consultations"]] == [body["consultation_id"]]

        changed = await client.post(path, headers=headers, json={**body, "duration_minutes": 45})
        elsewhere = await client.post(
            f"/v1/cases/{await walk_in(client, headers)}/consultations", headers=headers, json=body
        )
        for refused in (changed, elsewhere):
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"].startswith(PROBLEM_JSON)
            assert refused.json()["code"] == "consultation_id_taken"
