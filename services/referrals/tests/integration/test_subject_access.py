"""The subject access export (GDPR Art. 15) from referrals: a case's referrals and the partner's answers."""

import io
import uuid
from collections.abc import Callable
from functools import partial

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import col

from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import produce
from wegweiser.referrals.app import build
from wegweiser.referrals.db import AuditRow
from wegweiser.referrals.deps import context_of
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import referral_requested

pytestmark = pytest.mark.integration

Bearer = Callable[..., dict[str, str]]
PARTNER = "it-sar-partner"


async def sent(client: httpx.AsyncClient, partner: dict[str, str], referral_id: uuid.UUID) -> bool | None:
    response = await client.get(f"/v1/partner/referrals/{referral_id}", headers=partner)
    return True if response.status_code == 200 else None


async def test_export_holds_the_case_referrals_and_partner_answers(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    admin, partner = tokens("admin"), tokens("partner", partner_id=PARTNER)
    case_id, other_case = uuid.uuid4(), uuid.uuid4()
    mine, sibling, foreign = (
        referral_requested("mbe", PARTNER, case_id=case_id, given_names="Rania"),
        referral_requested("mbe", PARTNER, case_id=case_id, given_names="Omar"),
        referral_requested("mbe", PARTNER, case_id=other_case, given_names="Olha"),
    )
    app = build(settings)
    async with running(app) as client:
        body = {"partner_id": PARTNER, "organisation": "Test", "programmes": ["mbe"],
                "kreise": ["08111"], "delivery": "kafka"}  # fmt: skip
        assert (await client.post("/v1/admin/partners", json=body, headers=admin)).status_code in (201, 409)
        await produce(settings.kafka_bootstrap_servers, *(encode(e) for e in (mine, sibling, foreign)))
        for referral_id in (mine.referral_id, sibling.referral_id, foreign.referral_id):
            await eventually(partial(sent, client, partner, referral_id), what="referral sent")
        url = f"/v1/partner/referrals/{mine.referral_id}/feedback"
        answered = await client.post(
            url, json={"outcome": "declined", "reason": "no_capacity"}, headers=partner
        )
        assert answered.status_code == 200, answered.text

        path = f"/v1/admin/cases/{case_id}/export"
        refused = await client.get(path, headers={**tokens("counsellor"), "Accept": "application/pdf"})
        whole = await client.get(path, headers=admin)
        only_mine = await client.get(path, params={"referral_id": str(mine.referral_id)}, headers=admin)
        english = await client.get(path, headers={**admin, "Accept-Language": "en"})
        unknown = await client.get(f"/v1/admin/cases/{uuid.uuid4()}/export", headers=admin)
        pdf = await client.get(
            path,
            params={"referral_id": str(mine.referral_id)},
            headers={**admin, "Accept": "application/pdf"},
        )
        async with context_of(app).unit_of_work() as uow:
            rows = (await uow.session.execute(select(AuditRow).order_by(col(AuditRow.id)))).scalars()
            audited = [(a.case_id, a.actor, a.actor_role, a.action, a.detail) for a in rows]

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert whole.status_code == 200, whole.text
    doc = whole.json()
    assert (doc["schema"], doc["service"], doc["case_id"], doc["person_id"]) == (
        "wegweiser.subject-access.v1",
        "referrals",
        str(case_id),
        None,
    )
    listed = {r["referral_id"] for r in doc["sections"]["Vermittlungen"]}
    assert listed == {str(mine.referral_id), str(sibling.referral_id)}
    assert str(foreign.referral_id) not in whole.text
    narrowed = only_mine.json()["sections"]
    assert [r["referral_id"] for r in narrowed["Vermittlungen"]] == [str(mine.referral_id)]
    [answer] = narrowed["Antworten und Rückmeldungen der Partner"]
    assert (answer["referral_id"], answer["outcome"], answer["reason"]) == (
        str(mine.referral_id),
        "declined",
        "no_capacity",
    )
    [earlier] = narrowed["Protokolleinträge (frühere Auskünfte)"]  # the whole case's export, as far as mine
    assert (earlier["action"], earlier["detail"]) == (
        "admin.export_case",
        {"referral_ids": [str(mine.referral_id)], "format": "json"},
    )
    assert str(sibling.referral_id) not in only_mine.text
    assert "Data sent to partners" in english.json()["sections"]
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert str(case_id) in text and "Vermittlungen (referrals)" in text
    for title in (
        "Vermittlungen",
        "An Partner übermittelte Daten",
        "Antworten und Rückmeldungen der Partner",
    ):
        assert title in text
    assert "Ergebnis declined" in text and str(sibling.referral_id) not in text
    both, only = sorted([str(mine.referral_id), str(sibling.referral_id)]), [str(mine.referral_id)]
    who = [entry[:4] for entry in audited]
    assert who == [(case_id, "it-admin", "admin", "admin.export_case")] * 4  # not the 403 nor the 404
    what = [(sorted(detail["referral_ids"]), detail["format"]) for *_, detail in audited]
    assert what == [(both, "json"), (only, "json"), (both, "json"), (only, "pdf")]
