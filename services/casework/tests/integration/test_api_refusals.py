"""Inputs that once escaped as 500s answer as problem+json: a goal ending before it starts (422) and a
consultation sent twice (the same one again: 201 and one row; another one under its id: 409)."""

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from wegweiser.casework.app import build
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import bearer, open_case, walk_in
from wegweiser.common.http import PROBLEM_JSON
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

TODAY = dt.date.today()
HADDAD = walk_in("Haddad", "Rania")


async def test_a_goal_whose_target_date_lies_before_its_start_is_a_422_naming_the_field(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys, language="en")
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        case_id = (await open_case(client, headers, HADDAD))["case_id"]
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
    headers = bearer(dev_keys, language="en")
    body = {
        "consultation_id": str(uuid.uuid4()),
        "held_on": TODAY.isoformat(),
        "duration_minutes": 20,
        "type": "kurzberatung",
        "channel": "telefon",
    }
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        case_id = (await open_case(client, headers, HADDAD))["case_id"]
        path = f"/v1/cases/{case_id}/consultations"
        first = await client.post(path, headers=headers, json=body)
        again = await client.post(path, headers=headers, json=body)
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json() == first.json()
        detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
        assert [c["consultation_id"] for c in detail["consultations"]] == [body["consultation_id"]]

        changed = await client.post(path, headers=headers, json={**body, "duration_minutes": 45})
        other_case = (await open_case(client, headers, HADDAD))["case_id"]
        elsewhere = await client.post(f"/v1/cases/{other_case}/consultations", headers=headers, json=body)
        for refused in (changed, elsewhere):
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"].startswith(PROBLEM_JSON)
            assert refused.json()["code"] == "consultation_id_taken"
