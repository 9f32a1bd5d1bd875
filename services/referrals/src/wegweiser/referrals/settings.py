"""Referrals settings: ``REFERRALS_*`` plus the shared names of ``ServiceSettings``."""

from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode, SettingsConfigDict

from wegweiser.common.engine import EngineConfig
from wegweiser.common.settings import (
    BackgroundServiceMixin,
    PseudonymKeyMixin,
    RetentionMixin,
    comma_separated,
)
from wegweiser.common.web.session import WebSettings

HostList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(comma_separated)]
"""Host names, addresses or networks, comma-separated in the environment."""

OWN_HOSTS = (
    *("intake", "casework", "referrals", "statistics", "kafka", "postgres", "keycloak", "otel-collector"),
    *("localhost", ".localhost", ".internal", ".svc", ".svc.cluster.local", ".cluster.local"),
)
"""Our hosts in docker-compose and Kubernetes; a leading dot refuses every name ending in it."""


class ReferralsSettings(BackgroundServiceMixin, RetentionMixin, PseudonymKeyMixin, WebSettings):
    """Retention: ``REFERRALS_RETENTION_MONTHS`` (default 24) counts from a referral's final state.
    The partner inbox's sign-in: ``REFERRALS_DEV_LOGIN``, ``REFERRALS_SESSION_COOKIE_*`` (``WebSettings``)."""

    model_config = SettingsConfigDict(env_prefix="REFERRALS_", extra="ignore", populate_by_name=True)

    port: int = 8003
    # Cookies do not tell ports apart: the partner inbox's session must not be casework's or intake's.
    session_cookie_name: str = "wegweiser_referrals_session"
    database_url: str = "sqlite+aiosqlite:///referrals.db"

    seed_catalogue: bool = Field(True, description="seed the example BW partners into an empty catalogue")
    # Service level towards partners, in working days of Baden-Württemberg (Europe/Berlin).
    remind_after_working_days: int = Field(3, ge=1)
    expire_after_working_days: int = Field(10, ge=1)
    holiday_subdivision: str = "BW"
    timer_interval_s: float = Field(5.0, gt=0)
    # Webhook delivery: per-partner workers, exponential back-off, a circuit breaker per partner.
    webhook_timeout_s: float = Field(10.0, gt=0)
    webhook_concurrency_per_partner: int = Field(2, ge=1, le=32)
    webhook_max_attempts: int = Field(20, ge=1)
    webhook_backoff_initial_s: float = Field(5.0, gt=0)
    webhook_backoff_max_s: float = Field(3600.0, gt=0)
    webhook_poll_interval_s: float = Field(1.0, gt=0)
    # Where webhooks may go (SSRF): public addresses only, unless named here (development: 127.0.0.1).
    webhook_allowed_hosts: HostList = Field((), description="hosts, addresses or networks allowed anyway")
    webhook_own_hosts: HostList = Field(OWN_HOSTS, description="refused even when public")
    breaker_failure_threshold: int = Field(5, ge=1)
    breaker_open_s: float = Field(30.0, gt=0)
    breaker_open_max_s: float = Field(600.0, gt=0)
    # Consumers: every handler holds a database connection, so what runs at once stays near the pool's
    # size (20 + 10) instead of the engine's default of 256 per partition, or a backlog times out waiting.
    consumer_max_in_flight_per_partition: int = Field(8, ge=1)
    consumer_max_in_flight_per_ags: int = Field(4, ge=1)
    feedback_refresh_interval_s: float = Field(60.0, gt=0, description="re-read the Kafka partner set")
    # Retention (docs/architecture.md): personal data held for delivery goes once delivered, else after this.
    delivery_data_retention_days: int = Field(30, ge=1)
    retention_interval_s: float = Field(300.0, gt=0)

    def engine_config(self) -> EngineConfig:
        """Tuning of the consumer engines (requests and cases, and the partners' feedback topics)."""
        return EngineConfig(
            max_in_flight_per_partition=self.consumer_max_in_flight_per_partition,
            max_in_flight_per_ags=self.consumer_max_in_flight_per_ags,
        )
