"""A case's life on real Kafka and PostgreSQL: referral with consent, live status, catalogue, relocation."""

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from wegweiser.casework.app import build
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import arrival_registered, arrived, bearer
from wegweiser.common import events, topics
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import header, opened, produce, read_all

pytestmark = pytest.mark.integration
TODAY = dt.date.today()


async def case_of(
    client: httpx.AsyncClient, headers: dict[str, str], arrival_id: uuid.UUID
) -> dict[str, Any] | None:
    cases = (await client.get("/v1/cases", headers=headers)).json()
    return next((c for c in cases if c["arrival_id"] == str(arrival_id)), None)


async def test_referral_status_catalogue_and_relocation(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    bootstrap = casework_env["kafka_bootstrap_servers"]
    stuttgart = bearer(dev_keys, "s-mueller")
    biberach = bearer(dev_keys, "bc-hager", provider_id="kreis-08426", ags=["08426021"])
    person_id = uuid.uuid4()
    arrival = arrival_registered(arrived(person_id=person_id))
    partner = f"vhs-{uuid.uuid4().hex[:6]}"
    now = dt.datetime.now(dt.UTC)
    catalogue = [
        events.ProgrammePublished(
            published_at=now,
            programme="integrationskurs",
            name_de="Integrationskurs",
            name_en="Integration course",
            person_fields=("given_names", "family_name", "phone"),
        ),
        events.PartnerPublished(
            published_at=now,
            partner_id=partner,
            organisation="Volkshochschule Stuttgart",
            programmes=("integrationskurs",),
            kreise=("08111",),
            delivery="kafka",
        ),
    ]
    app = build(CaseworkSettings(database_url=database_url, **casework_env))
    async with running(app) as client:
        await produce(bootstrap, encode(arrival), *(encode(e) for e in catalogue))
        case = await eventually(lambda: case_of(client, stuttgart, arrival.arrival_id), what="case opened")
        assert case is not None
        cid = case["case_id"]
        offered = await eventually(
            lambda: _partner_listed(client, stuttgart, partner), what="partner from the catalogue"
        )
        assert offered is not None and offered["name"] == "Volkshochschule Stuttgart"

        consultation = {
            "held_on": TODAY.isoformat(),
            "duration_minutes": 50,
            "type": "erstgespraech",
            "channel": "hausbesuch",
            "note": "Belastende Fluchterfahrung",
            "present_person_ids": [str(person_id)],
        }
        assert (
            await client.post(f"/v1/cases/{cid}/consultations", headers=stuttgart, json=consultation)
        ).status_code == 201
        referral = {"person_id": str(person_id), "programme": "integrationskurs", "partner_id": partner}
        refused = await client.post(
            f"/v1/cases/{cid}/referrals", headers={**stuttgart, "Accept-Language": "en"}, json=referral
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "consent_missing" and "consent" in refused.json()["detail"]

        contact = {
            "phone": "+49 711 1234",
            "email": "rania@example.org",
            "address": "Königstraße 1, 70173 Stuttgart",
        }
        url = f"/v1/cases/{cid}/persons/{person_id}/contact"
        assert (await client.put(url, headers=stuttgart, json=contact)).status_code == 200
        consent = {
            "person_id": str(person_id),
            "purpose": "integrationskurs",
            "partner_id": partner,
            "granted_on": TODAY.isoformat(),
            "language": "ar",
        }
        granted = await client.post(f"/v1/cases/{cid}/consents", headers=stuttgart, json=consent)
        assert granted.status_code == 201, granted.text
        requested = await client.post(f"/v1/cases/{cid}/referrals", headers=stuttgart, json=referral)
        assert requested.status_code == 201, requested.text
        referral_id = requested.json()["referral_id"]

        [record] = await read_all(
            bootstrap,
            topics.REFERRAL_REQUESTS.name,
            expected=1,
            where=lambda r: header(r, "ce_subject") == referral_id,
        )
        assert b"Haddad" not in record.value  # the person travels sealed; referrals opens it
        opened_request = await opened(record, app.state.runtime.unit_of_work)
        payload = opened_request.model_dump(mode="json")
        assert record.key == b"08111000"
        # Exactly the programme's fields as casework knows them from the (shared, compacted) catalogue.
        programmes = (await client.get("/v1/catalogue", headers=stuttgart)).json()["programmes"]
        wanted = next(p["person_fields"] for p in programmes if p["code"] == "integrationskurs")
        assert {k for k, v in payload["person"].items() if v is not None} == {"person_pseudonym", *wanted}
        assert "address" not in wanted or payload["person"]["address"].startswith("Königstraße")
        assert payload["consent"]["consent_id"] == granted.json()["consent_id"]
        assert payload["consent"]["partner_id"] == partner

        status = events.ReferralAccepted(
            ags="08111000",
            referral_id=uuid.UUID(referral_id),
            case_id=uuid.UUID(cid),
            programme="integrationskurs",
            partner_id=partner,
            requested_on=TODAY,
            # Ahead of time: another referrals consumer on a shared broker may report on this request
            # too; casework keeps the newest status, so this one must win.
            occurred_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )
        await produce(bootstrap, encode(status))
        await eventually(lambda: _referral_status(client, stuttgart, cid, "accepted"), what="status shown")

        # The household moves to Biberach an der Riß: the Landratsamt takes over, without the note.
        relocated = events.ArrivalRelocated(
            ags="08111000", arrival_id=arrival.arrival_id, new_ags="08426021", relocated_on=TODAY
        )
        await produce(bootstrap, encode(relocated))
        moved = await eventually(lambda: _visible(client, biberach, cid), what="case at the new provider")
        assert moved is not None
        assert moved["provider_id"] == "kreis-08426" and moved["ags"] == "08426021"
        assert moved["consultations"][0]["note"] is None and moved["consultations"][0]["note_restricted"]
        assert (await client.get(f"/v1/cases/{cid}", headers=stuttgart)).status_code == 404
        [transferred] = await read_all(
            bootstrap,
            topics.CASES.name,
            expected=1,
            where=lambda r: (
                header(r, "ce_type") == events.CaseTransferred.ce_type() and header(r, "ce_subject") == cid
            ),
        )
        assert transferred.key == b"08426021"
        assert json.loads(transferred.value)["notes_transferred"] is False
        assert b"Haddad" not in transferred.value and b"Belastende" not in transferred.value


async def _partner_listed(
    client: httpx.AsyncClient, headers: dict[str, str], partner: str
) -> dict[str, Any] | None:
    partners = (await client.get("/v1/catalogue", headers=headers)).json()["partners"]
    return next((p for p in partners if p["partner_id"] == partner), None)


async def _referral_status(client: httpx.AsyncClient, headers: dict[str, str], cid: str, status: str) -> bool:
    detail = (await client.get(f"/v1/cases/{cid}", headers=headers)).json()
    return any(r["status"] == status for r in detail["referrals"])


async def _visible(client: httpx.AsyncClient, headers: dict[str, str], cid: str) -> dict[str, Any] | None:
    response = await client.get(f"/v1/cases/{cid}", headers=headers)
    return response.json() if response.status_code == 200 else None
