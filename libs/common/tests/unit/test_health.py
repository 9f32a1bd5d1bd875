"""Readiness tells the truth: 503 without the database, 200 "degraded" with since-when without the broker."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, InterfaceError, InternalError, OperationalError

from wegweiser.common.http import broker_reachable, install_health, install_problem_handlers
from wegweiser.common.testing.infra import free_port

UP = {"database": True, "broker": True}


def _asyncpg_error(kind: type[Exception], message: str, sqlstate: str) -> Exception:
    """An asyncpg error as SQLAlchemy's asyncpg dialect hands it on (it copies the SQLSTATE)."""

    class _Driver(Exception):
        pass

    driver = _Driver(message)
    driver.sqlstate = sqlstate  # type: ignore[attr-defined]
    return kind(message, driver)


async def _check(name: str) -> bool:
    return UP[name]


async def database() -> bool:
    return await _check("database")


async def broker() -> bool:
    return await _check("broker")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    install_health(app, {"database": database, "broker": broker})
    UP.update(database=True, broker=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def test_all_up_is_ready(client: httpx.AsyncClient) -> None:
    answer = await client.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": UP, "failing_since": {}}


async def test_without_the_broker_the_service_stays_in_service_marked_degraded_since_when(
    client: httpx.AsyncClient,
) -> None:
    UP["broker"] = False
    first = await client.get("/health/ready")
    second = await client.get("/health/ready")
    assert first.status_code == second.status_code == 200
    assert second.json()["status"] == "degraded"
    assert second.json()["failing_since"]["broker"] == first.json()["failing_since"]["broker"]
    assert REGISTRY.get_sample_value("wegweiser_ready_check_up", {"check": "broker"}) == 0
    since = REGISTRY.get_sample_value("wegweiser_ready_check_failing_since_seconds", {"check": "broker"})
    assert since is not None and since > 0
    UP["broker"] = True
    assert (await client.get("/health/ready")).json()["status"] == "ok"
    assert REGISTRY.get_sample_value("wegweiser_ready_check_up", {"check": "broker"}) == 1


async def test_without_the_database_it_is_unavailable(client: httpx.AsyncClient) -> None:
    UP["database"] = False
    answer = await client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable"
    assert set(answer.json()["failing_since"]) == {"database"}


async def test_broker_reachable_is_false_for_a_closed_port() -> None:
    assert not await broker_reachable(f"127.0.0.1:{free_port()}", timeout_s=0.5)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, ConnectionResetError(104, "Connection reset by peer")),
        InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        ConnectionRefusedError(111, "Connect call failed"),
        # What a connection attempt met while PostgreSQL restarted in the system day (a 500 before).
        DBAPIError(
            None,
            None,
            _asyncpg_error(AsyncAdapt_asyncpg_dbapi.Error, "the database system is starting up", "57P03"),
        ),
        InternalError(
            "INSERT INTO outbox",
            {},
            AsyncAdapt_asyncpg_dbapi.InternalClientError(
                "cannot switch to state 12; another operation (2) is in progress"
            ),
        ),
    ],
)
async def test_a_database_that_cannot_be_reached_is_a_503_to_retry_not_a_500(error: Exception) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/things")
    async def write() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        answer = await c.post("/v1/things")
        english = await c.post("/v1/things", headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "2"
    assert "Datenbank" in answer.json()["detail"]
    assert "database" in english.json()["detail"]


async def test_a_database_error_that_is_no_outage_stays_a_500_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/things")
    async def write() -> None:
        raise DBAPIError(
            "INSERT", {}, _asyncpg_error(AsyncAdapt_asyncpg_dbapi.Error, "division by zero", "22012")
        )

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        answer = await c.post("/v1/things")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    (logged,) = [r for r in caplog.records if r.name == "wegweiser.common.http"]
    assert logged.levelname == "ERROR" and logged.exc_info is not None


async def test_any_other_failure_stays_a_500() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/v1/things")
    async def read() -> None:
        raise ValueError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        answer = await c.get("/v1/things")
    assert answer.status_code == 500
