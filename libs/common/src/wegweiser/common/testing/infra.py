"""Where the integration tests find a real Kafka and a real PostgreSQL.

Order of preference, so that a developer's own setup always wins:
1. what the environment names (``KAFKA_BOOTSTRAP_SERVERS``, ``WEGWEISER_TEST_POSTGRES_URL``);
2. testcontainers, when a Docker engine answers;
3. the project's own local broker and database (``deploy/local``), started by ``make test``.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

# The tests' own broker (``./dev test`` starts it): never the demo broker of ``./dev up`` on 9092.
LOCAL_KAFKA = "127.0.0.1:9292"
LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:55432/wegweiser_test"


def docker_available() -> bool:
    """True when a Docker engine (not just the client) answers."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (fixed ports collide on shared CI hosts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (a local broker uses port, port + 1, port + 2).

    Below the ephemeral range, so that outgoing connections cannot take the neighbours meanwhile.
    """
    for _ in range(100):
        first = random.randrange(20_000, 30_000)
        try:
            with ExitStack() as stack:
                for port in range(first, first + count):
                    stack.enter_context(socket.socket()).bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports found")


def _answers(host_port: str) -> bool:
    host, _, port = host_port.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def _kafka_container() -> Iterator[str]:
    """A throw-away broker in a testcontainer; yields its bootstrap servers."""
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer().with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


@contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """Yield bootstrap servers of a real broker for the whole test session."""
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    if _answers(LOCAL_KAFKA):
        yield LOCAL_KAFKA
        return
    if docker_available():
        with _kafka_container() as servers:
            yield servers
        return
    raise RuntimeError(
        "No Kafka broker: set KAFKA_BOOTSTRAP_SERVERS, start a Docker engine, "
        "or run `WEGWEISER_KAFKA_PORT=9292 deploy/local/kafka.sh start` (./dev test does it for you)."
    )


@contextmanager
def postgres_url() -> Iterator[str]:
    """Yield an asyncpg URL of a real PostgreSQL database for the whole test session."""
    if url := os.environ.get("WEGWEISER_TEST_POSTGRES_URL"):
        yield url
        return
    if _answers("127.0.0.1:55432"):
        yield LOCAL_POSTGRES
        return
    if docker_available():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="asyncpg") as pg:
            yield pg.get_connection_url()
        return
    raise RuntimeError(
        "No PostgreSQL: set WEGWEISER_TEST_POSTGRES_URL, start a Docker engine, "
        "or run `deploy/local/postgres.sh start` (make test does it for you)."
    )


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """Create a uniquely named database on the server of ``server_url``; drop it on exit."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


REPO = Path(__file__).resolve().parents[6]


@contextmanager
def _local_broker(state_dir: Path, port: int, settings: Mapping[str, str]) -> Iterator[None]:
    """A fresh broker of the project's script (``deploy/local/kafka.sh``) on ``port`` with its state
    in ``state_dir`` and extra ``settings``; stopped on exit. Never the shared broker the tests may
    name in ``KAFKA_BOOTSTRAP_SERVERS``: the script would reuse it instead of starting one."""
    script = str(REPO / "deploy" / "local" / "kafka.sh")
    env = {**os.environ, "WEGWEISER_KAFKA_PORT": str(port), "WEGWEISER_STATE": str(state_dir), **settings}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    subprocess.run([script, "start"], env=env, check=True)
    try:
        yield
    finally:
        subprocess.run([script, "stop"], env=env, check=False)


@contextmanager
def scram_kafka(state_dir: Path, *, user: str, password: str, port: int = 19792) -> Iterator[str]:
    """A fresh local broker whose port+2 listener demands SASL/SCRAM-SHA-512 from `user`.

    Always the project's own script (Java is a prerequisite anyway): it is the one place that knows
    how to add a SCRAM user at format time. Yields the SCRAM listener's address.
    """
    scram = {"WEGWEISER_KAFKA_SCRAM_USER": user, "WEGWEISER_KAFKA_SCRAM_PASSWORD": password}
    with _local_broker(state_dir, port, scram):
        yield f"127.0.0.1:{port + 2}"


@contextmanager
def secured_kafka(
    state_dir: Path, *, users: Mapping[str, str], port: int = 19892
) -> Iterator[tuple[str, str]]:
    """A fresh local broker with SCRAM users and ACLs enforced (``WEGWEISER_KAFKA_ACLS=1``).

    Yields (the plaintext port's address, where the caller is a super user; the SCRAM listener's
    address, where every user gets only what its ACLs allow).
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    users_file = state_dir / "users.txt"
    users_file.write_text("".join(f"{name} {password}\n" for name, password in users.items()))
    users_file.chmod(0o600)
    acls = {"WEGWEISER_KAFKA_SCRAM_USERS": str(users_file), "WEGWEISER_KAFKA_ACLS": "1"}
    with _local_broker(state_dir, port, acls):  # always a broker of its own: ACLs change the whole cluster
        yield f"127.0.0.1:{port}", f"127.0.0.1:{port + 2}"


@contextmanager
def isolated_kafka(state_dir: Path, *, port: int = 19292) -> Iterator[str]:
    """A broker of its own for black-box tests whose assertions count everything on a topic.

    Uses a fresh testcontainer or a fresh local broker (own port and state); only when the user
    pinned ``KAFKA_BOOTSTRAP_SERVERS`` is that shared broker used instead.
    """
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    if docker_available():
        with _kafka_container() as servers:
            yield servers
        return
    with _local_broker(state_dir, port, {}):
        yield f"127.0.0.1:{port}"


TEST_TOPIC_MARKERS = (".retry.test-", ".dlq.test-", ".overflow.test-")


async def delete_test_topics(bootstrap_servers: str) -> None:
    """Drop the retry/dead-letter topics of the tests' private consumer groups and ``test.*`` topics.

    Every test run uses fresh group ids; without this a long-lived local broker would collect
    thousands of partitions.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        doomed = [
            t
            for t in await admin.list_topics()
            if t.startswith("test.") or any(m in t for m in TEST_TOPIC_MARKERS)
        ]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
