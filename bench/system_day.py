"""system-day: a day of Baden-Württemberg through all four services, quiet and under a storm of faults.

Real Kafka and PostgreSQL from the project's scripts (each run on a broker and a cluster of its own), the
four services as processes from their normal entry points (two replicas of casework and of referrals,
intake's relay apart), the shipped example partners (webhook and Kafka topic). The load goes through the
APIs (``systemday.day``); each run begins with a warm-up (``--warm-up-s``), left out of the latency
figures. The *quiet* run is the day alone. The *storm* run is the same day with the same
seed: first a flood (Stuttgart at 50 times its share, and one municipality whose events all fail in
casework through ``CASEWORK_FAULT_FAIL_AGS``), then, with the flood going on, every service process is
SIGKILLed (each three times, replicas included), the broker restarted twice and PostgreSQL once; the
flood goes on until the storm has brought 50,000 arrivals (``--storm-arrivals``). Then
everything is reconciled, the failing municipality's dead letters are replayed with ``wegweiser dlq
replay`` once the fault is off, and reconciled again.

    ./dev run python bench/system_day.py                  # the full day: about 90 minutes
    ./dev run python bench/system_day.py --short          # the CI version: one storm of about a minute

Writes ``bench/results/system-day.json`` (``--out`` elsewhere). Never run in CI as a benchmark; the CI
test runs ``--short`` and checks that nothing was lost or counted twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from systemday.cpu import CpuWindow
from systemday.day import KAFKA_PARTNER, STUTTGART, WEBHOOK_PARTNER, Day, Ledger, Urls, token
from systemday.faults import Faults, Lag, partition_for
from systemday.reconcile import settled, statistics_mismatches
from systemday.spans import SpanSink, steps
from systemday.stack import EXAMPLES, Broker, Postgres, Process, Processes, load_yields, log, service

from wegweiser.common import topics
from wegweiser.common.engine.dlq_command import list_entries
from wegweiser.common.testing.infra import free_port, free_ports
from wegweiser.common.trace_flows import arrival_traces, traces_complete_ratio

RESULTS = Path(__file__).resolve().parent / "results" / "system-day.json"
FAILING = "08416041"  # Tübingen: a university town with a steady share of arrivals
REPLICATED = ("casework", "referrals")
# CI's short storm: one kill per service (one replica of each replicated one) and one broker restart.
SHORT_PLAN = ["casework-1", "intake", "referrals-2", "intake-relay", "statistics", "broker"]


class Run:
    """One run (quiet or storm) on a stack of its own."""

    def __init__(self, kind: str, args: argparse.Namespace) -> None:
        self.kind, self.args = kind, args
        self.dir = Path(tempfile.mkdtemp(prefix=f"system-day-{kind}-"))
        self.dir.chmod(0o755)  # PostgreSQL (as its own user under root) must enter it
        self.prefix = f"sday{uuid.uuid4().hex[:6]}"
        self.broker = Broker(self.dir / "kafka", free_ports(3))
        self.postgres = Postgres(
            self.dir if args.own_postgres else None, free_port() if args.own_postgres else 55432
        )
        self.sink = SpanSink()
        self.processes = Processes(self.dir / "logs")
        self.ledger = Ledger()
        self.databases: dict[str, str] = {}
        self.phase = "quiet"
        self.partner_restarts = 0
        self.watching = asyncio.Event()
        self.watchers: list[asyncio.Task[None]] = []

    def env(self) -> dict[str, str]:
        limits = {
            f"INTAKE_QUOTA_{k}": "100000"
            for k in ("AUTHORITY_PER_S", "AUTHORITY_BURST", "AGS_PER_S", "AGS_BURST")
        }
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "WEGWEISER_CONSUMER_GROUP_PREFIX": self.prefix,
            "STATISTICS_PUBLISH_INTERVAL_S": str(self.args.publish_interval),
            "REFERRALS_SEED_CATALOGUE": "false",
            "REFERRALS_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.sink.endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": str(self.args.trace_ratio),
            "LOG_LEVEL": "WARNING",
            **limits,  # the flood must reach the consumers: intake's admission control would stop it
            **{f"{s.upper()}_DATABASE_URL": url for s, url in self.databases.items()},
        }

    async def start_infrastructure(self) -> None:
        log(f"{self.kind}: broker on {self.broker.bootstrap}, PostgreSQL on port {self.postgres.port}")
        self.broker.start()
        self.postgres.start()
        names = {s: f"{self.prefix}_{s}" for s in ("intake", "casework", "referrals", "statistics")}
        urls = await self.postgres.create(*names.values())
        self.databases = {s: urls[name] for s, name in names.items()}

    def start_services(self) -> None:
        env = self.env()
        fault = {"CASEWORK_FAULT_FAIL_AGS": FAILING} if self.kind == "storm" else {}
        add = self.processes.add
        add(service("intake", "intake", free_port(), {**env, "INTAKE_OUTBOX_RELAY": "false"}))
        add(service("intake-relay", "intake", None, env, "relay"))
        for name in REPLICATED:
            for n in (1, 2):
                extra = {**fault} if name == "casework" else {}
                add(service(f"{name}-{n}", name, free_port(), {**env, **extra}))
        add(service("statistics", "statistics", free_port(), env))
        for p in self.processes.processes.values():
            if p.port is not None:
                p.env[f"{p.group_service.upper()}_PORT"] = str(p.port)
        for name in self.processes.processes:
            self.processes.start(name)
        self.processes.wait_ready(*self.processes.processes)
        log(f"{self.kind}: {len(self.processes.processes)} service processes ready")

    def urls(self) -> Urls:
        p = self.processes.processes
        return Urls(
            intake=p["intake"].url,
            casework=[p["casework-1"].url, p["casework-2"].url],
            referrals=[p["referrals-1"].url, p["referrals-2"].url],
            statistics=p["statistics"].url,
        )

    def start_partners(self) -> None:
        """The two partners in the catalogue (Land-wide), then the shipped examples that receive for them."""
        admin = token("admin")
        referrals = self.processes.processes["referrals-1"].url
        webhook_port = free_port()
        specs = [
            {"partner_id": WEBHOOK_PARTNER, "organisation": "Systemtag Webhook", "programmes": ["mbe"],
             "laender": ["08"], "delivery": "webhook", "webhook_url": f"http://127.0.0.1:{webhook_port}/webhooks/{WEBHOOK_PARTNER}"},
            {"partner_id": KAFKA_PARTNER, "organisation": "Systemtag Kafka",
             "programmes": ["integrationskurs"],
             "laender": ["08"], "delivery": "kafka"},
        ]  # fmt: skip
        secret = ""
        for spec in specs:
            created = httpx.post(f"{referrals}/v1/admin/partners", json=spec, headers=admin, timeout=30)
            created.raise_for_status()
            secret = created.json().get("webhook_secret") or secret
        on_line = self.ledger.partner_line
        python = sys.executable
        webhook = [
            python,
            str(EXAMPLES / "webhook_receiver.py"),
            "--port",
            str(webhook_port),
            "--secret",
            secret,
        ]
        self.processes.add(
            Process(
                "partner-webhook", webhook, {}, None, on_line=lambda s, at: on_line(WEBHOOK_PARTNER, s, at)
            )
        )
        partner_token = token("partner", partner_id=KAFKA_PARTNER)["Authorization"].removeprefix("Bearer ")
        consumer = [python, str(EXAMPLES / "partner_consumer.py"), "--partner", KAFKA_PARTNER,
            "--bootstrap-servers", self.broker.bootstrap, "--api", referrals,
            "--token", partner_token]  # fmt: skip
        self.processes.add(
            Process("partner-kafka", consumer, {}, None, on_line=lambda s, at: on_line(KAFKA_PARTNER, s, at))
        )
        self.processes.start("partner-webhook")
        self.processes.start("partner-kafka")
        self._wait_for_catalogue(admin)

    def _wait_for_catalogue(self, admin: dict[str, str]) -> None:
        """Casework offers a partner once the catalogue event reached both replicas."""
        for url in self.urls().casework:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                catalogue = httpx.get(
                    f"{url}/v1/catalogue",
                    headers=token("counsellor", provider_id="x", ags=["08111000"]),
                    timeout=10,
                )
                known = (
                    {p["partner_id"] for p in catalogue.json().get("partners", [])}
                    if catalogue.status_code == 200
                    else set()
                )
                if {WEBHOOK_PARTNER, KAFKA_PARTNER} <= known:
                    break
                time.sleep(1)
            else:
                raise TimeoutError(f"casework at {url} never saw the partners")

    def restart_exited_partners(self) -> None:
        """A partner's process that ended is started again, as its own supervisor would (counted)."""
        for name in ("partner-webhook", "partner-kafka"):
            p = self.processes.processes.get(name)
            if p is not None and p.popen is not None and p.popen.poll() is not None:
                log(f"{name} exited with {p.popen.returncode}; starting it again")
                self.partner_restarts += 1
                self.processes.start(name)

    async def stop(self, *, failed: bool = False) -> None:
        """Stop everything; the logs and state stay after a failed run (its error names a log there)."""
        self.processes.stop_all()
        self.sink.close()
        self.broker.stop()
        if self.args.own_postgres:
            self.postgres.remove()
        elif self.databases:
            await self.postgres.drop(*(url.rsplit("/", 1)[-1] for url in self.databases.values()))
        if failed:
            log(f"{self.kind}: the run failed; its logs and state stay in {self.dir}")
        elif not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


