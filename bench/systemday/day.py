"""The day's load, through the services' own APIs: what reception authorities, counsellors and partners do.

Arrivals by population over every populated municipality of Baden-Württemberg, a fifth one by one
(``POST /v1/arrivals``) and the rest in each Kreis authority's batches (``POST /v1/arrivals/batch``);
counsellors answer every case that opens with consultations, plan goals and referrals to the two partners
(casework API, spread over both replicas like a load balancer would); the webhook partner's answers come
through the referrals partner API (the Kafka partner answers on its feedback topic itself); the statistics
API is read all along. Every write carries an ``Idempotency-Key`` and is retried with it until it is
acknowledged, as a careful client does across a service's restart: the ledger then holds exactly what
the system acknowledged, which ``reconcile`` counts against.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from intake import Population, household  # bench/intake.py: households as the intake benchmark makes them

from wegweiser.common import devtokens, topics

STUTTGART = "08111000"
WEBHOOK_PARTNER, KAFKA_PARTNER = "systemtag-webhook", "systemtag-kafka"
PROGRAMME_OF = {WEBHOOK_PARTNER: "mbe", KAFKA_PARTNER: "integrationskurs"}
RECEIVED = {  # a partner's output line when it acts on an offered referral (the shipped examples print it)
    WEBHOOK_PARTNER: re.compile(r"referral\.offered\.v1: referral ([0-9a-f-]{36})"),
    KAFKA_PARTNER: re.compile(r"referral ([0-9a-f-]{36}) \("),
}


def token(role: str, **claims: Any) -> dict[str, str]:
    minted = devtokens.mint(subject=f"systemtag-{role}", roles=[role], ttl_s=12 * 3600, **claims)
    return {"Authorization": f"Bearer {minted}"}


@dataclass
class Ledger:
    """What the system acknowledged, and when; the reconciliation's expectation."""

    arrivals: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # id -> (ags, acked, phase)
    recorded: dict[str, float] = field(default_factory=dict)  # arrival -> intake recorded it (its ce_time)
    relayed: dict[str, float] = field(default_factory=dict)  # arrival -> the relay sent it (record timestamp)
    persons: int = 0
    cases: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # arrival -> (case, ags, opened)
    consultations: set[str] = field(default_factory=set)  # idempotency keys acknowledged
    goals: set[str] = field(default_factory=set)
    referrals: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # id -> (partner, at, ags)
    received: dict[str, float] = field(default_factory=dict)  # referral -> first receipt by its partner
    receipts: Counter[str] = field(default_factory=Counter)  # referral -> how often its partner acted
    feedback: set[str] = field(default_factory=set)
    statistics_reads: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def partner_line(self, partner: str, line: str, at: float) -> None:
        for match in RECEIVED[partner].finditer(line):
            self.receipts[match.group(1)] += 1
            self.received.setdefault(match.group(1), at)


@dataclass
class Urls:
    intake: str
    casework: Sequence[str]
    referrals: Sequence[str]
    statistics: str


