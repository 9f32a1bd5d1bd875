"""Session-wide fixtures: the real broker and database every integration test uses."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from wegweiser.common import devtokens, topics
from wegweiser.common.telemetry import configure_telemetry
from wegweiser.common.testing import infra

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from playwright.async_api import BrowserContext


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real broker on which every declared topic exists."""
    with infra.kafka_bootstrap() as servers:
        asyncio.run(topics.ensure_topics(servers))
        yield servers
        asyncio.run(infra.delete_test_topics(servers))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with infra.postgres_url() as url:
        yield url


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    async with infra.fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key pair for this test session only; tokens minted with ``key_dir=dev_keys``."""
    key_dir = tmp_path_factory.mktemp("dev-keys")
    devtokens.ensure_key_pair(key_dir)
    return key_dir


@pytest.fixture
def service_env(kafka_bootstrap: str, dev_keys: Path) -> dict[str, Any]:
    """Settings shared by every service under test: the real broker, the test keys, a private group prefix."""
    return {
        "kafka_bootstrap_servers": kafka_bootstrap,
        "auth_jwks_url": (dev_keys / "jwks.json").as_uri(),
        "consumer_group_prefix": f"test-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(scope="session", autouse=True)
def telemetry() -> None:
    """Real tracer and meter providers, as the services have in production, so trace headers flow."""
    configure_telemetry("tests")


@pytest.fixture
def spans() -> Iterator["InMemorySpanExporter"]:
    """Every span the process finishes from now on, on the providers the ``telemetry`` fixture installed."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # the processor stays on the provider, but exports nothing any more


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator["BrowserContext"]:
    """Debian's Chromium, headless, for a browser test (``-m browser``); downloads are kept."""
    from wegweiser.common.testing.browser import chromium  # Playwright is loaded by browser tests only

    async with chromium(tmp_path / "chromium-profile", accept_downloads=True) as context:
        yield context