async def drive(run: Run) -> dict[str, Any]:
    """The day's load; in the storm, the flood from the start and the faults after ``--flood-minutes``."""
    args = run.args
    storm = run.kind == "storm"
    day = Day(
        run.urls(),
        run.ledger,
        seed=args.seed,
        rate=args.rate,
        flood_factor=args.flood_factor,
        phase=lambda: run.phase,
    )
    stop, workers_stop = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    background = [
        loop.create_task(day.webhook_answers(workers_stop)),
        loop.create_task(day.read_statistics(workers_stop)),
        *(loop.create_task(day.counsellor(workers_stop)) for _ in range(args.counsellors)),
    ]
    # Cases and partners are watched until the end of the run: the replay opens cases after the load.
    run.watchers = [
        loop.create_task(day.follow_cases(run.broker.bootstrap, run.watching)),
        loop.create_task(day.follow_arrivals(run.broker.bootstrap, run.watching)),
        loop.create_task(progress(run, run.watching)),
    ]
    run.phase = "warmup"  # the fresh processes' first statements, connections and caches: not measured
    arrivals = loop.create_task(day.arrivals(stop, flood=lambda: storm))
    started = time.monotonic()
    faults = None
    await asyncio.sleep(args.warm_up_s)
    run.phase = "flood" if storm else "quiet"
    cpu = CpuWindow({name: p.popen.pid for name, p in run.processes.processes.items() if p.popen})
    cpu.start()
    await asyncio.sleep(args.flood_minutes * 60)  # the flood; the quiet run's same minutes
    cpu.stop()
    if storm:
        run.phase = "faults"
        faults = Faults(
            run.processes,
            run.broker,
            run.postgres,
            Lag(run.broker.bootstrap, run.prefix, flooded=STUTTGART),
            run.databases,
        )
        rng = random.Random(args.seed)
        plan = (
            SHORT_PLAN
            if args.short
            else faults.plan(
                rng,
                kills_each=args.kills_each,
                broker_restarts=args.broker_restarts,
                postgres_restarts=args.postgres_restarts if args.own_postgres else 0,
            )
        )
        await faults.run(plan, rng, stop=lambda: False)
        run.phase = "after_faults"  # the flood goes on, with every fault recovered
    remaining = args.minutes * 60 - (time.monotonic() - started)
    await asyncio.sleep(max(0.0, remaining))
    while storm and len(run.ledger.arrivals) < args.storm_arrivals:  # noqa: ASYNC110 - the load's count
        await asyncio.sleep(1)
    stop.set()
    await arrivals
    log(
        f"{run.kind}: load ended after {time.monotonic() - started:.0f} s; "
        f"{len(run.ledger.arrivals)} arrivals so far"
    )
    await day.settle()
    await wait_for_cases(run, held_back={FAILING} if storm else set())
    while not day.work.empty():  # noqa: ASYNC110 - the counsellors finish the cases that opened last
        await asyncio.sleep(1)
    await asyncio.sleep(10)  # the partners receive the last referrals
    workers_stop.set()
    await asyncio.gather(*background, return_exceptions=True)
    await day.http.aclose()
    return {
        "day_s": round(time.monotonic() - started),
        "recoveries": faults.recoveries if faults else [],
        f"cpu_cores_{'flood' if storm else 'quiet'}": cpu.shares(),
    }


