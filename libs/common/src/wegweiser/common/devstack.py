"""``wegweiser dev up``: Kafka, the four services on SQLite, a seeded demo; Ctrl-C stops everything.

The demo has a broker (port 9092) and databases of its own; the tests use another broker (9292, see
``./dev test``), so the demo never shows test events. A service that dies is started again by the
supervisor loop, with a log line, instead of taking the whole stack down.

Also used by the end-to-end tests (``ServiceProcesses``), so the way people run the stack is the way
it is tested.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from wegweiser.common import devtokens

SERVICES = {"intake": 8001, "casework": 8002, "referrals": 8003, "statistics": 8004}
REPO = Path(os.environ.get("WEGWEISER_ROOT", Path(__file__).resolve().parents[5]))
STATE = Path(os.environ.get("WEGWEISER_STATE", Path.home() / ".local" / "state" / "wegweiser"))
RESTART_BACKOFF_S = 5.0


class ServiceProcesses:
    """The four services as child processes on given ports and databases."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        ports: Mapping[str, int],
        log_dir: Path,
        env_of: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """``env_of``: a service's own variables on top of ``env`` (its Kafka login, say)."""
        self.env = dict(env)
        self.env_of = {service: dict(extra) for service, extra in (env_of or {}).items()}
        self.ports = dict(ports)
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, *services: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in services or tuple(self.ports):
            env = {
                **os.environ,
                **self.env,
                **self.env_of.get(service, {}),
                f"{service.upper()}_PORT": str(self.ports[service]),
            }
            log = (self.log_dir / f"{service}.log").open("ab")
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", f"wegweiser.{service}"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            self.started_at[service] = time.monotonic()

    def restart_exited(self, say: Callable[[str], None] = print) -> list[str]:
        """Start again every service whose process has ended, at most once per RESTART_BACKOFF_S.

        Why: in development one crashed or stopped service should come back on its own (its consumer
        group catches up) instead of ending the whole stack.
        """
        restarted = []
        for service, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            if time.monotonic() - self.started_at.get(service, 0.0) < RESTART_BACKOFF_S:
                continue
            log = self.log_dir / f"{service}.log"
            say(f"{service} exited with {process.returncode}; restarting it (log: {log})")
            self.start(service)
            restarted.append(service)
        return restarted

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(self.processes)
        while pending:
            for service in list(pending):
                if self.processes[service].poll() is not None:
                    raise RuntimeError(f"{service} exited; the end of its log:\n{self.log_tail(service)}")
                try:
                    if httpx.get(f"{self.url(service)}/health/ready", timeout=2).status_code == 200:
                        pending.discard(service)
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {s}:\n{self.log_tail(s)}" for s in sorted(pending))
                raise TimeoutError(f"not ready after {timeout_s}s: {', '.join(sorted(pending))}\n{tails}")
            time.sleep(0.3)

    def log_tail(self, service: str, lines: int = 40) -> str:
        """The last lines of a service's log, so a failed start explains itself where it is reported."""
        path = self.log_dir / f"{service}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *services: str, kill: bool = False) -> None:
        for service in services or tuple(self.processes):
            process = self.processes.pop(service, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


DEMO_KAFKA_PORT = 9092
PAGES = {
    "counsellors": f"http://127.0.0.1:{SERVICES['casework']}/login",
    "reception authorities": f"http://127.0.0.1:{SERVICES['intake']}/upload",
    "partners (inbox)": f"http://127.0.0.1:{SERVICES['referrals']}/inbox",
    "ministry and districts": f"http://127.0.0.1:{SERVICES['statistics']}/dashboard",
}


def _kafka(command: str, *, check: bool = True) -> int:
    """Run deploy/local/kafka.sh for the demo's own broker (its own port and state, never the tests')."""
    env = {**os.environ, "WEGWEISER_KAFKA_PORT": str(DEMO_KAFKA_PORT)}
    script = str(REPO / "deploy" / "local" / "kafka.sh")
    return subprocess.run([script, command], check=check, env=env).returncode


DEMO_AUTHORITY = {"authority": "uab-08111", "ags": ["08111000", "08115003"]}
DEMO_COUNSELLOR = {"provider": "kreis-08111", "ags": ["08111000"]}


def demo_tokens() -> dict[str, str]:
    return {
        "reception_authority": devtokens.mint(
            subject="dev-authority", roles=["reception_authority"], authority_id="uab-08111", ags=["08111000"]
        ),
        "counsellor": devtokens.mint(
            subject="dev-counsellor", roles=["counsellor"], provider_id="kreis-08111", ags=["08111000"]
        ),
        "statistics_reader": devtokens.mint(subject="dev-statistics", roles=["statistics_reader"]),
        "admin": devtokens.mint(subject="dev-admin", roles=["admin"]),
    }


DEMO_PERSONS = [  # the household of the demo and of the tests' arrivals
    {
        "role": "head",
        "family_name": "Haddad",
        "given_names": "Rania",
        "date_of_birth": "1988-03",
        "sex": "female",
        "nationalities": ["SY"],
        "languages": ["ar"],
        "residence_status": "recognised_refugee",
    },
    {
        "role": "child",
        "family_name": "Haddad",
        "given_names": "Omar",
        "date_of_birth": "2016",
        "sex": "male",
        "nationalities": ["SY"],
        "languages": ["ar", "de"],
        "residence_status": "recognised_refugee",
    },
]


def seed(stack: ServiceProcesses, tokens: Mapping[str, str]) -> None:
    """A household allocated to Stuttgart, its case, and six consultations (enough to pass suppression)."""
    reference = f"DEMO-{uuid.uuid4().hex[:8]}"
    today = dt.date.today()
    arrival = (
        httpx.post(
            f"{stack.url('intake')}/v1/arrivals",
            headers={"Authorization": f"Bearer {tokens['reception_authority']}"},
            json={
                "authority_reference": reference,
                "ags": "08111000",
                "allocation_date": today.isoformat(),
                "persons": DEMO_PERSONS,
            },
            timeout=10,
        )
        .raise_for_status()
        .json()
    )
    counsellor = {"Authorization": f"Bearer {tokens['counsellor']}"}
    case = _wait_for_case(stack, counsellor, arrival["arrival_id"])
    for i, kind in enumerate(["erstgespraech"] + ["folgeberatung"] * 5):
        httpx.post(
            f"{stack.url('casework')}/v1/cases/{case['case_id']}/consultations",
            headers=counsellor,
            json={
                "held_on": today.isoformat(),
                "duration_minutes": 45 + i,
                "type": kind,
                "channel": "persoenlich",
                "handlungsfelder": ["sprache", "wohnen"],
            },
        ).raise_for_status()
    print(f"seeded: arrival {arrival['arrival_id']} → case {case['case_id']} with 6 consultations")


def _wait_for_case(stack: ServiceProcesses, counsellor: Mapping[str, str], arrival_id: str) -> dict[str, Any]:
    """Casework opens the case from the arrival event."""
    # A new consumer group first works through the topic's history, which on a long-used broker takes a while.
    deadline = time.monotonic() + 180
    while True:
        cases = httpx.get(f"{stack.url('casework')}/v1/cases?ags=08111000", headers=counsellor).json()
        case = next((c for c in cases if c["arrival_id"] == arrival_id), None)
        if case or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    if case is None:
        raise RuntimeError("the demo case was not opened within 180 s; see the casework log")
    return case


def demo_env(data: Path) -> dict[str, str]:
    """The demo's broker (9092, not the tests' 9292) and its SQLite databases in ``data`` (its state folder).

    A ``*_DATABASE_URL`` set in the environment is taken as the user's explicit choice.
    """
    return {
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{DEMO_KAFKA_PORT}",
        # The example webhook partners are the example receiver on this machine (loopback).
        "REFERRALS_WEBHOOK_ALLOWED_HOSTS": os.environ.get("REFERRALS_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1"),
        **{
            f"{s.upper()}_DATABASE_URL": os.environ.get(
                f"{s.upper()}_DATABASE_URL", f"sqlite+aiosqlite:///{data / s}.db"
            )
            for s in SERVICES
        },
    }


class StackStopped(Exception):
    """SIGINT or SIGTERM reached ``./dev up``: leave whatever it is doing and stop the stack."""


def stop_on_signal() -> None:
    """SIGINT (Ctrl-C, or ``kill -INT`` to this process alone) and SIGTERM stop the stack at any stage.

    Why: a flag checked only by the supervisor loop left a signal unanswered while the stack was still
    starting or seeding (up to minutes); the first signal now interrupts that, later ones are ignored
    so that stopping the services is not cut short.
    """
    received = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal received
        if received:
            return
        received = True
        raise StackStopped(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)


def _print_welcome(stack: ServiceProcesses, tokens: Mapping[str, str], logs: Path) -> None:
    print("\nWegweiser is running:")
    for service in SERVICES:
        print(f"  {service:<11} {stack.url(service)}/docs")
    print("\nPages:")
    for who, page in PAGES.items():
        print(f"  {who:<24} {page}")
    print(f"  logs        {logs}")
    print("\nDevelopment tokens (8 h):")
    for role, token in tokens.items():
        print(f"  {role}: {token}\n")
    print('Try: curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8002/v1/cases?ags=08111000')
    print("Ctrl-C stops everything; a service that dies is restarted.", flush=True)


def up(*, seed_demo: bool = True) -> int:
    devtokens.ensure_key_pair()
    # Stop on exit only a broker this command started, never one that was already running.
    kafka_was_running = _kafka("status", check=False) == 0
    _kafka("start")
    data = STATE / "dev"
    data.mkdir(parents=True, exist_ok=True)
    stack = ServiceProcesses(env=demo_env(data), ports=SERVICES, log_dir=data / "logs")
    stop_on_signal()
    try:
        stack.start()
        stack.wait_ready()
        tokens = demo_tokens()
        if seed_demo:
            seed(stack, tokens)
        _print_welcome(stack, tokens, data / "logs")
        while True:
            stack.restart_exited(say=lambda line: print(line, file=sys.stderr, flush=True))
            time.sleep(0.5)
    except StackStopped:
        return 0
    finally:
        print("stopping the services" + ("" if kafka_was_running else " and Kafka") + " ...")
        stack.stop()
        if not kafka_was_running:
            _kafka("stop")
