"""Broker, PostgreSQL and every process of the system, each started, killed and restarted on demand.

The broker and the database come from the project's own scripts (``deploy/local``), with state of their own
under the run's folder, so a restart is the real thing: the broker process stops and starts on the same
log directories, PostgreSQL shuts down and starts on the same cluster. The services run from their normal
entry points (``python -m wegweiser.<service>``), two replicas of casework and of referrals in one consumer
group each, intake's outbox relay as a process of its own, and the two shipped example partners.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "services" / "referrals" / "examples"
SCRIPTS = REPO / "deploy" / "local"
SYSTEM_NICENESS = os.nice(0)
"""The niceness the system's processes start with: the load generator's own, before it yields."""


def load_yields(nice: int) -> bool:
    """The load generator (this process) yields the cores to the system it measures: on this machine it
    shares them with the services, where a deployment's clients (reception authorities, counsellors'
    browsers) run elsewhere. Its children (the shipped partners too) start at ``SYSTEM_NICENESS`` again
    (``_as_system``), which needs the right to lower a niceness (root); without it, nothing yields."""
    if nice <= SYSTEM_NICENESS or os.geteuid() != 0:
        return False
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    return True


def _as_system() -> None:
    """In a child before it execs: the system's niceness, not the load generator's."""
    if os.nice(0) != SYSTEM_NICENESS:
        os.setpriority(os.PRIO_PROCESS, 0, SYSTEM_NICENESS)


def log(message: str) -> None:
    print(f"[system-day {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Broker:
    """A broker of the project's script on its own port and state: ``restart`` keeps its data."""

    state: Path
    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _run(self, command: str, *, check: bool = True) -> None:
        env = {**os.environ, "WEGWEISER_KAFKA_PORT": str(self.port), "WEGWEISER_STATE": str(self.state)}
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        subprocess.run(
            [str(SCRIPTS / "kafka.sh"), command],
            env=env,
            check=check,
            stdout=subprocess.DEVNULL,
            preexec_fn=_as_system,  # two system calls, no lock: safe to fork with
        )

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Postgres:
    """The project's PostgreSQL cluster script; ``own`` is a cluster of the run's own (port and state)."""

    state: Path | None  # None: the cluster the tests use (never restarted)
    port: int

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "WEGWEISER_PG_PORT": str(self.port)}
        if self.state is not None:
            env.pop("WEGWEISER_TEST_POSTGRES_URL", None)
        if self.state is not None:
            env["WEGWEISER_STATE"] = str(self.state)
            env["WEGWEISER_ROOT_PG_DIR"] = str(self.state / "postgres")
        return env

    def _run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [str(SCRIPTS / "postgres.sh"), *args],
            env=self._env(),
            check=check,
            capture_output=True,
            text=True,
            preexec_fn=_as_system,  # two system calls, no lock: safe to fork with
        )
        return done.stdout.strip()

    def start(self) -> None:
        """Our own cluster, or the tests' cluster unless ``WEGWEISER_TEST_POSTGRES_URL`` names a server."""
        self._run("start")

    @property
    def server_url(self) -> str:
        own = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        url = os.environ.get("WEGWEISER_TEST_POSTGRES_URL", own) if self.state is None else own
        return make_url(url).set(database="postgres").render_as_string(hide_password=False)

    async def create(self, *names: str) -> dict[str, str]:
        """Fresh databases by name → their URLs."""
        await self._admin([f'CREATE DATABASE "{name}"' for name in names])
        server = make_url(self.server_url)
        return {name: server.set(database=name).render_as_string(hide_password=False) for name in names}

    async def drop(self, *names: str) -> None:
        await self._admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names])

    async def _admin(self, statements: list[str]) -> None:
        engine = create_async_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    def restart(self) -> None:
        if self.state is None:
            raise RuntimeError("the shared test cluster is never restarted; start the run with its own")
        self._run("stop", check=False)
        self._run("start")

    def remove(self) -> None:
        if self.state is not None:
            self._run("reset", check=False)