async def progress(run: Run, stop: asyncio.Event) -> None:
    """A line every 15 s: what the day has done so far."""
    while not stop.is_set():
        for _ in range(30):
            await asyncio.sleep(0.5)
            run.restart_exited_partners()
        ledger = run.ledger
        log(
            f"{run.kind} ({run.phase}): {len(ledger.arrivals)} arrivals, {len(ledger.cases)} cases, "
            f"{len(ledger.consultations)} consultations, {len(ledger.referrals)} referrals "
            f"({len(ledger.received)} received by the partners)"
        )


async def wait_for_cases(run: Run, held_back: set[str], timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        expected = [a for a, (ags, _, _) in run.ledger.arrivals.items() if ags not in held_back]
        missing = sum(1 for a in expected if a not in run.ledger.cases)
        if not missing:
            return
        log(f"{run.kind}: waiting for {missing} cases")
        await asyncio.sleep(5)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)


def is_other(ags: str) -> bool:
    """The municipalities whose latency counts: neither the flooding nor the failing one."""
    return ags not in (STUTTGART, FAILING)


def partition_of(ags: str) -> int:
    """The arrivals topic's partition of an AGS key (the Kafka clients' murmur2 partitioner)."""
    return partition_for(ags, topics.ARRIVALS.partitions)


