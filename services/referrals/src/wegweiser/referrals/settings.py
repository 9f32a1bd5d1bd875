"""Referrals settings: ``REFERRALS_*`` plus the shared names of ``ServiceSettings``."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wegweiser.common.settings import PseudonymKeyMixin, RetentionMixin, ServiceSettings


class ReferralsSettings(RetentionMixin, PseudonymKeyMixin, ServiceSettings):
    """Retention: ``REFERRALS_RETENTION_MONTHS`` (default 24) counts from a referral's final state."""

    model_config = SettingsConfigDict(env_prefix="REFERRALS_", extra="ignore", populate_by_name=True)

    port: int = 8003
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
    breaker_failure_threshold: int = Field(5, ge=1)
    breaker_open_s: float = Field(30.0, gt=0)
    breaker_open_max_s: float = Field(600.0, gt=0)
    # Retention (docs/architecture.md): personal data held for delivery goes once delivered, else after this.
    delivery_data_retention_days: int = Field(30, ge=1)
    retention_interval_s: float = Field(300.0, gt=0)
