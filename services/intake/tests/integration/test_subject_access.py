"""The subject access export (GDPR Art. 15) from intake: the person's arrival, no one else's data."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from wegweiser.common import devtokens
from wegweiser.common.testing.apps import running
from wegweiser.intake.app import build
from wegweiser.intake.db import AuditRow
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
    assert doc["sections"]["Protokolleinträge zur Person (frühere Auskünfte)"] == []
    sections = english.json()["sections"]
    assert list(sections) == ["Arrivals (allocations)", "Audit entries about the person (earlier exports)"]
    [earlier] = sections["Audit entries about the person (earlier exports)"]
    assert (earlier["actor"], earlier["action"], earlier["detail"]) == (
        "dev-admin",
        "admin.export_person",
        {"format": "json"},
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_pdf_export_names_the_person_as_written_and_is_audited(
    intake_settings: Callable[..., IntakeSettings], household: Any, authority: Any, dev_keys: Path
) -> None:
    body = household(f"R-{uuid.uuid4().hex[:10]}")
    body["persons"][0].update(family_name="Yılmaz-Németh", given_names="Çağla")
    app = build(intake_settings())
    async with running(app) as client:
        first = await client.post("/v1/arrivals", json=body, headers=authority())
        assert first.status_code == 201, first.text
        me = first.json()["persons"][0]
        path = f"/v1/admin/persons/{me['person_id']}/export"
        pdf = {**admin(dev_keys), "Accept": "application/pdf"}
        refused = await client.get(path, headers={**authority(), "Accept": "application/pdf"})
        answer = await client.get(path, headers=pdf)
        english = await client.get(path, headers={**pdf, "Accept-Language": "en"})
        unknown = await client.get(f"/v1/admin/persons/{uuid.uuid4()}/export", headers=pdf)
        async with app.state.runtime.unit_of_work() as uow:
            rows = (await uow.session.execute(select(AuditRow))).scalars()
            audited = [(a.person_id, a.actor, a.actor_role, a.action, a.detail) for a in rows]

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("attachment;")
    text = pdf_text(answer.content)
    assert "Yılmaz-Németh" in text and "Çağla" in text and "Ankünfte (Zuweisungen)" in text
    assert "Auskunft über gespeicherte personenbezogene Daten" in text and "Zuweisungsdatum" in text
    assert "Arrivals (allocations)" in pdf_text(english.content)
    assert "Audit entries about the person (earlier exports)" in pdf_text(english.content)
    assert "admin.export_person" in pdf_text(english.content)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    person_id = uuid.UUID(me["person_id"])
    assert audited == [(person_id, "dev-admin", "admin", "admin.export_person", {"format": "pdf"})] * 2


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)
