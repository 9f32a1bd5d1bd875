"""The admin desk on real PostgreSQL and Kafka (issue 14): stuck records are listed per municipality with
their reason and retried like ``wegweiser dlq replay``; the provider rule changes through the admin API's
handler; every admin action is in the audit log; supervisors see the cases near their deadline."""

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from wegweiser.casework import handlers
from wegweiser.casework.app import build
from wegweiser.casework.db import AuditRow
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.settings import CONSUMER_ENGINE, CaseworkSettings
from wegweiser.casework.testing import STUTTGART, bearer, hidden, open_case, sign_in, walk_in
from wegweiser.common import events
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.fakes import Outage
from wegweiser.common.testing.kafka import produce

pytestmark = pytest.mark.integration

FAULT = "Adressdienst nicht erreichbar"


def rows(page: str) -> dict[str, str]:
    """The desk's DLQ table rows by entry id."""
    return dict(re.findall(r'<tr[^>]*data-entry="([^"]+)"[^>]*>(.*?)</tr>', page, re.S))


async def admin_audit(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    """The audit log's entries made by the admin (action, detail), oldest first, from casework's database."""
    uow: CaseworkUnitOfWork = app.state.runtime.unit_of_work()
    async with uow:
        query = select(AuditRow).where(col(AuditRow.actor) == "admin").order_by(col(AuditRow.id))
        return [(e.action, e.detail) for e in (await uow.session.execute(query)).scalars()]


def arrival(family_name: str) -> events.ArrivalRegistered:
    return events.ArrivalRegistered(
        ags=STUTTGART,
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference=f"D-{uuid.uuid4().hex[:6]}",
        allocation_date=dt.date.today(),
        persons=(
            events.ArrivedPerson(
                person_id=uuid.uuid4(), role="head", family_name=family_name, given_names="Rania"
            ),
        ),
    )


def corrected(registered: events.ArrivalRegistered, family_name: str) -> events.ArrivalCorrected:
    """A later event of the same arrival: it must wait (parked) while the arrival is dead-lettered."""
    head = registered.persons[0].model_copy(update={"family_name": family_name})
    snapshot = registered.model_dump(exclude={"persons"})
    return events.ArrivalCorrected(**snapshot, persons=(head,), corrected_fields=("family_name",))


async def test_a_stuck_arrival_is_listed_with_its_reason_retried_from_the_desk_and_then_processed(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = Outage(FAULT)
    monkeypatch.setattr(handlers, "open_case_for_arrival", outage.wrap(handlers.open_case_for_arrival))
    engine = CONSUMER_ENGINE.model_copy(update={"max_attempts": 2, "backoff_initial_s": 0.2})
    app = build(CaseworkSettings(database_url=database_url, engine=engine, **casework_env))
    family = f"Haddad-{uuid.uuid4().hex[:5]}"
    registered = arrival(family)
    async with running(app) as client:
        await produce(
            casework_env["kafka_bootstrap_servers"],
            encode(registered),
            encode(corrected(registered, f"{family}-Korrigiert")),
        )
        await sign_in(client, "admin")

        async def listed() -> dict[str, str]:
            found = rows((await client.get(f"/admin/dlq?ags={STUTTGART}")).text)
            return found if sorted(r.count("geparkt") for r in found.values()) == [0, 1] else {}

        listing = await eventually(listed, timeout_s=60, what="the dead and the parked event listed")
        [(dead_id, dead_row)] = [(i, r) for i, r in listing.items() if "geparkt" not in r]
        assert f"ConnectionError: {FAULT}" in dead_row and "Nach 2 Versuch(en)" in dead_row
        assert events.ArrivalRegistered.ce_type() in dead_row
        page = (await client.get(f"/admin/dlq?ags={STUTTGART}")).text
        assert "Stuttgart" in page and family not in page  # the reason, not the person data

        # The fault is gone; the admin presses "Erneut versuchen" on the failed event.
        outage.end()
        retried = await client.post(
            "/admin/dlq/retry", data={"csrf": hidden(page, "csrf"), "entry": dead_id, "ags": STUTTGART}
        )
        assert retried.status_code == 303
        assert "erneut zur Verarbeitung" in (await client.get(retried.headers["location"])).text

        async def case_corrected() -> bool:
            """The case is open and carries the correction: the parked event followed the retried one."""
            cases = (await client.get(f"/v1/cases?ags={STUTTGART}", headers=bearer(dev_keys))).json()
            ours = [c for c in cases if c["arrival_id"] == str(registered.arrival_id)]
            if not ours:
                return False
            case = (await client.get(f"/v1/cases/{ours[0]['case_id']}", headers=bearer(dev_keys))).json()
            return bool(case["persons"][0]["family_name"] == f"{family}-Korrigiert")

        await eventually(case_corrected, timeout_s=60, what="the case opened and corrected after the retry")

        async def emptied() -> bool:
            return rows((await client.get(f"/admin/dlq?ags={STUTTGART}")).text) == {}

        await eventually(emptied, timeout_s=60, what="nothing stuck any more")
        [retry] = [detail for action, detail in await admin_audit(app) if action == "admin.dlq_retry"]
        assert retry["entries"] == [dead_id]
        assert retry["outcome"][0].startswith(f"replayed {dead_id}")

        # Another service's entry (or a made-up one) cannot be retried from casework's desk.
        foreign = f"referrals.dlq.{casework_env['consumer_group_prefix']}-referrals:0:0"
        refused = await client.post("/admin/dlq/retry", data={"csrf": hidden(page, "csrf"), "entry": foreign})
        assert refused.status_code == 404


async def test_the_admin_changes_who_takes_new_arrivals_through_the_api_handler_and_it_is_audited(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    app = build(CaseworkSettings(database_url=database_url, **casework_env))
    admin_api = bearer(dev_keys, "admin", "admin", provider_id=None, ags=None)
    async with running(app) as client:
        await sign_in(client, "s-mueller")
        assert (await client.get("/admin")).status_code == 403
        assert (await client.get("/admin/dlq")).status_code == 403
        client.cookies.clear()
        await sign_in(client, "admin")
        landing = await client.get("/cases")  # where the sign-in leads: an admin has no caseload
        assert landing.status_code == 303 and landing.headers["location"] == "/admin"
        desk = await client.get("/admin")
        assert desk.status_code == 200
        for shown in ("Caritas", "Andrea Weber", "Leitung", "Team Stuttgart-Nord", "(08111000)"):
            assert shown in desk.text
        csrf = hidden(desk.text, "csrf")

        refused = await client.post(
            "/admin/provider-rules", data={"csrf": csrf, "ags": STUTTGART, "provider_id": "kreis-08426"}
        )
        assert refused.status_code == 422
        assert "betreut die gewählte Gemeinde nicht" in refused.text
        saved = await client.post(
            "/admin/provider-rules", data={"csrf": csrf, "ags": STUTTGART, "provider_id": "caritas-stuttgart"}
        )
        assert saved.status_code == 303
        rules = (await client.get("/v1/admin/provider-rules", headers=admin_api)).json()
        assert {"ags": STUTTGART, "provider_id": "caritas-stuttgart"} in rules
        # The API refuses the same rule for the same reason (the one handler), and audits nothing then.
        api_refused = await client.put(
            f"/v1/admin/provider-rules/{STUTTGART}", headers=admin_api, json={"provider_id": "kreis-08426"}
        )
        assert api_refused.status_code == 422
        assert api_refused.json()["errors"][0]["field"] == "provider_id"

        reset = await client.post(f"/admin/provider-rules/{STUTTGART}/reset", data={"csrf": csrf})
        assert reset.status_code == 303
        rules = (await client.get("/v1/admin/provider-rules", headers=admin_api)).json()
        assert all(r["ags"] != STUTTGART for r in rules)
        forged = await client.post(f"/admin/provider-rules/{STUTTGART}/reset", data={"csrf": "forged"})
        assert forged.status_code == 400

        # Staff: Deniz Yılmaz moves to Team Stuttgart-Nord; a team of another provider is refused.
        form = (await client.get("/admin/staff/s-yilmaz")).text
        staff = {"csrf": hidden(form, "csrf"), "display_name": "Deniz Yılmaz", "role": "counsellor"}
        staff |= {"provider_id": "kreis-08111", "active": "on"}
        foreign = await client.post("/admin/staff/s-yilmaz", data={**staff, "team_id": "caritas-im"})
        assert foreign.status_code == 422 and "gehört nicht zum gewählten Träger" in foreign.text
        moved = await client.post("/admin/staff/s-yilmaz", data={**staff, "team_id": "s-nord"})
        assert moved.status_code == 303
        members = (await client.get("/v1/admin/staff", headers=admin_api)).json()
        assert {"subject": "s-yilmaz", "team_id": "s-nord", "active": True}.items() <= next(
            m for m in members if m["subject"] == "s-yilmaz"
        ).items()
        api_foreign = await client.put(
            "/v1/admin/staff/s-yilmaz",
            headers=admin_api,
            json={"display_name": "Deniz Yılmaz", "role": "counsellor", "provider_id": "kreis-08111"}
            | {"team_id": "caritas-im"},
        )
        assert api_foreign.status_code == 422 and api_foreign.json()["errors"][0]["field"] == "team_id"

        assert await admin_audit(app) == [
            ("admin.put_rule", {"ags": STUTTGART, "provider_id": "caritas-stuttgart"}),
            ("admin.delete_rule", {"ags": STUTTGART}),
            ("admin.put_staff", {"subject": "s-yilmaz"}),
        ]


async def test_supervisors_see_the_cases_near_their_deadline_per_counsellor(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    near = dt.date.today().replace(year=dt.date.today().year - 3) + dt.timedelta(days=30)
    family = f"Fristnah-{uuid.uuid4().hex[:5]}"
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        await open_case(client, bearer(dev_keys), walk_in(family, opened_on=near))
        await open_case(client, bearer(dev_keys), walk_in(f"Neu-{family}"))
        await sign_in(client, "s-weber")
        team = (await client.get("/team")).text
    deadlines = team.split('id="deadlines"')[1]
    assert f"{family}, Anna" in deadlines and f"Neu-{family}" not in deadlines
    member = re.search(r"Lena Müller</th>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>", team)
    assert member and member.groups() == ("2", "1")
