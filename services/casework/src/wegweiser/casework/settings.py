"""Casework settings: ``CASEWORK_*`` plus the shared names of ``ServiceSettings``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wegweiser.common.engine import EngineConfig
from wegweiser.common.settings import PseudonymKeyMixin, RetentionMixin
from wegweiser.common.web.session import WebSettings

# Every handler holds a database connection: keep what runs at once (12 partitions × 2) below the pool
# (10 + 20 overflow), so a replay of a long topic cannot starve the web UI or time out.
CONSUMER_ENGINE = EngineConfig(max_in_flight_per_partition=2, max_in_flight_per_ags=2)


class CaseworkSettings(RetentionMixin, PseudonymKeyMixin, WebSettings):
    """Retention (``CASEWORK_RETENTION_MONTHS``, default 24, counted from the case's closure): see
    ``RetentionMixin`` and ``retention.py``. The consumers' engine: ``CASEWORK_ENGINE__<FIELD>`` (any
    field of ``EngineConfig``, e.g. ``CASEWORK_ENGINE__MAX_ATTEMPTS=8``); unset fields keep the defaults.
    The web UI's sign-in: ``CASEWORK_DEV_LOGIN``, ``CASEWORK_SESSION_COOKIE_*`` (``WebSettings``)."""

    model_config = SettingsConfigDict(
        env_prefix="CASEWORK_",
        extra="ignore",
        populate_by_name=True,
        env_nested_delimiter="__",
        nested_model_default_partial_update=True,
    )

    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///casework.db"
    # The development data set, like the development sign-in: on by default only while tokens are
    # checked against the local development key set (a file JWKS); with an OIDC provider it is off.
    seed_development_data: bool | None = None
    idempotency_retention_h: int = Field(
        48, ge=1, description="how long answers to an Idempotency-Key or a form token are kept"
    )
    engine: EngineConfig = Field(
        CONSUMER_ENGINE, description="tuning of the arrival and referral-status consumers"
    )

    @property
    def seed_enabled(self) -> bool:
        return (
            self.dev_key_dir is not None if self.seed_development_data is None else self.seed_development_data
        )
