"""Test support for referrals: fakes of the ports, request builders, a partner's webhook endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from wegweiser.common import events, topics
from wegweiser.common.events import Event
from wegweiser.common.testing.fakes import FakeUnitOfWork
from wegweiser.common.testing.kafka import header, read_all
from wegweiser.referrals.db import (
    CatalogueRepository,
    DeliveryRepository,
    FeedbackRow,
    PartnerOffer,
    PartnerOfferRow,
    ReferralRepository,
)
from wegweiser.referrals.delivery.signing import verify
from wegweiser.referrals.domain.catalogue import Partner, ProgrammeInfo
from wegweiser.referrals.domain.lifecycle import Referral
from wegweiser.referrals.handlers import ReferralsUnitOfWork


class FakeCatalogue(CatalogueRepository):
    def __init__(self) -> None:
        self.programme_rows: dict[str, ProgrammeInfo] = {}
        self.partner_rows: dict[str, Partner] = {}
        self.secrets: dict[str, str] = {}

    async def programmes(self) -> dict[str, ProgrammeInfo]:
        return dict(self.programme_rows)

    async def programme(self, code: str) -> ProgrammeInfo | None:
        return self.programme_rows.get(code)

    async def save_programme(self, info: ProgrammeInfo) -> None:
        self.programme_rows[info.programme] = info

    async def partners(self, *, include_removed: bool = False) -> list[Partner]:
        return [p for _, p in sorted(self.partner_rows.items()) if include_removed or not p.removed]

    async def partner(self, partner_id: str) -> Partner | None:
        return self.partner_rows.get(partner_id)

    async def save_partner(self, partner: Partner, *, webhook_secret: str | None = None) -> None:
        self.partner_rows[partner.partner_id] = partner
        if webhook_secret is not None:
            self.secrets[partner.partner_id] = webhook_secret

    async def webhook_secret(self, partner_id: str) -> str | None:
        return self.secrets.get(partner_id)


class FakeReferrals(ReferralRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Referral] = {}
        self.feedback_rows: dict[tuple[str, uuid.UUID], FeedbackRow] = {}
        self.offer_rows: dict[uuid.UUID, PartnerOfferRow] = {}

    async def get(self, referral_id: uuid.UUID, *, for_update: bool = False) -> Referral | None:
        return self.rows.get(referral_id)

    async def save(self, referral: Referral) -> None:
        self.rows[referral.referral_id] = referral

    async def due_timers(self, now: dt.datetime, *, limit: int = 200) -> list[Referral]:
        return [
            r
            for r in self.rows.values()
            if r.state == "sent"
            and (
                (r.expire_at is not None and r.expire_at <= now)
                or (r.remind_at is not None and r.remind_at <= now and r.reminded_at is None)
            )
        ][:limit]

    async def by_consent(self, consent_id: uuid.UUID) -> list[Referral]:
        return [r for r in self.rows.values() if r.consent_id == consent_id]

    async def by_case(self, case_id: uuid.UUID) -> list[Referral]:
        return [r for r in self.rows.values() if r.case_id == case_id]

    async def erase_case(self, case_id: uuid.UUID) -> dict[str, int]:
        erased = [r.referral_id for r in await self.by_case(case_id)]
        for referral_id in erased:
            del self.rows[referral_id]
            self.offer_rows.pop(referral_id, None)
        return {"referrals": len(erased)}

    async def feedback(self, partner_id: str, feedback_id: uuid.UUID) -> FeedbackRow | None:
        return self.feedback_rows.get((partner_id, feedback_id))

    def add_feedback(self, row: FeedbackRow) -> None:
        self.feedback_rows[(row.partner_id, row.feedback_id)] = row

    def add_offer(self, row: PartnerOfferRow) -> None:
        self.offer_rows[row.referral_id] = row

    async def offers(self, partner_id: str, referral_ids: list[uuid.UUID]) -> dict[uuid.UUID, PartnerOffer]:
        rows = self.offer_rows.items()
        return {i: PartnerOffer.of(o) for i, o in rows if i in referral_ids and o.partner_id == partner_id}

    async def forget_offer(self, referral_id: uuid.UUID) -> None:
        self.offer_rows.pop(referral_id, None)


class FakeDeliveries(DeliveryRepository):
    def __init__(self) -> None:
        self.queued: list[dict[str, Any]] = []

    def enqueue(
        self, *, partner_id: str, referral_id: uuid.UUID, ce_type: str, headers: dict[str, str], body: bytes
    ) -> uuid.UUID:
        self.queued.append(
            {"partner_id": partner_id, "referral_id": referral_id, "ce_type": ce_type, "headers": headers,
             "body": body, "status": "pending"}
        )  # fmt: skip
        return uuid.uuid4()

    async def cancel(self, *, referral_id: uuid.UUID | None = None, partner_id: str | None = None) -> int:
        hits = [
            d
            for d in self.queued
            if d["status"] == "pending"
            and (referral_id is None or d["referral_id"] == referral_id)
            and (partner_id is None or d["partner_id"] == partner_id)
        ]
        for d in hits:
            d.update(status="cancelled", body=None)
        return len(hits)


class FakeReferralsUnitOfWork(FakeUnitOfWork, ReferralsUnitOfWork):
    """Repositories in memory; ``sent_to`` holds (topic, event) of messages for partner topics."""

    def __init__(self) -> None:
        super().__init__()
        self.fake_catalogue = FakeCatalogue()
        self.fake_referrals = FakeReferrals()
        self.fake_deliveries = FakeDeliveries()
        self.sent_to: list[tuple[str, Event | None]] = []

    @property
    def catalogue(self) -> CatalogueRepository:
        return self.fake_catalogue

    @property
    def referrals(self) -> ReferralRepository:
        return self.fake_referrals

    @property
    def deliveries(self) -> DeliveryRepository:
        return self.fake_deliveries

    def publish_to(self, topic: str, event: Event) -> str:
        self.sent_to.append((topic, event))
        return str(uuid.uuid4())

    def publish_tombstone(self, topic: str, key: str) -> None:
        self.sent_to.append((topic, None))


def partner(partner_id: str, *programmes: str, delivery: str = "kafka", **details: Any) -> Partner:
    """A partner offering ``programmes``; ``details`` name its area (``ags``, ``kreise``, ``laender``) etc."""
    fields = {"organisation": f"Org {partner_id}", "delivery": delivery, **details}
    return Partner.model_validate({"partner_id": partner_id, "programmes": programmes, **fields})


# What casework knows of Rania Haddad beyond her name, for tests where a partner's minimum data matters.
CONTACT: dict[str, Any] = {
    "date_of_birth": "1988-03",
    "languages": ["ar"],
    "phone": "0711 1",
    "email": "rania@example.org",
    "address": "Hauptstr. 1",
}


def referral_requested(
    programme: str = "integrationskurs",
    partner_id: str | None = None,
    *,
    consent_programme: str | None = None,
    consent_partner: str | None = None,
    ags: str = "08111000",
    provider_id: str = "kreis-08111",
    requested_on: dt.date | None = None,
    case_id: uuid.UUID | None = None,
    **person: Any,
) -> events.ReferralRequested:
    """Casework's request for Rania Haddad, consented for ``programme`` (or ``consent_programme``).

    ``person`` adds to or replaces her name (e.g. ``**CONTACT``); the request and consent date from
    ``requested_on`` (default today).
    """
    on = requested_on or dt.date.today()
    return events.ReferralRequested.model_validate(
        {
            "ags": ags,
            "referral_id": uuid.uuid4(),
            "case_id": case_id or uuid.uuid4(),
            "provider_id": provider_id,
            "programme": programme,
            "partner_id": partner_id,
            "requested_on": on,
            "consent": {
                "consent_id": uuid.uuid4(),
                "programme": consent_programme or programme,
                "partner_id": consent_partner,
                "granted_on": on,
            },
            "person": {
                "person_pseudonym": "p" * 64,
                "family_name": "Haddad",
                "given_names": "Rania",
                **person,
            },
        }
    )


async def status_types(bootstrap: str, referral_id: uuid.UUID, *, expected: int) -> list[str | None]:
    """The ``ce_type`` of the first ``expected`` status events of one referral, in their order."""
    records = await read_all(
        bootstrap,
        topics.REFERRAL_STATUS.name,
        expected=expected,
        where=lambda r: header(r, "ce_subject") == str(referral_id),
    )
    return [header(r, "ce_type") for r in records]


async def read_to_end(
    bootstrap: str, topic: str, *, where: Callable[[ConsumerRecord[bytes, bytes]], bool]
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every matching record up to the topic's current end: for exact counts (no duplicates)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            partitions = [TopicPartition(topic, p) for p in (await _partitions(consumer, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found += [
                    r for r in records if r.offset < ends[TopicPartition(r.topic, r.partition)] and where(r)
                ]
        return found
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # no public call for it
    return consumer.partitions_for_topic(topic) or set()


class WebhookReceiver:
    """A partner's webhook endpoint on 127.0.0.1 (random port) that checks signatures like a partner would.

    ``POST /hooks/<partner_id>``: answers ``status`` (default 204) and records what came, whether the
    signature verified against ``secrets[partner_id]`` inside the tolerance, and the CloudEvent (``event``).
    """

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.received: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.status = 204
        self.arrived = asyncio.Event()

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        partner_id = scope["path"].rsplit("/", 1)[-1]
        secret = self.secrets.get(partner_id)
        verified = secret is not None and verify(secret=secret, headers=headers, body=body, now=time.time())
        event = json.loads(body) if verified else None
        self.received[partner_id].append({"headers": headers, "body": body, "event": event,
                                          "verified": verified, "at": time.monotonic()})  # fmt: skip
        self.arrived.set()
        status = self.status if verified else 401
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """Run on a random loopback port; yields the base URL (``http://127.0.0.1:<port>/hooks``)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(self.app, interface="asgi3", lifespan="off", log_level="warning", access_log=False)
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            for _ in range(500):  # up to 10 s
                if server.started:
                    break
                await asyncio.sleep(0.02)
            yield f"http://127.0.0.1:{port}/hooks"
        finally:
            server.should_exit = True
            await task
            sock.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: a partner that is down (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/down"


async def start_group_at_end(bootstrap: str, group: str, topics: list[str]) -> None:
    """Commit the current end offsets for a new consumer group, so it skips the topics' history.

    Integration tests share one broker; a fresh group would otherwise first replay every event that
    earlier runs (and other services' tests) left on the shared topics. Missing topics are skipped.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = []
        for topic in topics:
            found = consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
            partitions += [TopicPartition(topic, p) for p in found]
        if partitions:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()
