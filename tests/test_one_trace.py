"""One arrival, one trace: intake's HTTP request, both relays, Kafka, casework, statistics and referrals;
a referral requested for its case later is a trace of its own, linked to the arrival's.

The four services run in-process on the real broker and PostgreSQL, and share the process's tracer
provider (as the conftest installs it); an in-memory exporter on it collects every finished span.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from wegweiser.casework.app import build as build_casework
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import topics
from wegweiser.common.testing.apps import bearer, eventually, running
from wegweiser.common.testing.infra import fresh_database
from wegweiser.common.trace_flows import (
    arrival_traces,
    missing_hops,
    span_record,
    traces_complete_ratio,
)
from wegweiser.intake.app import build as build_intake
from wegweiser.intake.settings import IntakeSettings
from wegweiser.referrals.app import build as build_referrals
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import start_group_at_end
from wegweiser.statistics.app import build as build_statistics
from wegweiser.statistics.settings import StatisticsSettings

pytestmark = pytest.mark.integration

SERVICES = ("intake", "casework", "statistics", "referrals")


@pytest.fixture
async def clients(
    service_env: dict[str, Any], postgres_url: str
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The four services, each with its own fresh database; the consumers skip the topics' history."""
    bootstrap = service_env["kafka_bootstrap_servers"]
    async with AsyncExitStack() as stack:
        url = {s: await stack.enter_async_context(fresh_database(postgres_url)) for s in SERVICES}
        casework = CaseworkSettings(database_url=url["casework"], **service_env)
        referrals = ReferralsSettings(database_url=url["referrals"], seed_catalogue=False, **service_env)
        await start_group_at_end(bootstrap, casework.consumer_group("casework"), [topics.ARRIVALS.name])
        await start_group_at_end(
            bootstrap,
            referrals.consumer_group("referrals"),
            [topics.REFERRAL_REQUESTS.name, topics.CASES.name],
        )
        apps = {
            # Statistics first: its live group starts where its start-up replay of the topics ended.
            "statistics": build_statistics(StatisticsSettings(database_url=url["statistics"], **service_env)),
            "referrals": build_referrals(referrals),
            "casework": build_casework(casework),
            "intake": build_intake(IntakeSettings(database_url=url["intake"], **service_env)),
        }
        yield {name: await stack.enter_async_context(running(app)) for name, app in apps.items()}


async def test_an_arrival_is_one_trace_and_a_referral_for_its_case_links_to_it(
    clients: dict[str, httpx.AsyncClient], spans: InMemorySpanExporter, dev_keys: Path
) -> None:
    authority = bearer(dev_keys, "reception_authority", authority_id="uab-08111", ags=["08111000"])
    counsellor = bearer(dev_keys, "counsellor", provider_id="kreis-08111", ags=["08111000"])
    body = {
        "authority_reference": f"TRACE-{uuid.uuid4().hex[:8]}",
        "ags": "08111000",
        "allocation_date": dt.date.today().isoformat(),
        "persons": [
            {"role": "head", "family_name": "Haddad", "given_names": "Rania", "date_of_birth": "1988-03-15"}
        ],
    }
    response = await clients["intake"].post("/v1/arrivals", json=body, headers=authority)
    assert response.status_code == 201, response.text
    arrival_id = response.json()["arrival_id"]

    async def case() -> str | None:
        cases = (await clients["casework"].get("/v1/cases?ags=08111000", headers=counsellor)).json()
        return next((c["case_id"] for c in cases if c["arrival_id"] == arrival_id), None)

    case_id = await eventually(case, timeout_s=60, what="case opened from the arrival")

    async def flow() -> list[ReadableSpan]:
        finished = list(spans.get_finished_spans())
        records = [span_record(s) for s in finished]
        return finished if traces_complete_ratio(records, [arrival_id]) == 1.0 else []

    try:
        finished = await eventually(flow, timeout_s=60, what="the arrival's trace complete")
    except AssertionError:
        records = [span_record(s) for s in spans.get_finished_spans()]
        found = arrival_traces(records)[arrival_id]
        pieces = {f"{t:032x}": missing_hops([r for r in records if r.trace_id == t]) for t in found}
        raise AssertionError(f"the arrival's traces and what each lacks: {pieces}") from None

    (trace_id,) = arrival_traces([span_record(s) for s in finished])[arrival_id]
    ours = [s for s in finished if s.context is not None and s.context.trace_id == trace_id]
    (request,) = [s for s in ours if s.parent is None]
    assert request.kind == SpanKind.SERVER and "/v1/arrivals" in request.name
    by_id = {s.context.span_id: s for s in ours if s.context is not None}

    def parent_of(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None
        return by_id[span.parent.span_id]

    # Children, not links: each consumer span's parent is the relay's one producer span of its record.
    consumers = [s for s in ours if s.kind == SpanKind.CONSUMER]
    for consumer in consumers:
        topic = consumer.name.removesuffix(" process")
        assert (parent_of(consumer).kind, parent_of(consumer).name) == (SpanKind.PRODUCER, f"{topic} publish")
    groups = {str((s.attributes or {}).get("messaging.consumer.group.name")) for s in consumers}
    assert {g.rsplit("-", 1)[-1] for g in groups} >= {"casework", "statistics", "referrals"}
    (opened,) = [s for s in ours if s.kind == SpanKind.PRODUCER and s.name.startswith(topics.CASES.name)]
    assert parent_of(opened).name == f"{topics.ARRIVALS.name} process"  # from casework's handler
    # The person-keys record and intake's fact travel in the same trace (the request's other outbox rows).
    assert {f"{t.name} publish" for t in (topics.INTAKE_PERSON_KEYS, topics.INTAKE_FACTS)} <= {
        s.name for s in ours
    }

    # A counsellor's referral for the case: its own trace (the request), linked to the arrival's flow.
    url = f"/v1/cases/{case_id}"
    person = (await clients["casework"].get(url, headers=counsellor)).json()["persons"][0]["person_id"]
    consent = {"person_id": person, "purpose": "integrationskurs", "granted_on": dt.date.today().isoformat()}
    granted = await clients["casework"].post(f"{url}/consents", headers=counsellor, json=consent)
    assert granted.status_code == 201, granted.text
    referral = {"person_id": person, "programme": "integrationskurs"}
    requested = await clients["casework"].post(f"{url}/referrals", headers=counsellor, json=referral)
    assert requested.status_code == 201, requested.text

    async def referral_request() -> ReadableSpan | None:
        return next(
            (
                s
                for s in spans.get_finished_spans()
                if s.kind == SpanKind.SERVER and s.name.startswith("POST") and s.name.endswith("/referrals")
            ),
            None,
        )

    request_span = await eventually(referral_request, timeout_s=10, what="the referral request's span")
    assert request_span.context is not None and request_span.context.trace_id != trace_id
    (link,) = request_span.links
    assert link.context.trace_id == trace_id  # the arrival's flow, at casework's span that opened the case
    assert by_id[link.context.span_id].name == f"{topics.ARRIVALS.name} process"
