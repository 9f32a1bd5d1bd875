"""A referral's trace runs on to the partner: the webhook carries the trace of the counsellor's request."""

import uuid
from collections.abc import Callable

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from wegweiser.common import topics
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import produce
from wegweiser.referrals.app import build
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import WebhookReceiver, referral_requested

pytestmark = pytest.mark.integration

Bearer = Callable[..., dict[str, str]]
PARTNER = f"it-hook-trace-{uuid.uuid4().hex[:6]}"


async def test_the_partners_webhook_request_continues_the_referrals_trace(
    settings: ReferralsSettings, tokens: Bearer, spans: InMemorySpanExporter
) -> None:
    receiver = WebhookReceiver()
    async with receiver.serving() as base_url, running(build(settings)) as client:
        body = {
            "partner_id": PARTNER,
            "organisation": "Test trace",
            "programmes": ["psychosozial"],
            "kreise": ["08426"],
            "delivery": "webhook",
            "webhook_url": f"{base_url}/{PARTNER}",
        }
        created = await client.post("/v1/admin/partners", json=body, headers=tokens("admin"))
        assert created.status_code == 201, created.text
        receiver.secrets[PARTNER] = created.json()["webhook_secret"]

        # Casework's side, as its relay would send it: the record carries the counsellor request's trace.
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span(
            "POST /v1/cases/{case_id}/referrals", kind=SpanKind.SERVER
        ) as request:
            record = encode(referral_requested("psychosozial", PARTNER, phone="0711 1"))
        await produce(settings.kafka_bootstrap_servers, record)
        trace_id = request.get_span_context().trace_id

        async def delivered() -> list[dict]:
            return [r for r in receiver.received[PARTNER] if r["verified"]]

        (delivery,) = await eventually(delivered, timeout_s=30, what="the webhook delivered")

    traceparent = delivery["headers"]["traceparent"]
    assert traceparent.split("-")[1] == f"{trace_id:032x}"
    (consumer,) = [
        s
        for s in spans.get_finished_spans()
        if s.name == f"{topics.REFERRAL_REQUESTS.name} process"
        and s.context
        and s.context.trace_id == trace_id
    ]
    assert consumer.parent is not None and consumer.parent.span_id == request.get_span_context().span_id
    # The partner's request names the referrals consumer's span: the partner's own spans join the flow.
    assert traceparent.split("-")[2] == f"{consumer.context.span_id:016x}"