class Day:
    """One day's load; ``flood()`` says whether Stuttgart sends ``flood_factor`` times its share now."""

    def __init__(
        self,
        urls: Urls,
        ledger: Ledger,
        *,
        seed: int,
        rate: float,
        flood_factor: float,
        phase: Callable[[], str],
        failing: str | None = None,
    ) -> None:
        """``failing``: a municipality that gets an arrival every ~5 s in the flood, on top."""
        self.urls, self.ledger, self.phase = urls, ledger, phase
        self.rate, self.flood_factor, self.failing = rate, flood_factor, failing
        self.rng = random.Random(seed)
        self.population = Population()
        self.stuttgart_share = next(m.population for m in self.population.places if m.ags == STUTTGART) / (
            self.population.total
        )
        self.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64))
        self.authority = {
            kreis: token("reception_authority", authority_id=f"uab-{kreis}", ags=ags)
            for kreis, ags in self.population.kreis_ags.items()
        }
        self.counsellors: dict[tuple[str, str], dict[str, str]] = {}
        self.webhook_partner = token("partner", partner_id=WEBHOOK_PARTNER)
        self.reader = token("statistics_reader")
        self.work: asyncio.Queue[tuple[str, str, str, str]] = asyncio.Queue()
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.sequence = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.run_id = uuid.uuid4().hex[:6]

    # --- arrivals ------------------------------------------------------------------------------------

    async def arrivals(self, stop: asyncio.Event, flood: Callable[[], bool]) -> None:
        """Each second the day's arrivals; singles go at once, the rest in the Kreise's batches every 2 s."""
        tick = 0
        today = dt.date.today()
        while not stop.is_set():
            started = time.monotonic()
            count = self._count(self.rate)
            extra = self._count((self.flood_factor - 1) * self.stuttgart_share * self.rate) if flood() else 0
            failing = self._count(0.2) if flood() and self.failing else 0
            for n in range(count + extra + failing):
                if n >= count + extra:
                    ags, kreis = str(self.failing), str(self.failing)[:5]
                elif n >= count:
                    ags, kreis = STUTTGART, "08111"
                else:
                    ags, kreis = self.population.sample(self.rng)
                self.sequence += 1
                item = household(self.rng, f"ST{self.run_id}-{self.sequence}", ags, today)
                item["allocation_date"] = today.isoformat()  # counted in this year's statistics
                if self.rng.random() < 0.2:
                    self._spawn(self._single(kreis, item))
                else:
                    self.pending[kreis].append(item)
            if tick % 2 == 1:
                for kreis in list(self.pending):
                    self._spawn(self._batch(kreis, self.pending.pop(kreis)))
            tick += 1
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        for kreis in list(self.pending):
            self._spawn(self._batch(kreis, self.pending.pop(kreis)))

    def _count(self, mean: float) -> int:
        return int(mean) + (self.rng.random() < mean - int(mean))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _single(self, kreis: str, item: dict[str, Any]) -> None:
        answer = await self._until_acknowledged(
            "arrival", f"{self.urls.intake}/v1/arrivals", item, self.authority[kreis]
        )
        self._acknowledged(answer["arrival_id"], item)

    async def _batch(self, kreis: str, items: list[dict[str, Any]]) -> None:
        while items:
            body = {"arrivals": items}
            answer = await self._until_acknowledged(
                "batch", f"{self.urls.intake}/v1/arrivals/batch", body, self.authority[kreis]
            )
            refused = []
            for result in answer["results"]:
                item = items[result["index"]]
                if result["outcome"] in ("created", "existing"):
                    self._acknowledged(result["arrival_id"], item)
                elif result["status"] == 429:
                    refused.append(item)
                else:
                    self.ledger.errors[f"arrival refused {result['status']}"] += 1
            items = refused
            if refused:
                await asyncio.sleep(1)

    def _acknowledged(self, arrival_id: str, item: dict[str, Any]) -> None:
        if arrival_id not in self.ledger.arrivals:
            self.ledger.arrivals[arrival_id] = (item["ags"], time.time(), self.phase())
            self.ledger.persons += len(item["persons"])

    async def _until_acknowledged(
        self, what: str, url: str, body: dict[str, Any], headers: dict[str, str], *, timeout_s: float = 600
    ) -> dict[str, Any]:
        """POST with one Idempotency-Key until a 2xx: across kills, broker and database restarts."""
        key = str(uuid.uuid4())
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                response = await self.http.post(url, json=body, headers={**headers, "Idempotency-Key": key})
                if response.status_code < 300:
                    return dict(response.json())
                self.ledger.errors[f"{what} {response.status_code}"] += 1
                if response.status_code < 500 and response.status_code not in (408, 409, 425, 429):
                    raise RuntimeError(f"{what} refused with {response.status_code}: {response.text[:300]}")
            except httpx.TransportError:
                self.ledger.errors[f"{what} unreachable"] += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not acknowledged within {timeout_s} s")
            await asyncio.sleep(0.5)

    async def follow_arrivals(self, bootstrap: str, stop: asyncio.Event) -> None:
        """When intake recorded each arrival (``ce_time`` of its ``arrival.registered``), read from the
        headers alone: an arrival's latency counts from there, not from the client's acknowledgement,
        which comes late on busy cores (a case could be visible before its arrival was acknowledged)."""
        await _follow(bootstrap, topics.ARRIVALS.name, stop, self._arrival_record)

    def _arrival_record(self, record: Any) -> None:
        headers = dict(record.headers)
        if headers.get("ce_type", b"").endswith(b".arrival.registered.v1"):
            at = dt.datetime.fromisoformat(headers["ce_time"].decode()).timestamp()
            arrival = headers["ce_subject"].decode()
            self.ledger.recorded.setdefault(arrival, at)
            self.ledger.relayed.setdefault(arrival, record.timestamp / 1000)

    # --- counsellors ---------------------------------------------------------------------------------

    async def follow_cases(self, bootstrap: str, stop: asyncio.Event) -> None:
        """Every case.opened on the cases topic: when it became visible, and the counsellor's work on it."""
        await _follow(bootstrap, topics.CASES.name, stop, self._case_record)

    def _case_record(self, record: Any) -> None:
        headers = {k: v.decode() for k, v in record.headers}
        if not headers.get("ce_type", "").endswith(".case.opened.v1"):
            return
        event = json.loads(record.value)
        arrival = event.get("arrival_id")
        if arrival is None or arrival in self.ledger.cases:
            return
        opened = dt.datetime.fromisoformat(headers["ce_time"]).timestamp()
        self.ledger.cases[arrival] = (event["case_id"], event["ags"], opened)
        draw = random.Random(arrival).random()
        if draw < 0.5:
            self.work.put_nowait(("consultation", event["case_id"], event["ags"], event["provider_id"]))
        if draw < 0.15:
            self.work.put_nowait(("goal", event["case_id"], event["ags"], event["provider_id"]))
        if draw < 0.08:
            partner = WEBHOOK_PARTNER if draw < 0.04 else KAFKA_PARTNER
            self.work.put_nowait((partner, event["case_id"], event["ags"], event["provider_id"]))

    async def counsellor(self, stop: asyncio.Event) -> None:
        while not (stop.is_set() and self.work.empty()):
            try:
                kind, case_id, ags, provider = await asyncio.wait_for(self.work.get(), timeout=0.5)
            except TimeoutError:
                continue
            try:
                await self._act(kind, case_id, ags, provider)
            except Exception as failure:  # counted, the day goes on
                self.ledger.errors[f"{kind}: {type(failure).__name__}"] += 1

    def _casework(self, case_id: str) -> str:
        replicas = self.urls.casework
        return replicas[hash(case_id) % len(replicas)]

    async def _act(self, kind: str, case_id: str, ags: str, provider: str) -> None:
        headers = self.counsellors.get((provider, ags))
        if headers is None:  # one token per counsellor: signing one costs more than the request
            headers = self.counsellors[(provider, ags)] = token("counsellor", provider_id=provider, ags=[ags])
        base = f"{self._casework(case_id)}/v1/cases/{case_id}"
        today = dt.date.today().isoformat()
        if kind == "consultation":
            body = {
                "held_on": today,
                "duration_minutes": 45,
                "type": "erstgespraech",
                "channel": "persoenlich",
                "handlungsfelder": ["sprache"],
            }
            answer = await self._until_acknowledged("consultation", f"{base}/consultations", body, headers)
            self.ledger.consultations.add(str(answer.get("consultation_id", uuid.uuid4())))
        elif kind == "goal":
            body = {"handlungsfeld": "sprache", "description": "Integrationskurs beginnen", "set_on": today}
            answer = await self._until_acknowledged("goal", f"{base}/goals", body, headers)
            self.ledger.goals.add(str(answer["goal_id"]))
        else:
            await self._refer(kind, base, ags, headers, today)

    async def _refer(self, partner: str, base: str, ags: str, headers: dict[str, str], today: str) -> None:
        detail = (await self.http.get(base, headers=headers)).raise_for_status().json()
        person = detail["persons"][0]["person_id"]
        programme = PROGRAMME_OF[partner]
        consent = {"person_id": person, "purpose": programme, "partner_id": partner, "granted_on": today}
        await self._until_acknowledged("consent", f"{base}/consents", consent, headers)
        referral = {"person_id": person, "programme": programme, "partner_id": partner}
        answer = await self._until_acknowledged("referral", f"{base}/referrals", referral, headers)
        self.ledger.referrals[str(answer["referral_id"])] = (partner, time.time(), ags)

    # --- partners and statistics ---------------------------------------------------------------------

    async def webhook_answers(self, stop: asyncio.Event) -> None:
        """The webhook partner accepts each referral it received, through the partner API."""
        while not stop.is_set() or len(self.ledger.feedback) < self._webhook_received():
            for referral, (partner, _, _) in list(self.ledger.referrals.items()):
                if (
                    partner != WEBHOOK_PARTNER
                    or referral in self.ledger.feedback
                    or referral not in self.ledger.received
                ):
                    continue
                replicas = self.urls.referrals
                url = f"{replicas[hash(referral) % len(replicas)]}/v1/partner/referrals/{referral}/feedback"
                try:
                    await self._until_acknowledged(
                        "feedback", url, {"outcome": "accepted"}, self.webhook_partner, timeout_s=120
                    )
                    self.ledger.feedback.add(referral)
                except (RuntimeError, TimeoutError) as failure:
                    self.ledger.errors[f"feedback: {failure}"[:80]] += 1
                    self.ledger.feedback.add(referral)
            await asyncio.sleep(1)

    def _webhook_received(self) -> int:
        return sum(
            1
            for r, (p, _, _) in self.ledger.referrals.items()
            if p == WEBHOOK_PARTNER and r in self.ledger.received
        )

    async def read_statistics(self, stop: asyncio.Event) -> None:
        url = f"{self.urls.statistics}/v1/indicators/consultations_by_type?region=08"
        while not stop.is_set():
            try:
                if (await self.http.get(url, headers=self.reader)).status_code == 200:
                    self.ledger.statistics_reads += 1
            except httpx.TransportError:
                self.ledger.errors["statistics unreachable"] += 1
            await asyncio.sleep(2)

    async def settle(self, timeout_s: float = 300) -> None:
        """Every started request acknowledged (or failed for good) before the counting starts."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout_s)


async def _follow(bootstrap: str, topic: str, stop: asyncio.Event, on_record: Callable[[Any], None]) -> None:
    """Read ``topic`` from its start (no group), handing each record to ``on_record``, until ``stop``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    on_record(record)
    finally:
        await consumer.stop()
