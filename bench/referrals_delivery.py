"""Webhook delivery latency of healthy partners while one partner is down (issue 6). Not run in CI.

    ./dev run python bench/referrals_delivery.py [--per-partner 300] [--rate 40] [--down-mode hang|refuse]

Runs the referrals service in-process on the real broker and PostgreSQL (as the integration tests do),
with four healthy webhook partners on a local receiver (127.0.0.1) and, in the second run, a fifth partner
that is down: ``hang`` never answers (every attempt costs the full timeout), ``refuse`` refuses the
connection. Referral requests for all partners are produced at a steady rate, interleaved, over eight
municipalities of the Landkreis Biberach. Latency is end to end: request produced on Kafka → the
healthy partner's endpoint has the signed POST (consume, route, enqueue, worker, HTTP, signature check);
``worker_*`` is the webhook part alone (row committed → 2xx). Prints p50/p99 of both runs and writes
``bench/results/referrals_delivery.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import select
from sqlmodel import col

from wegweiser.common import devtokens
from wegweiser.common.envelope import encode
from wegweiser.common.events import ReferralRequested
from wegweiser.common.regions import catalogue as regions
from wegweiser.common.testing import infra
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import produce
from wegweiser.referrals.app import build
from wegweiser.referrals.db import WebhookDeliveryRow
from wegweiser.referrals.deps import context_of
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import WebhookReceiver, closed_port_url

HEALTHY = 4
SOURCES = {"wegweiser.referrals.requests.v1", "wegweiser.casework.cases.v1"}
AGS = [m.ags for m in regions().in_land("08") if m.kreis_ags == "08426" and m.population > 0][:8]  # Biberach
RESULTS = Path(__file__).parent / "results" / "referrals_delivery.json"


def request(partner_id: str, ags: str) -> ReferralRequested:
    today = dt.date.today()
    return ReferralRequested.model_validate(
        {
            "ags": ags,
            "referral_id": uuid.uuid4(),
            "case_id": uuid.uuid4(),
            "provider_id": "kreis-08111",
            "programme": "psychosozial",
            "partner_id": partner_id,
            "requested_on": today,
            "consent": {"consent_id": uuid.uuid4(), "programme": "psychosozial", "granted_on": today},
            "person": {"person_pseudonym": "p" * 64, "given_names": "Rania", "phone": "0711 1"},
        }
    )


async def no_lag(bootstrap: str, group: str) -> bool:
    """The group has committed up to the end of every partition it reads (the shared topics' history)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        sources = {tp: meta.offset for tp, meta in committed.items() if tp.topic in SOURCES}
        if len({tp.topic for tp in sources}) < len(SOURCES):
            return False
        ends = await consumer.end_offsets(list(sources))
        return all(sources[tp] >= ends[tp] for tp in sources)
    finally:
        await consumer.stop()
        await admin.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_run(*, down: str | None, per_partner: int, rate: float, keys: Path, run: str) -> dict[str, Any]:
    receiver = WebhookReceiver()
    hang = asyncio.Event()  # set only at the end: until then the hanging partner's requests time out
    recording_app = receiver.app

    async def app_with_hang(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/hang"):
            await hang.wait()
        await recording_app(scope, receive, send)

    receiver.app = app_with_hang  # type: ignore[method-assign]
    with infra.kafka_bootstrap() as bootstrap, infra.postgres_url() as pg:
        async with infra.fresh_database(pg) as database_url:
            settings = ReferralsSettings(
                database_url=database_url, kafka_bootstrap_servers=bootstrap, seed_catalogue=False,
                auth_jwks_url=(keys / "jwks.json").as_uri(), consumer_group_prefix=f"bench-{run}",
                webhook_allowed_hosts=("127.0.0.1",),  # the local receiver
            )  # fmt: skip
            admin = {
                "Authorization": "Bearer " + devtokens.mint(subject="bench", roles=["admin"], key_dir=keys)
            }
            app = build(settings)
            async with receiver.serving() as base_url, running(app) as client:
                healthy = [f"bench-{run}-ok{i}" for i in range(HEALTHY)]
                partners = {p: f"{base_url}/{p}" for p in healthy}
                dead = f"bench-{run}-down"
                if down:
                    partners[dead] = f"{base_url}/hang" if down == "hang" else closed_port_url()
                for partner_id, url in partners.items():
                    body = {"partner_id": partner_id, "organisation": f"Bench {partner_id}",
                            "programmes": ["psychosozial"], "kreise": ["08426"], "delivery": "webhook",
                            "webhook_url": url}  # fmt: skip
                    created = (await client.post("/v1/admin/partners", json=body, headers=admin)).json()
                    receiver.secrets[partner_id] = created["webhook_secret"]
                # A new consumer group starts at the beginning of the shared requests topic: let it catch up
                # on every partition we use before the clock starts (one routed request per AGS).
                warm_up = [request(healthy[0], ags) for ags in AGS]
                await produce(bootstrap, *(encode(e) for e in warm_up))

                async def caught_up() -> bool:
                    return len(receiver.received[healthy[0]]) >= len(warm_up)

                await eventually(caught_up, timeout_s=600, what="consumer caught up")
                group = settings.consumer_group("referrals")
                await eventually(
                    lambda: no_lag(bootstrap, group), timeout_s=900, what="no lag on cases/requests"
                )
                receiver.received.clear()
                sent_at: dict[str, float] = {}
                order = [p for _ in range(per_partner) for p in partners]
                batch = max(1, int(rate / 10))
                for i in range(0, len(order), batch):
                    events = [request(p, AGS[(i + j) % len(AGS)]) for j, p in enumerate(order[i : i + batch])]
                    for e in events:
                        sent_at[str(e.referral_id)] = time.monotonic()
                    await produce(bootstrap, *(encode(e) for e in events))
                    await asyncio.sleep(0.1)

                async def healthy_done() -> bool:
                    return sum(len(receiver.received[p]) for p in healthy) >= HEALTHY * per_partner

                await eventually(healthy_done, timeout_s=600, what="all healthy deliveries")
                breaker = context_of(app).worker.breaker_state(dead) if down else None
                async with context_of(app).runtime.sessions() as session:
                    rows = (
                        await session.execute(
                            select(
                                col(WebhookDeliveryRow.created_at), col(WebhookDeliveryRow.delivered_at)
                            ).where(
                                col(WebhookDeliveryRow.partner_id).in_(healthy),
                                col(WebhookDeliveryRow.referral_id).in_([uuid.UUID(k) for k in sent_at]),
                            )
                        )
                    ).all()
                worker_ms = [(d - c).total_seconds() * 1000 for c, d in rows if d is not None]
                hang.set()
    latencies = [
        (r["at"] - sent_at[r["event"]["subject"]]) * 1000
        for p in healthy
        for r in receiver.received[p]
        if r["event"]["subject"] in sent_at
    ]
    return {
        "deliveries": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "down_partner_breaker": breaker,
        "worker_p50_ms": round(statistics.median(worker_ms), 1),
        "worker_p99_ms": round(percentile(worker_ms, 0.99), 1),
    }


async def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--per-partner", type=int, default=300)
    cli.add_argument("--rate", type=float, default=40.0, help="requests per second, all partners together")
    cli.add_argument("--down-mode", choices=["hang", "refuse"], default="hang")
    args = cli.parse_args()
    keys = Path(f"/tmp/wegweiser-bench-keys-{uuid.uuid4().hex[:6]}")
    devtokens.ensure_key_pair(keys)
    run = uuid.uuid4().hex[:6]
    quiet = await one_run(down=None, per_partner=args.per_partner, rate=args.rate, keys=keys, run=f"{run}q")
    noisy = await one_run(down=args.down_mode, per_partner=args.per_partner, rate=args.rate, keys=keys,
                          run=f"{run}n")  # fmt: skip
    result = {
        "healthy_partners": HEALTHY,
        "per_partner": args.per_partner,
        "rate_per_s": args.rate,
        "down_mode": args.down_mode,
        "quiet": quiet,
        "one_partner_down": noisy,
        "quiet_p99_ms": quiet["p99_ms"],
        "noisy_p99_ms": noisy["p99_ms"],
        "p99_ratio": round(noisy["p99_ms"] / quiet["p99_ms"], 2),
        "p50_ratio": round(noisy["p50_ms"] / quiet["p50_ms"], 2),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
