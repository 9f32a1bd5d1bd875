"""Intake benchmark: batch registrations until durable in the outbox; single registrations' latency meanwhile.

    ./dev run python bench/intake.py [--arrivals 100000] [--workers 6] [--relay process|inline]
                                     [--kafka shared]

Not a test and never in CI. It starts PostgreSQL (deploy/local, a fresh database) and by default a private
Kafka broker on port 19392 (so the shared broker's topics are not flooded), runs intake under uvicorn as a
separate process, generates realistic households (sizes, names, nationalities, partial birth dates)
population-weighted over the municipalities of Baden-Württemberg, and pushes them through
``POST /v1/arrivals/batch`` (1,000 per request, one Kreis authority per request). A 2xx means the
arrivals and their events are committed in the outbox. Meanwhile single registrations are issued
concurrently and their latency recorded. Figures go to stdout and bench/results/intake.json.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from wegweiser.common import devtokens
from wegweiser.common.regions import catalogue
from wegweiser.common.testing.infra import fresh_database

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "intake.json"
PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:55432/postgres"
PRIVATE_KAFKA_PORT = 19392

# Household sizes of allocated households (our assumption: many single adults, families of 3-6).
SIZES = [1, 2, 3, 4, 5, 6, 7]
SIZE_WEIGHTS = [44, 14, 12, 13, 9, 5, 3]
NATIONALITIES = [("UA", 30), ("SY", 18), ("AF", 16), ("TR", 12), ("IQ", 6), ("GE", 4), ("IR", 4), ("NG", 3),
                 ("ER", 2), ("SO", 2), ("RU", 2), ("XX", 1)]  # fmt: skip
# Family names as stem + ending, given names from lists: enough variety that look-alikes are rare,
# as in real lists (a few per thousand), while common names still meet in the duplicate index.
NAMES = {
    "UA": (["Kovalen", "Shevchen", "Bondaren", "Tkachen", "Kravchen", "Oliin", "Melnych", "Boichen", "Lysen",
            "Moroz", "Pavlen", "Savchen", "Ruden", "Marchen", "Petren", "Klymen", "Hnatiu", "Zinchen"],
           ["ko", "yk", "uk", "chuk", "ets", "iak"],
           ["Olena", "Oksana", "Iryna", "Oleksandr", "Andrii", "Dmytro", "Nataliia", "Yulia", "Maksym",
            "Taras", "Svitlana", "Bohdan", "Halyna", "Serhii", "Viktoriia", "Yaroslav", "Larysa", "Mykola"],
           ["uk", "ru"]),
    "SY": (["Al-Hass", "Khal", "Ibrah", "Mahm", "Darw", "Sal", "Nass", "Hadd", "Kho", "Sabb", "Jabb", "Ham",
            "Zaid", "Aww", "Qass", "Mans"],
           ["an", "il", "im", "oud", "ish", "eh", "er", "ad"],
           ["Rania", "Omar", "Lina", "Ahmad", "Yara", "Mohammed", "Hala", "Karim", "Nour", "Rami", "Dima",
            "Samer", "Reem", "Bashar", "Maya", "Tarek", "Aya", "Fadi", "Huda"],
           ["ar", "ku"]),
    "AF": (["Ahm", "Kar", "Rah", "Hoss", "Sult", "Noor", "Pop", "Saf", "Stan", "Ward", "Jal", "Nazar", "Hak"],
           ["adi", "imi", "eini", "ani", "zai", "khel", "yar"],
           ["Farid", "Zahra", "Mustafa", "Fatima", "Habib", "Mariam", "Samir", "Nasrin", "Wahid", "Parwana",
            "Jawad", "Shabnam", "Rahim", "Laila", "Hamid", "Soraya"],
           ["fa", "ps"]),
    "TR": (["Yilm", "Kay", "Dem", "Cel", "Sah", "Yild", "Ayd", "Arsl", "Dog", "Kil", "Asl", "Cet", "Ozt"],
           ["az", "a", "ir", "ik", "in", "iz", "an", "urk"],
           ["Mehmet", "Ayse", "Emre", "Elif", "Can", "Zeynep", "Baran", "Derya", "Hasan", "Merve", "Murat",
            "Esra", "Serkan", "Gul", "Kerem"],
           ["tr", "ku"]),
}  # fmt: skip
DEFAULT_NAMES = (["Okaf", "Tesf", "Abd", "Berid", "Ivan", "Jaf", "Ham", "Moham", "Nwos", "Gebr", "Osm"],
                 ["or", "aye", "i", "ze", "ov", "ari", "id", "madi", "u"],
                 ["Amina", "Daniel", "Sara", "Yusuf", "Grace", "Elias", "Miriam", "David", "Abdi", "Hiwet",
                  "Nino", "Ruth", "Samuel", "Helen"],
                 ["en", "ar"])  # fmt: skip
STATUSES = {"UA": "temporary_protection_24"}


T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.1f}s] {message}", flush=True)


class Population:
    """Municipalities of BW (populated), sampled by population; the Kreis authority allocates."""

    def __init__(self) -> None:
        self.places = [m for m in catalogue().in_land("08") if m.population > 0]
        self.cumulative: list[int] = []
        total = 0
        for m in self.places:
            total += m.population
            self.cumulative.append(total)
        self.total = total
        self.kreis_ags: dict[str, list[str]] = defaultdict(list)
        for m in self.places:
            self.kreis_ags[m.kreis_ags].append(m.ags)

    def sample(self, rng: random.Random) -> tuple[str, str]:
        m = self.places[bisect.bisect_left(self.cumulative, rng.randrange(self.total) + 1)]
        return m.ags, m.kreis_ags


def person(rng: random.Random, role: str, nationality: str, family: str, today: dt.date) -> dict[str, Any]:
    _, _, given, languages = NAMES.get(nationality, DEFAULT_NAMES)
    if role == "child":
        age = rng.randrange(0, 18)
    elif role == "other":
        age = rng.randrange(50, 80)
    else:
        age = rng.randrange(18, 60)
    born = today - dt.timedelta(days=365 * age + rng.randrange(365))
    precision = rng.random()
    dob = born.isoformat() if precision < 0.8 else born.isoformat()[:7] if precision < 0.9 else str(born.year)
    return {
        "role": role,
        "family_name": family,
        "given_names": rng.choice(given) + (f" {rng.choice(given)}" if rng.random() < 0.3 else ""),
        "date_of_birth": dob,
        "sex": rng.choice(["female", "male", "female", "male", "unknown"]),
        "nationalities": [nationality],
        "languages": rng.sample(languages, k=rng.randrange(1, len(languages) + 1)),
        "residence_status": STATUSES.get(
            nationality,
            rng.choice(["asylum_seeker", "recognised_refugee", "subsidiary_protection", "duldung"]),
        ),
    }


def household(rng: random.Random, reference: str, ags: str, today: dt.date) -> dict[str, Any]:
    size = rng.choices(SIZES, SIZE_WEIGHTS)[0]
    nationality = rng.choices([n for n, _ in NATIONALITIES], [w for _, w in NATIONALITIES])[0]
    stems, endings, _, _ = NAMES.get(nationality, DEFAULT_NAMES)
    family = rng.choice(stems) + rng.choice(endings)
    roles = ["head"] + (["partner"] if size > 1 and rng.random() < 0.7 else [])
    roles += ["child"] * (size - len(roles))
    if size > 3 and rng.random() < 0.1:
        roles[-1] = "other"
    return {
        "authority_reference": reference,
        "ags": ags,
        "allocation_date": (today - dt.timedelta(days=rng.randrange(0, 60))).isoformat(),
        "facility": rng.choice(["LEA Ellwangen", "LEA Sigmaringen", "LEA Freiburg", "LEA Karlsruhe", None]),
        "persons": [person(rng, role, nationality, family, today) for role in roles],
    }


def generate(count: int, batch_size: int, seed: int) -> tuple[list[tuple[str, bytes, int, int]], Population]:
    """Batches as (Kreis, body, arrivals, persons): each authority sends its own arrivals, 1,000 at a time."""
    rng = random.Random(seed)
    population = Population()
    today = dt.date.today()
    run = uuid.uuid4().hex[:6]
    by_kreis: dict[str, list[dict[str, Any]]] = defaultdict(list)
    batches: list[tuple[str, bytes, int, int]] = []

    def flush(kreis: str) -> None:
        items = by_kreis.pop(kreis)
        body = orjson.dumps({"arrivals": items})
        batches.append((kreis, body, len(items), sum(len(i["persons"]) for i in items)))

    for n in range(count):
        ags, kreis = population.sample(rng)
        by_kreis[kreis].append(household(rng, f"B{run}-{n}", ags, today))
        if len(by_kreis[kreis]) == batch_size:
            flush(kreis)
    for kreis in list(by_kreis):
        flush(kreis)
    rng.shuffle(batches)
    return batches, population


def start_kafka(state: Path) -> str:
    env = {**os.environ, "WEGWEISER_KAFKA_PORT": str(PRIVATE_KAFKA_PORT), "WEGWEISER_STATE": str(state)}
    subprocess.run([str(REPO / "deploy/local/kafka.sh"), "start"], env=env, check=True)
    return f"127.0.0.1:{PRIVATE_KAFKA_PORT}"


def stop_kafka(state: Path) -> None:
    env = {**os.environ, "WEGWEISER_KAFKA_PORT": str(PRIVATE_KAFKA_PORT), "WEGWEISER_STATE": str(state)}
    subprocess.run([str(REPO / "deploy/local/kafka.sh"), "stop"], env=env, check=False)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


async def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"intake exited with {process.returncode}")
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("intake not ready after 120 s")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    log(f"generating {args.arrivals} households (population-weighted over BW)")
    started = time.perf_counter()
    batches, population = generate(args.arrivals, args.batch_size, args.seed)
    persons_total = sum(b[3] for b in batches)
    log(f"{len(batches)} batches, {persons_total} persons in {time.perf_counter() - started:.1f} s")

    key_dir = Path(tempfile.mkdtemp(prefix="wegweiser-bench-keys-"))
    devtokens.ensure_key_pair(key_dir)
    tokens = {
        kreis: devtokens.mint(
            subject=f"bench-{kreis}",
            roles=["reception_authority"],
            key_dir=key_dir,
            authority_id=f"uab-{kreis}",
            ags=ags,
        )
        for kreis, ags in population.kreis_ags.items()
    }

    await asyncio.to_thread(subprocess.run, [str(REPO / "deploy/local/postgres.sh"), "start"], check=True)
    kafka_state = Path(tempfile.mkdtemp(prefix="wegweiser-bench-kafka-"))
    bootstrap = (
        await asyncio.to_thread(start_kafka, kafka_state) if args.kafka == "private" else "127.0.0.1:9092"
    )
    try:
        async with fresh_database(PG_SERVER) as database_url:
            port = args.port
            env = {
                **os.environ,
                "INTAKE_DATABASE_URL": database_url,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "AUTH_JWKS_URL": (key_dir / "jwks.json").as_uri(),
                "INTAKE_QUOTA_AUTHORITY_PER_S": "1000000",
                "INTAKE_QUOTA_AUTHORITY_BURST": "10000000",
                "INTAKE_QUOTA_AGS_PER_S": "1000000",
                "INTAKE_QUOTA_AGS_BURST": "10000000",
                "LOG_LEVEL": "WARNING",
                # The relay as a process of its own (--relay process) or in a uvicorn worker (inline).
                "INTAKE_OUTBOX_RELAY": "false" if args.relay == "process" else "true",
            }
            command = [
                sys.executable, "-m", "uvicorn", "wegweiser.intake.app:from_environment", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                "--no-access-log", "--log-level", "warning", "--loop", "uvloop" if args.uvloop else "asyncio",
            ]  # fmt: skip
            log(
                f"starting intake: {args.workers} uvicorn worker(s), Kafka {bootstrap}, "
                f"PostgreSQL {database_url}"
            )
            process = subprocess.Popen(command, env=env, cwd=REPO)  # noqa: ASYNC220 - starts, does not wait
            relay = None
            if args.relay == "process":
                relay_command = [sys.executable, "-m", "wegweiser.intake", "relay"]
                if args.relay_nice:
                    relay_command = ["nice", "-n", str(args.relay_nice), *relay_command]
                log(f"starting the outbox relay as its own process (nice {args.relay_nice})")
                relay = subprocess.Popen(relay_command, env=env, cwd=REPO)  # noqa: ASYNC220
            base = f"http://127.0.0.1:{port}"
            try:
                await wait_ready(base, process)
                figures = await load(base, batches, tokens, population, args)
                figures.update(await durable(database_url, figures, drain_timeout_s=args.drain_timeout))
                return figures
            finally:
                stop(process)
                if relay is not None:
                    stop(relay)
    finally:
        if args.kafka == "private":
            stop_kafka(kafka_state)


async def load(
    base: str,
    batches: list[tuple[str, bytes, int, int]],
    tokens: dict[str, str],
    population: Population,
    args: argparse.Namespace,
) -> dict[str, Any]:
    queue: asyncio.Queue[tuple[str, bytes, int, int]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    done = {"arrivals": 0, "persons": 0, "created": 0, "existing": 0, "rejected": 0, "batches": 0}
    latencies: list[float] = []
    batch_latencies: list[float] = []
    loading = asyncio.Event()
    loading.set()
    rng = random.Random(args.seed + 1)
    today = dt.date.today()
    timeout = httpx.Timeout(120)
    limits = httpx.Limits(max_connections=args.senders + args.single_concurrency + 2)

    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:

        async def sender() -> None:
            while True:
                try:
                    kreis, body, arrivals, persons = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                sent = time.perf_counter()
                response = await client.post(
                    "/v1/arrivals/batch",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {tokens[kreis]}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": uuid.uuid4().hex,
                    },
                )
                batch_latencies.append(time.perf_counter() - sent)
                if response.status_code != 200:
                    raise RuntimeError(f"batch refused: {response.status_code} {response.text[:500]}")
                result = response.json()
                done["created"] += result["created"]
                done["existing"] += result["existing"]
                done["rejected"] += result["rejected"]
                done["arrivals"] += arrivals
                done["persons"] += persons
                done["batches"] += 1

        async def single(worker: int) -> None:
            n = 0
            while loading.is_set():
                ags, kreis = population.sample(rng)
                body = household(rng, f"S{worker}-{uuid.uuid4().hex[:12]}-{n}", ags, today)
                n += 1
                sent = time.perf_counter()
                response = await client.post(
                    "/v1/arrivals", json=body, headers={"Authorization": f"Bearer {tokens[kreis]}"}
                )
                if response.status_code != 201:
                    raise RuntimeError(f"single refused: {response.status_code} {response.text[:500]}")
                if loading.is_set():
                    latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(args.single_pause)

        log(
            f"load: {len(batches)} batches by {args.senders} senders, "
            f"{args.single_concurrency} single clients"
        )
        singles = [asyncio.create_task(single(i)) for i in range(args.single_concurrency)]
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(args.senders)))
        elapsed = time.perf_counter() - started
        loading.clear()
        await asyncio.gather(*singles)

    assert done["rejected"] == 0, done
    singles_count = len(latencies)
    figures: dict[str, Any] = {
        "arrivals_per_s": round(done["arrivals"] / elapsed, 1),
        "persons_per_s": round(done["persons"] / elapsed, 1),
        "single_p50_ms": round(1000 * percentile(latencies, 50), 1),
        "single_p99_ms": round(1000 * percentile(latencies, 99), 1),
        "arrivals": done["arrivals"],
        "persons": done["persons"],
        "seconds": round(elapsed, 2),
        "batches": done["batches"],
        "batch_size": args.batch_size,
        "batch_p50_ms": round(1000 * percentile(batch_latencies, 50), 1),
        "batch_p99_ms": round(1000 * percentile(batch_latencies, 99), 1),
        "singles": singles_count,
        "singles_per_s": round(singles_count / elapsed, 1),
        "created": done["created"],
        "existing": done["existing"],
    }
    log(
        f"{done['arrivals']} arrivals / {done['persons']} persons in {elapsed:.2f} s: "
        f"{figures['arrivals_per_s']} arrivals/s, {figures['persons_per_s']} persons/s; "
        f"{singles_count} singles p50 {figures['single_p50_ms']} ms p99 {figures['single_p99_ms']} ms"
    )
    return figures


async def durable(database_url: str, figures: dict[str, Any], *, drain_timeout_s: float) -> dict[str, Any]:
    """What PostgreSQL holds after the last 2xx: every acknowledged arrival and its two events.

    Then how long the relay takes to publish the rest of the outbox (the load has stopped by then).
    """
    engine = create_async_engine(database_url)
    unpublished = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    try:
        async with engine.connect() as conn:
            arrivals = (await conn.execute(text("SELECT count(*) FROM arrivals"))).scalar_one()
            outbox = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
            published = outbox - (await conn.execute(unpublished)).scalar_one()
            flags = (await conn.execute(text("SELECT count(*) FROM duplicate_flags"))).scalar_one()
        started = time.perf_counter()
        drain_s: float | None = None
        while time.perf_counter() - started < drain_timeout_s:
            async with engine.connect() as conn:
                if (await conn.execute(unpublished)).scalar_one() == 0:
                    drain_s = round(time.perf_counter() - started, 1)
                    break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    log(f"relay: {published} of {outbox} events published when the load ended; all {drain_s} s later")
    expected = figures["arrivals"] + figures["singles"]
    log(
        f"durable: {arrivals} arrivals (acknowledged ≥ {expected}), {outbox} outbox events, "
        f"{flags} duplicate flags"
    )
    if arrivals < expected or outbox < 2 * arrivals:
        raise RuntimeError("acknowledged arrivals or events are missing from the database")
    return {
        "durable_arrivals": arrivals,
        "outbox_events": outbox,
        "published_to_kafka_at_end": published,
        "relay_drain_s": drain_s,
        "duplicate_flags": flags,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arrivals", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=6, help="uvicorn worker processes")
    parser.add_argument("--senders", type=int, default=4, help="concurrent batch requests")
    parser.add_argument("--single-concurrency", type=int, default=2, help="concurrent single registrations")
    parser.add_argument(
        "--single-pause", type=float, default=0.02, help="pause between a client's singles (s)"
    )
    parser.add_argument("--kafka", choices=["private", "shared"], default="private")
    parser.add_argument("--uvloop", action="store_true", help="use uvloop if installed")
    parser.add_argument(
        "--relay",
        choices=["process", "inline"],
        default="process",
        help="outbox relay as its own process (INTAKE_OUTBOX_RELAY=false on the workers) or in a worker",
    )
    parser.add_argument("--relay-nice", type=int, default=19, help="nice value of the relay process")
    parser.add_argument(
        "--drain-timeout", type=float, default=300, help="how long to wait for the relay after the load (s)"
    )
    parser.add_argument("--port", type=int, default=18401)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    figures.update(
        {
            "workers": args.workers,
            "relay": args.relay,
            "relay_nice": args.relay_nice,
            "senders": args.senders,
            "single_concurrency": args.single_concurrency,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": "./dev run python bench/intake.py " + " ".join(sys.argv[1:]),
        }
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    log(f"written {RESULTS.relative_to(REPO)}")
    print(
        json.dumps(
            {k: figures[k] for k in ("arrivals_per_s", "persons_per_s", "single_p50_ms", "single_p99_ms")}
        )
    )


if __name__ == "__main__":
    main()
