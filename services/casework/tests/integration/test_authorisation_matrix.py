"""Every endpoint × role × foreign provider / foreign AGS, on PostgreSQL: foreign cases answer 404."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from wegweiser.casework.app import build
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import bearer, open_case, walk_in
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

TODAY = dt.date.today().isoformat()
STUTTGART = "08111000"


def principals(dev_keys: Path) -> dict[str, dict[str, str]]:
    return {
        "counsellor": bearer(dev_keys, "s-mueller"),
        "supervisor": bearer(dev_keys, "s-weber", "supervisor"),
        "counsellor_foreign_provider": bearer(dev_keys, "c-nowak", provider_id="caritas-stuttgart"),
        "supervisor_foreign_provider": bearer(
            dev_keys, "c-schmid", "supervisor", provider_id="caritas-stuttgart"
        ),
        "counsellor_foreign_ags": bearer(dev_keys, "s-yilmaz", ags=["08115003"]),
        "admin": bearer(dev_keys, "admin", "admin", provider_id=None, ags=None),
        "reception_authority": bearer(dev_keys, "uab", "reception_authority", provider_id=None),
        "anonymous": {},
    }


OWN = {"counsellor", "supervisor"}
FOREIGN = {"counsellor_foreign_provider", "supervisor_foreign_provider", "counsellor_foreign_ags", "admin"}


def case_endpoints(case: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body) of every route that touches one case."""
    cid = case["case_id"]
    person = case["persons"][0]["person_id"]
    goal, consent = case["goals"][0]["goal_id"], case["consents"][0]["consent_id"]
    return [
        ("GET", f"/v1/cases/{cid}", None),
        ("POST", f"/v1/cases/{cid}/assignment", {"counsellor_id": "s-mueller"}),
        (
            "POST",
            f"/v1/cases/{cid}/consultations",
            {"held_on": TODAY, "duration_minutes": 20, "type": "kurzberatung", "channel": "telefon"},
        ),
        (
            "POST",
            f"/v1/cases/{cid}/goals",
            {"handlungsfeld": "wohnen", "description": "Wohnung suchen", "set_on": TODAY},
        ),
        ("POST", f"/v1/cases/{cid}/goals/{goal}/status", {"status": "in_progress"}),
        (
            "POST",
            f"/v1/cases/{cid}/consents",
            {"person_id": person, "purpose": "jobcenter", "granted_on": TODAY},
        ),
        ("POST", f"/v1/cases/{cid}/referrals", {"person_id": person, "programme": "integrationskurs"}),
        ("PUT", f"/v1/cases/{cid}/persons/{person}/contact", {"phone": "0711 123"}),
        ("POST", f"/v1/cases/{cid}/extension", {"justification": "Ausbildung läuft noch ein Jahr"}),
        ("POST", f"/v1/cases/{cid}/consents/{consent}/withdrawal", {}),
        ("POST", f"/v1/cases/{cid}/closure", {"reason": "goals_met", "closed_on": TODAY}),
        ("GET", f"/audit?case={cid}", None),
        ("GET", f"/cases/{cid}", None),
    ]