@dataclass
class Process:
    """One process of the system: how to start it, and its current incarnation."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int | None = None  # an HTTP port answering /health/ready
    popen: subprocess.Popen[bytes] | None = None
    on_line: Callable[[str, float], None] | None = None  # each stdout line and when it was read
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def group_service(self) -> str:
        """The service whose consumer groups this process works in (``casework-2`` → ``casework``)."""
        return self.name.split("-")[0] if self.name[-1].isdigit() else self.name


@dataclass
class Processes:
    """Every process of the system day, started in order and restarted after a kill."""

    log_dir: Path
    processes: dict[str, Process] = field(default_factory=dict)

    def add(self, process: Process) -> Process:
        self.processes[process.name] = process
        return process

    def start(self, name: str) -> None:
        p = self.processes[name]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = (self.log_dir / f"{name}.log").open("ab")
        env = {**os.environ, **p.env, "PYTHONUNBUFFERED": "1"}
        stdout = subprocess.PIPE if p.on_line else log_file
        p.popen = subprocess.Popen(
            p.argv,
            env=env,
            stdout=stdout,
            stderr=log_file,
            cwd=REPO,
            preexec_fn=_as_system,  # two system calls, no lock: safe to fork with
        )
        p.starts += 1
        if p.on_line:
            threading.Thread(target=_pump, args=(p.popen, p.on_line, log_file), daemon=True).start()

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hook runs, as when a node dies."""
        p = self.processes[name]
        if p.popen is not None and p.popen.poll() is None:
            p.popen.send_signal(signal.SIGKILL)
            p.popen.wait()

    def stop_all(self) -> None:
        for p in reversed(list(self.processes.values())):
            if p.popen is not None and p.popen.poll() is None:
                p.popen.terminate()
        for p in self.processes.values():
            if p.popen is not None:
                try:
                    p.popen.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.popen.kill()

    def wait_ready(self, *names: str, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        for name in names:
            p = self.processes[name]
            while not self.ready(p):
                if p.popen is not None and p.popen.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {p.popen.returncode}; see {self.log_dir}/{name}.log"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout_s} s; see {self.log_dir}/{name}.log")
                time.sleep(0.25)

    def ready(self, p: Process) -> bool:
        return self.unready(p) is None

    def unready(self, p: Process) -> str | None:
        """None when ``p`` is ready; otherwise why not: not running, no answer, or its failing checks."""
        if p.popen is None or p.popen.poll() is not None:
            return "not running"
        if p.port is None:
            return None
        try:
            answer = _PROBE.get(f"{p.url}/health/ready")
        except httpx.HTTPError:
            return "no answer"
        if answer.status_code == 200:
            return None
        checks = (
            answer.json().get("checks", {}) if answer.headers.get("content-type", "").endswith("json") else {}
        )
        return "failing " + (", ".join(c for c, ok in checks.items() if not ok) or str(answer.status_code))


_PROBE = httpx.Client(timeout=2)
"""One client for every readiness probe: a new one per probe loads the CA bundle each time, which took
a third of the benchmark's own CPU while it waited for a restarted service."""


def _pump(popen: subprocess.Popen[bytes], on_line: Callable[[str, float], None], log_file: object) -> None:
    """Read a partner's output line by line, timestamped as it arrives (the partner's "received")."""
    assert popen.stdout is not None
    for raw in popen.stdout:
        on_line(raw.decode(errors="replace").rstrip("\n"), time.time())
        log_file.write(raw)  # type: ignore[attr-defined]
        log_file.flush()  # type: ignore[attr-defined]


def service(name: str, module: str, port: int | None, env: Mapping[str, str], *args: str) -> Process:
    """A service process; its name is its static group membership (a restart rejoins without rebalance)."""
    return Process(
        name,
        [sys.executable, "-m", f"wegweiser.{module}", *args],
        {**env, "WEGWEISER_INSTANCE_ID": name},
        port,
    )
