"""A create sent twice creates once (issue 14): a web form submitted again after a slow answer or a
double click, and an API request repeated with the same ``Idempotency-Key``."""

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from wegweiser.casework.app import build
from wegweiser.casework.idempotency import _stored as stored_answer
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import STUTTGART, bearer, hidden, open_case, sign_in, walk_in
from wegweiser.common.http import PROBLEM_JSON
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

TODAY = dt.date.today()
CONSULTATION = {
    "held_on": TODAY.isoformat(),
    "duration_minutes": 20,
    "type": "folgeberatung",
    "channel": "telefon",
}


async def submit_twice(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> list[httpx.Response]:
    """Load the form once, then send it twice as a double click does."""
    form = (await client.get(path)).text
    data = {**data, "csrf": hidden(form, "csrf"), "form_token": hidden(form, "form_token")}
    return [await client.post(path, data=data) for _ in range(2)]


async def test_a_web_form_submitted_twice_creates_once_and_lands_on_the_same_page(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys, language="en")
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        await sign_in(client, "s-mueller")
        new_case = {
            "ags": STUTTGART,
            "opened_on": TODAY.isoformat(),
            "family_name": "Doppel",
            "given_names": "Ida",
        }
        opened = await submit_twice(client, "/cases/new", new_case)
        assert [r.status_code for r in opened] == [303, 303]
        assert opened[0].headers["location"] == opened[1].headers["location"]
        cases = (await client.get("/v1/cases", headers=headers, params={"name": "Doppel"})).json()
        assert len(cases) == 1
        case_id = cases[0]["case_id"]

        consultation = {
            "held_on": TODAY.isoformat(),
            "duration_minutes": "30",
            "type": "folgeberatung",
            "channel": "persoenlich",
        }
        saved = await submit_twice(client, f"/cases/{case_id}/consultations/new", consultation)
        goal = {"handlungsfeld": "wohnen", "description": "Wohnung suchen", "set_on": TODAY.isoformat()}
        set_goal = await submit_twice(client, f"/cases/{case_id}/goals/new", goal)
        for first, again in (saved, set_goal):
            assert (first.status_code, again.status_code) == (303, 303), again.text
            assert again.headers["location"] == first.headers["location"]
        detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
        assert len(detail["consultations"]) == 1
        assert len(detail["goals"]) == 1

        # A form sent again without its token (an older page) still works: nothing is refused.
        form = (await client.get(f"/cases/{case_id}/consultations/new")).text
        plain = await client.post(
            f"/cases/{case_id}/consultations/new", data={**consultation, "csrf": hidden(form, "csrf")}
        )
        assert plain.status_code == 303
        overlong = await client.post(
            f"/cases/{case_id}/consultations/new",
            data={**consultation, "csrf": hidden(form, "csrf"), "form_token": "x" * 201},
        )
        assert overlong.status_code == 303  # not a key this service gave out: saved as without one
        assert len((await client.get(f"/v1/cases/{case_id}", headers=headers)).json()["consultations"]) == 3


async def test_an_invalid_form_keeps_nothing_of_its_token(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    """The form comes back with its errors and a fresh token; the corrected form is saved."""
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        await sign_in(client, "s-mueller")
        form = (await client.get("/cases/new")).text
        data = {"ags": STUTTGART, "opened_on": TODAY.isoformat(), "family_name": "", "given_names": "Ida"}
        data |= {"csrf": hidden(form, "csrf"), "form_token": hidden(form, "form_token")}
        invalid = await client.post("/cases/new", data=data)
        assert invalid.status_code == 422
        assert hidden(invalid.text, "form_token") != data["form_token"]
        corrected = await client.post(
            "/cases/new",
            data={**data, "family_name": "Korrektur", "form_token": hidden(invalid.text, "form_token")},
        )
        assert corrected.status_code == 303
        assert "?done=opened" in corrected.headers["location"]


async def test_api_creates_honour_the_idempotency_key(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    headers = bearer(dev_keys, language="en")
    # With a birth date: once the catalogue has reached casework, the Integrationskurs requires it.
    opening = walk_in("Wiederholt", "Ole", date_of_birth="1990-04")
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        keyed = {**headers, "Idempotency-Key": "walk-in-1"}
        first, again = [await client.post("/v1/cases", headers=keyed, json=opening) for _ in range(2)]
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert (
            len((await client.get("/v1/cases", headers=headers, params={"name": "Wiederholt"})).json()) == 1
        )

        case_id = first.json()["case_id"]
        body = CONSULTATION
        path = f"/v1/cases/{case_id}/consultations"
        keyed = {**headers, "Idempotency-Key": "consultation-1"}
        first, again = [await client.post(path, headers=keyed, json=body) for _ in range(2)]
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json() == first.json()
        other = await client.post(path, headers=keyed, json={**body, "duration_minutes": 45})
        assert other.status_code == 422, other.text
        assert other.headers["content-type"].startswith(PROBLEM_JSON)
        assert other.json()["errors"][0]["field"] == "Idempotency-Key"
        bad_key = await client.post(path, headers={**headers, "Idempotency-Key": "x" * 201}, json=body)
        assert bad_key.status_code == 422
        detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
        assert len(detail["consultations"]) == 1

        goal = {"handlungsfeld": "wohnen", "description": "Wohnung suchen", "set_on": TODAY.isoformat()}
        person_id = detail["persons"][0]["person_id"]
        consent = {"person_id": person_id, "purpose": "integrationskurs", "granted_on": TODAY.isoformat()}
        referral = {"person_id": person_id, "programme": "integrationskurs"}
        for route, json in (("goals", goal), ("consents", consent), ("referrals", referral)):
            keyed = {**headers, "Idempotency-Key": f"{route}-1"}
            first, again = [
                await client.post(f"/v1/cases/{case_id}/{route}", headers=keyed, json=json) for _ in range(2)
            ]
            assert (first.status_code, again.status_code) == (201, 201), again.text
            assert again.json() == first.json()
        detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
        assert (len(detail["goals"]), len(detail["consents"]), len(detail["referrals"])) == (1, 1, 1)


async def test_the_same_key_sent_twice_at_once_records_one_consultation(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    """A double click reaches two workers at once: one records, the other answers as the first or 409."""
    headers = bearer(dev_keys, language="en")
    body = CONSULTATION
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        case_id = (await open_case(client, headers, walk_in("Zugleich", "Ada")))["case_id"]
        path = f"/v1/cases/{case_id}/consultations"
        for attempt in range(5):
            keyed = {**headers, "Idempotency-Key": f"together-{attempt}"}
            answers = await asyncio.gather(*(client.post(path, headers=keyed, json=body) for _ in range(2)))
            assert sorted(a.status_code for a in answers)[0] == 201, [a.text for a in answers]
            assert {a.status_code for a in answers} <= {201, 409}
        detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
    assert len(detail["consultations"]) == 5


class ProcessDied(Exception):
    """Stands for a kill between the change and its answer: the client gets no answer at all."""


async def test_a_request_cut_off_after_its_change_leaves_nothing_and_its_retry_records_once(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change, its key and its answer commit together. Found by the system day: with the answer
    stored in a second transaction, a process killed between the two left the key "in progress" and
    every retry of the client got 409, for ever."""
    headers = bearer(dev_keys, language="en")
    body = CONSULTATION
    cut_off: list[int] = []

    def cut_off_once(result: Any, status_code: int) -> tuple[int, bytes]:
        if not cut_off:
            cut_off.append(status_code)
            raise ProcessDied("between the change and its answer")
        return stored_answer(result, status_code)

    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        case_id = (await open_case(client, headers, walk_in("Abgerissen", "Ali")))["case_id"]
        monkeypatch.setattr("wegweiser.casework.idempotency._stored", cut_off_once)
        keyed = {**headers, "Idempotency-Key": "cut-off-1"}
        path = f"/v1/cases/{case_id}/consultations"
        with pytest.raises(ProcessDied):
            await client.post(path, headers=keyed, json=body)
        assert (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()["consultations"] == []
        retried, again = [await client.post(path, headers=keyed, json=body) for _ in range(2)]
        assert (retried.status_code, again.status_code) == (201, 201), retried.text
        assert again.headers["idempotent-replayed"] == "true" and again.json() == retried.json()
        detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
    assert len(detail["consultations"]) == 1
