"""The subject access export (GDPR Art. 15): one person's data from casework, no one else's, audited."""

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import col

from wegweiser.casework.app import build
from wegweiser.casework.db import AuditRow
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import STUTTGART, bearer, open_case, walk_in
from wegweiser.common.testing.apps import running

pytestmark = pytest.mark.integration

DAY = "2026-03-02"


def role_bearer(dev_keys: Path, role: str) -> dict[str, str]:
    """A token of Stuttgart's development user of ``role`` (an admin belongs to no provider)."""
    return bearer(dev_keys, f"dev-{role}", role, provider_id=None if role == "admin" else "kreis-08111")


def consultation(note: str, present: str) -> dict[str, Any]:
    return {
        "held_on": DAY,
        "duration_minutes": 40,
        "type": "folgeberatung",
        "channel": "persoenlich",
        "note": note,
        "present_person_ids": [present],
    }


async def test_export_holds_the_persons_data_and_no_one_elses(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    admin, counsellor = role_bearer(dev_keys, "admin"), role_bearer(dev_keys, "counsellor")
    app = build(CaseworkSettings(database_url=database_url, **casework_env))
    async with running(app) as client:
        household = [
            {"family_name": "Haddad", "given_names": "Rania", "date_of_birth": "1988-03-14"},
            {"family_name": "Haddad", "given_names": "Omar", "date_of_birth": "1985-07-01"},
        ]
        opened = await client.post(
            "/v1/cases", headers=counsellor, json={"ags": STUTTGART, "opened_on": DAY, "persons": household}
        )
        assert opened.status_code == 201, opened.text
        cid = opened.json()["case_id"]
        case = (await client.get(f"/v1/cases/{cid}", headers=counsellor)).json()
        rania, omar = (p["person_id"] for p in case["persons"])
        for note, present in (("Rania sucht Sprachkurs", rania), ("Omar: Schulden", omar)):
            posted = await client.post(
                f"/v1/cases/{cid}/consultations", headers=counsellor, json=consultation(note, present)
            )
            assert posted.status_code == 201, posted.text
        goal = {"handlungsfeld": "sprache", "description": "B1-Kurs", "person_id": rania, "set_on": DAY}
        assert (await client.post(f"/v1/cases/{cid}/goals", headers=counsellor, json=goal)).status_code == 201
        for person in (rania, omar):
            consent = {"person_id": person, "purpose": "integrationskurs", "granted_on": DAY}
            granted = await client.post(f"/v1/cases/{cid}/consents", headers=counsellor, json=consent)
            assert granted.status_code == 201, granted.text
        await open_case(client, counsellor, walk_in("Ivanova", "Olha", opened_on=DAY))

        path = f"/v1/admin/persons/{rania}/export"
        assert (await client.get(path, headers=counsellor)).status_code == 403
        answer = await client.get(path, headers=admin)
        assert answer.status_code == 200, answer.text
        english = await client.get(path, headers={**admin, "Accept-Language": "en"})
        unknown = await client.get(f"/v1/admin/persons/{uuid.uuid4()}/export", headers=admin)

        async with app.state.runtime.unit_of_work() as u:
            query = select(AuditRow).where(col(AuditRow.action) == "admin.export_person")
            audited = [
                (a.case_id, a.actor, a.detail["person_id"])
                for a in (await u.session.execute(query)).scalars()
            ]

    doc = answer.json()
    assert (doc["schema"], doc["service"], doc["person_id"]) == (
        "wegweiser.subject-access.v1",
        "casework",
        rania,
    )
    sections = doc["sections"]
    assert sections["Person"]["given_names"] == "Rania"
    assert [c["case_id"] for c in sections["Fälle"]] == [cid]
    assert [c["note"] for c in sections["Beratungen"]] == ["Rania sucht Sprachkurs"]
    assert [g["description"] for g in sections["Integrationsplan und Ziele"]] == ["B1-Kurs"]
    assert [c["person_id"] for c in sections["Einwilligungen"]] == [rania]
    assert any(
        a["action"] == "grant_consent" or "consent" in a["action"]
        for a in sections["Protokolleinträge zum Fall"]
    )
    text = answer.text
    assert "Omar" not in text and "Schulden" not in text and omar not in text and "Ivanova" not in text
    assert "Consents" in english.json()["sections"] and english.json()["language"] == "en"
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert len(audited) == 2  # the German and the English read, each on Rania's case
    assert set(audited) == {(uuid.UUID(cid), "dev-admin", rania)}


async def test_pdf_export_prints_cyrillic_names_and_is_audited(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    admin, counsellor = role_bearer(dev_keys, "admin"), role_bearer(dev_keys, "counsellor")
    pdf = {"Accept": "application/pdf"}
    app = build(CaseworkSettings(database_url=database_url, **casework_env))
    async with running(app) as client:
        opened = await open_case(client, counsellor, walk_in("Шевченко", "Олена", opened_on=DAY))
        case = (await client.get(f"/v1/cases/{opened['case_id']}", headers=counsellor)).json()
        person = case["persons"][0]["person_id"]
        path = f"/v1/admin/persons/{person}/export"
        refused = await client.get(path, headers={**counsellor, **pdf})
        answer = await client.get(path, headers={**admin, **pdf})
        unknown = await client.get(f"/v1/admin/persons/{uuid.uuid4()}/export", headers={**admin, **pdf})
        async with app.state.runtime.unit_of_work() as u:
            query = select(AuditRow).where(col(AuditRow.action) == "admin.export_person")
            audited = [(a.case_id, a.actor, a.detail) for a in (await u.session.execute(query)).scalars()]

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert "Олена Шевченко" in text and "Fallbearbeitung (casework)" in text
    for title in (
        "Person",
        "Fälle",
        "Beratungen",
        "Integrationsplan und Ziele",
        "Protokolleinträge zum Fall",
    ):
        assert title in text
    assert "Eröffnet am 02.03.2026" in text
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert audited == [(uuid.UUID(case["case_id"]), "dev-admin", {"person_id": person, "format": "pdf"})]