async def test_every_endpoint_by_every_role_and_scope(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    who = principals(dev_keys)
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        opened = await client.post(
            "/v1/cases",
            headers=who["counsellor"],
            json={
                "ags": STUTTGART,
                "opened_on": TODAY,
                # Complete, so whatever the shared catalogue requires of a person is there.
                "persons": [
                    {
                        "family_name": "Haddad",
                        "given_names": "Rania",
                        "date_of_birth": "1988-03",
                        "sex": "female",
                        "languages": ["ar"],
                        "phone": "+49 711 1",
                        "email": "r@example.org",
                        "address": "Königstraße 1, 70173 Stuttgart",
                    }
                ],
            },
        )
        assert opened.status_code == 201, opened.text
        cid = opened.json()["case_id"]
        detail = (await client.get(f"/v1/cases/{cid}", headers=who["counsellor"])).json()
        person = detail["persons"][0]["person_id"]
        own = who["counsellor"]
        assert (
            await client.post(
                f"/v1/cases/{cid}/goals",
                headers=own,
                json={"handlungsfeld": "sprache", "description": "B1-Kurs", "set_on": TODAY},
            )
        ).status_code == 201
        assert (
            await client.post(
                f"/v1/cases/{cid}/consents",
                headers=own,
                json={"person_id": person, "purpose": "integrationskurs", "granted_on": TODAY},
            )
        ).status_code == 201
        case = (await client.get(f"/v1/cases/{cid}", headers=own)).json()

        outcomes: dict[tuple[str, str], int] = {}
        bodies: dict[tuple[str, str], str] = {}
        # Foreign callers first, so the case is still open when they try; then its own people.
        for name in sorted(who, key=lambda n: n in OWN):
            for method, path, body in case_endpoints(case):
                headers = dict(who[name])
                if path.startswith(("/cases", "/audit")) and name != "anonymous":
                    headers = {}
                    client.cookies.set(
                        "wegweiser_session",
                        who[name]["Authorization"].removeprefix("Bearer ") if who[name] else "",
                    )
                else:
                    client.cookies.clear()
                response = await client.request(
                    method, path, headers=headers, json=body, follow_redirects=False
                )
                outcomes[(name, f"{method} {path}")] = response.status_code
                bodies[(name, f"{method} {path}")] = response.text[:300]
        client.cookies.clear()

        for (name, endpoint), status in outcomes.items():
            web = endpoint.startswith(("GET /cases", "GET /audit"))
            if name in OWN:
                # The counsellor goes first and may do everything; the supervisor then finds it closed (409).
                allowed = {200, 201} if name == "counsellor" else {200, 201, 409}
                if endpoint.startswith("GET /audit"):
                    allowed = {200} if name == "supervisor" else {403}
                assert status in allowed, (name, endpoint, status, bodies[(name, endpoint)])
            elif name in FOREIGN:
                expected = 403 if endpoint.startswith("GET /audit") and "supervisor" not in name else 404
                if web and name == "admin" and endpoint.startswith("GET /audit"):
                    expected = 403
                assert status == expected, (name, endpoint, status)
            elif name == "reception_authority":
                assert status == (303 if web else 403), (name, endpoint, status)  # web: back to sign-in
            else:
                assert status == (303 if web else 401), (name, endpoint, status)

        # Lists and search never show a foreign case; scoped lists outside one's AGS are refused.
        for name in FOREIGN | {"reception_authority"}:
            listed = await client.get("/v1/cases?status=open", headers=who[name])
            assert listed.status_code in (200, 403) and cid not in listed.text, name
        found = await client.get("/v1/cases?name=hadd", headers=who["counsellor_foreign_provider"])
        assert found.json() == []
        assert (
            await client.get(f"/v1/cases?ags={STUTTGART}", headers=who["counsellor_foreign_ags"])
        ).status_code == 403
        assert cid in (await client.get("/v1/cases?status=closed", headers=own)).text

        # Supervision and administration by role.
        role_matrix = {
            "/v1/teams/caseloads": {"supervisor", "supervisor_foreign_provider"},
            "/v1/audit": {"supervisor", "supervisor_foreign_provider"},
            "/v1/admin/providers": {"admin"},
            "/v1/admin/staff": {"admin"},
            "/v1/admin/provider-rules": {"admin"},
            "/v1/catalogue": {
                "counsellor",
                "supervisor",
                "counsellor_foreign_provider",
                "supervisor_foreign_provider",
                "counsellor_foreign_ags",
                "admin",
            },
        }
        for path, allowed_roles in role_matrix.items():
            for name, headers in who.items():
                status = (await client.get(path, headers=headers)).status_code
                expected = 200 if name in allowed_roles else (401 if name == "anonymous" else 403)
                assert status == expected, (path, name, status)
        foreign_audit = (await client.get("/v1/audit", headers=who["supervisor_foreign_provider"])).json()
        assert all(e["case_id"] != cid for e in foreign_audit)
        put_rule = await client.put(
            "/v1/admin/provider-rules/08111000",
            headers=who["supervisor"],
            json={"provider_id": "caritas-stuttgart"},
        )
        assert put_rule.status_code == 403

        # Every read and change of the case is in the audit log, and only its own provider's people made them.
        log = (await client.get(f"/v1/audit?case_id={cid}", headers=who["supervisor"])).json()
        actors = {e["actor"] for e in log}
        assert actors == {"s-mueller", "s-weber"}
        actions = {e["action"] for e in log}
        assert {"open", "read", "set_goal", "grant_consent", "record_consultation", "close"} <= actions


async def test_the_audit_log_refuses_update_and_delete_in_the_database(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    own = principals(dev_keys)["counsellor"]
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        await open_case(client, own, walk_in("A", "B"))
    engine = create_async_engine(database_url)
    count = text("SELECT count(*), count(*) FILTER (WHERE actor = 's-mueller') FROM audit_log")
    try:
        async with engine.connect() as conn:
            before = (await conn.execute(count)).one()
        assert before[1] >= 1
        for statement in ("UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text(statement))
        async with engine.connect() as conn:
            assert (await conn.execute(count)).one() == before
    finally:
        await engine.dispose()