def latencies(run: Run, *phases: str) -> dict[str, Any]:
    """Arrival recorded by intake → case visible for the municipalities other than the two; split by
    whether they share Stuttgart's partition (the flood's queue) or not (the flood's CPU only). The
    figures from the client's acknowledgement (the first two rounds' measure) are kept beside them."""
    flooded = partition_of(STUTTGART)
    ledger = run.ledger
    to_case: dict[bool, list[float]] = {True: [], False: []}
    from_ack: list[float] = []
    stages: dict[str, list[float]] = {"recorded_to_relayed": [], "relayed_to_case": []}
    recorded_known = 0
    for a, (ags, acked, p) in ledger.arrivals.items():
        if p in phases and is_other(ags) and a in ledger.cases:
            opened = ledger.cases[a][2]
            start = ledger.recorded.get(a, acked)
            recorded_known += a in ledger.recorded
            if a in ledger.relayed:
                stages["recorded_to_relayed"].append(max(0.0, ledger.relayed[a] - start) * 1000)
                stages["relayed_to_case"].append(max(0.0, opened - ledger.relayed[a]) * 1000)
            to_case[partition_of(ags) == flooded].append(max(0.0, opened - start) * 1000)
            from_ack.append(max(0.0, opened - acked) * 1000)
    every = to_case[True] + to_case[False]
    return {
        "arrivals_measured": len(every),
        "recorded_time_known": recorded_known,  # of those measured; the others count from the acknowledgement
        "arrival_to_case_p50_ms": percentile(every, 50),
        "arrival_to_case_p99_ms": percentile(every, 99),
        "on_stuttgarts_partition": {"arrivals": len(to_case[True]), "p99_ms": percentile(to_case[True], 99)},
        "on_other_partitions": {"arrivals": len(to_case[False]), "p99_ms": percentile(to_case[False], 99)},
        "from_acknowledgement": {"p50_ms": percentile(from_ack, 50), "p99_ms": percentile(from_ack, 99)},
        # where the time goes: intake's outbox and relay, then Kafka and casework
        **{
            stage: {"p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99)}
            for stage, values in stages.items()
        },
    }


def referral_latency(run: Run) -> dict[str, Any]:
    """Referral acknowledged by casework → its partner printed it, over the whole run."""
    to_partner = [
        max(0.0, run.ledger.received[r] - at) * 1000
        for r, (_, at, ags) in run.ledger.referrals.items()
        if is_other(ags) and r in run.ledger.received
    ]
    return {
        "referrals_measured": len(to_partner),
        "referral_to_partner_p50_ms": percentile(to_partner, 50),
        "referral_to_partner_p99_ms": percentile(to_partner, 99),
    }


async def dead_letters_replayed(run: Run) -> dict[str, Any]:
    """The failing municipality's arrivals: in casework's DLQ with reasons, replayed once the fault is off."""
    group = f"{run.prefix}-casework"
    failing = {a for a, (ags, _, _) in run.ledger.arrivals.items() if ags == FAILING}
    deadline = time.monotonic() + 240  # five attempts with back-off take about 40 s
    while True:
        entries = await list_entries(bootstrap_servers=run.broker.bootstrap, group=group, ags=FAILING)
        dead = {e.subject for e in entries if e.kind == "dead"}
        if failing <= dead or time.monotonic() > deadline:
            break
        log(f"failing {FAILING}: {len(failing - dead)} arrivals not dead-lettered yet")
        await asyncio.sleep(5)
    reasons = {e.meta.error_message for e in entries if e.kind == "dead" and e.meta.error_message}
    log(
        f"failing {FAILING}: {len(failing)} arrivals, {len(dead)} dead-lettered, "
        f"{len(entries) - len(dead)} parked"
    )
    for name in ("casework-1", "casework-2"):  # the fault switched off: both replicas restarted without it
        run.processes.processes[name].env.pop("CASEWORK_FAULT_FAIL_AGS", None)
        run.processes.kill(name)
        run.processes.start(name)
    run.processes.wait_ready("casework-1", "casework-2")
    command = [
        str(Path(sys.executable).parent / "wegweiser"),
        "dlq",
        "replay",
        "--bootstrap-servers",
        run.broker.bootstrap,
        "--group",
        group,
        "--ags",
        FAILING,
    ]
    replay = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
    log(f"wegweiser dlq replay: {replay.stdout.strip().splitlines()[-1:] or replay.stderr.strip()[-300:]}")
    return {
        "failing_ags": FAILING,
        "failing_arrivals": len(failing),
        "dead_lettered": len(dead),
        "parked": len(entries) - len(dead),
        "not_in_dlq": len(failing - {e.subject for e in entries}),
        "reasons": sorted(reasons)[:3],
        "replay_exit_code": replay.returncode,
    }


def tally(found: dict[str, Any]) -> tuple[int, int, dict[str, int]]:
    lost = sum(len(v) for v in found["lost"].values())
    double = sum(len(v) for v in found["double"].values())
    detail = {f"lost.{k}": len(v) for k, v in found["lost"].items() if v}
    detail |= {f"double.{k}": len(v) for k, v in found["double"].items() if v}
    return lost, double, detail


async def one_run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    run = Run(kind, args)
    try:
        await run.start_infrastructure()
        run.start_services()
        run.start_partners()
        driven = await drive(run)
        storm = kind == "storm"
        first = await settled(run.ledger, run.databases, {FAILING} if storm else set(), timeout_s=120)
        out: dict[str, Any] = {
            "kind": kind,
            **driven,
            "arrivals": len(run.ledger.arrivals),
            "persons": run.ledger.persons,
        }
        if storm:
            out["before_replay"] = dict(zip(("lost", "double_counted", "detail"), tally(first), strict=True))
            out["dead_letters"] = await dead_letters_replayed(run)
            await wait_for_cases(run, held_back=set(), timeout_s=300)
        final = await settled(run.ledger, run.databases, set(), timeout_s=120)
        out["lost"], out["double_counted"], out["detail"] = tally(final)
        mismatches, figures = await statistics_mismatches(
            run.urls().statistics, token("statistics_reader"), run.databases, timeout_s=120
        )
        out |= {"statistics_mismatches": mismatches, "statistics": figures}
        measured = "flood" if storm else "quiet"
        phases = {"flood", "faults", "after_faults"} if storm else {"quiet"}
        out |= {"latency_" + phase: latencies(run, phase) for phase in phases}
        if run.args.warm_up_s:  # none in --short: no empty warm-up entries
            out["latency_warmup"] = latencies(run, "warmup")
            out[f"latency_{measured}_with_warmup"] = latencies(run, "warmup", measured)
        out |= counted(run) | referral_latency(run) | {"partner_restarts": run.partner_restarts}
        run.watching.set()
        await asyncio.gather(*run.watchers, return_exceptions=True)
        await asyncio.sleep(6)  # the last spans leave the processes' export queues
        run.processes.stop_all()
        spans = run.sink.take()
        sampled = [a for a in arrival_traces(spans) if a in run.ledger.arrivals]
        arrivals = run.ledger.arrivals
        out |= {
            "traced_arrivals": len(sampled),
            "traces_complete_ratio": round(traces_complete_ratio(spans, sampled), 4),
            "steps_of_others": steps(
                spans,
                lambda a: arrivals[a][2] if a in arrivals and is_other(arrivals[a][0]) else None,
                percentile,
            ),
        }
    except BaseException:
        await run.stop(failed=True)
        raise
    await run.stop()
    return out


def counted(run: Run) -> dict[str, Any]:
    ledger = run.ledger
    return {
        "cases": len(ledger.cases),
        "consultations": len(ledger.consultations),
        "goals": len(ledger.goals),
        "referrals": len(ledger.referrals),
        "partner_redeliveries": sum(n - 1 for n in ledger.receipts.values() if n > 1),
        "webhook_feedback": len(ledger.feedback),
        "statistics_reads": ledger.statistics_reads,
        "client_retries": dict(ledger.errors.most_common(12)),
    }


def summary(runs: dict[str, dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    storm = runs["storm"]
    quiet = runs.get("quiet")
    quiet_p99 = quiet["latency_quiet"]["arrival_to_case_p99_ms"] if quiet else None
    storm_p99 = storm["latency_flood"]["arrival_to_case_p99_ms"]
    recoveries = [r["recovery_s"] for r in storm["recoveries"]]
    return {
        "benchmark": "system-day",
        "arrivals": storm["arrivals"],
        "lost": sum(r["lost"] for r in runs.values()),
        "double_counted": sum(r["double_counted"] for r in runs.values()),
        "statistics_mismatches": sum(r["statistics_mismatches"] for r in runs.values()),
        "kills": sum(1 for r in storm["recoveries"] if r["target"] not in ("broker", "postgres")),
        "broker_restarts": sum(1 for r in storm["recoveries"] if r["target"] == "broker"),
        "postgres_restarts": sum(1 for r in storm["recoveries"] if r["target"] == "postgres"),
        "quiet_arrival_to_case_p99_ms": quiet_p99,
        "storm_arrival_to_case_p99_ms": storm_p99,
        "other_ags_p99_ratio": ratio(storm_p99, quiet_p99),
        "other_ags_p99_ratio_with_warmup": ratio_with_warmup(quiet, storm),
        "referral_to_partner_p99_ms": storm["referral_to_partner_p99_ms"],
        "quiet_referral_to_partner_p99_ms": quiet["referral_to_partner_p99_ms"] if quiet else None,
        "recovery_max_s": max(recoveries) if recoveries else None,
        "recovery_median_s": statistics.median(recoveries) if recoveries else None,
        "traces_complete_ratio": min(r["traces_complete_ratio"] for r in runs.values()),
        "dead_lettered_then_replayed": storm["dead_letters"]["dead_lettered"],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
            "load_generator_nice": args.load_nice,
        },
        "command": " ".join(["./dev run python bench/system_day.py", *sys.argv[1:]]),
        "runs": runs,
    }


def ratio_with_warmup(quiet: dict[str, Any] | None, storm: dict[str, Any]) -> float | None:
    """The ratio had the warm-up been measured too: shown beside the goal's figure, not instead of it."""
    if quiet is None or "latency_flood_with_warmup" not in storm:  # --warm-up-s 0: none measured
        return None
    return ratio(
        storm["latency_flood_with_warmup"]["arrival_to_case_p99_ms"],
        quiet["latency_quiet_with_warmup"]["arrival_to_case_p99_ms"],
    )


def ratio(storm_p99: float | None, quiet_p99: float | None) -> float | None:
    """Others' p99 in the flood ÷ in the quiet run (None when either has no arrivals measured)."""
    return round(storm_p99 / quiet_p99, 2) if quiet_p99 and storm_p99 else None


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument(
        "--minutes", type=float, default=10, help="length of the day (the storm lasts at least this)"
    )
    cli.add_argument(
        "--flood-minutes",
        type=float,
        default=None,
        help="the storm's flood before the faults begin (default: --minutes, as long as the quiet run)",
    )
    cli.add_argument(
        "--warm-up-s",
        type=float,
        default=30,
        help="the load's first seconds, left out of the latency figures (both runs; reconciled like all)",
    )
    cli.add_argument(
        "--rate",
        type=float,
        default=4.5,
        help="arrivals per second on a normal day (the storm: about 3.8 times)",
    )
    cli.add_argument(
        "--flood-factor", type=float, default=50, help="Stuttgart's share times this in the storm"
    )
    cli.add_argument(
        "--storm-arrivals",
        type=int,
        default=50_000,
        help="the storm's flood goes on, after its faults, until this many arrivals were acknowledged",
    )
    cli.add_argument("--kills-each", type=int, default=3)
    cli.add_argument("--broker-restarts", type=int, default=2)
    cli.add_argument("--postgres-restarts", type=int, default=1)
    cli.add_argument("--counsellors", type=int, default=8, help="counsellors working at once")
    cli.add_argument("--trace-ratio", type=float, default=0.05, help="share of traces sampled")
    cli.add_argument("--publish-interval", type=int, default=30, help="statistics' publication, seconds")
    cli.add_argument("--seed", type=int, default=2026)
    cli.add_argument("--short", action="store_true", help="CI: the storm only, about a minute, one kill each")
    cli.add_argument(
        "--shared-postgres",
        dest="own_postgres",
        action="store_false",
        help="use the tests' cluster (no PostgreSQL restart)",
    )
    cli.add_argument(
        "--load-nice",
        type=int,
        default=10,
        help="niceness of the load generator (this process; the system's processes keep theirs), 0: none",
    )
    cli.add_argument("--keep", action="store_true", help="keep logs and state (printed) after the run")
    cli.add_argument("--out", type=Path, default=RESULTS)
    args = cli.parse_args()
    if args.flood_minutes is None:
        args.flood_minutes = args.minutes
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the broker restarts are expected here
    if not load_yields(args.load_nice):
        args.load_nice = 0
        log("the load generator keeps full CPU priority (lowering its children's niceness needs root)")
    if args.short:
        args.minutes, args.flood_minutes, args.rate, args.publish_interval = 1, 0.25, 3, 5
        args.warm_up_s = 0
        args.storm_arrivals = 0
    runs = {
        kind: asyncio.run(one_run(kind, args)) for kind in (("storm",) if args.short else ("quiet", "storm"))
    }
    figures = summary(runs, args) if not args.short else {**summary_short(runs["storm"]), "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, sort_keys=False) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))
    log(f"written to {args.out}")


def summary_short(storm: dict[str, Any]) -> dict[str, Any]:
    return {
        k: storm[k]
        for k in (
            "arrivals",
            "lost",
            "double_counted",
            "statistics_mismatches",
            "recoveries",
            "detail",
            "dead_letters",
        )
    }


if __name__ == "__main__":
    main()
