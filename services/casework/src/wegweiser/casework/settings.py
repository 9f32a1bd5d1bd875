"""Casework settings: ``CASEWORK_*`` plus the shared names of ``ServiceSettings``."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from wegweiser.common.engine import EngineConfig
from wegweiser.common.settings import PseudonymKeyMixin, RetentionMixin, comma_separated
from wegweiser.common.web.session import WebSettings

# Every handler holds a database connection: keep what runs at once (12 partitions × 2) below the pool
# (20 + 10 overflow), so a replay of a long topic cannot starve the web UI or time out.
CONSUMER_ENGINE = EngineConfig(max_in_flight_per_partition=2, max_in_flight_per_ags=2)

AgsSet = Annotated[
    frozenset[Annotated[str, Field(pattern=r"^\d{8}$")]], NoDecode, BeforeValidator(comma_separated)
]
"""8-digit AGS, comma-separated in the environment (``08425001,08116033``)."""


class CaseworkSettings(RetentionMixin, PseudonymKeyMixin, WebSettings):
    """Retention (``CASEWORK_RETENTION_MONTHS``, default 24, counted from the case's closure): see
    ``RetentionMixin`` and ``retention.py``. The consumers' engine: ``CASEWORK_ENGINE__<FIELD>`` (any
    field of ``EngineConfig``, e.g. ``CASEWORK_ENGINE__MAX_ATTEMPTS=8``); unset fields keep the defaults.
    The web UI's sign-in: ``CASEWORK_DEV_LOGIN``, ``CASEWORK_SESSION_COOKIE_*`` (``WebSettings``).
    ``CASEWORK_FAULT_FAIL_AGS``: for tests and the system-day benchmark only (``consumers.py``)."""

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
    fault_fail_ags: AgsSet = Field(
        frozenset(),
        description="tests and benchmarks only: every arrival.registered of these AGS fails on purpose",
    )

    @model_validator(mode="after")
    def _no_injected_faults_in_production(self) -> Self:
        if self.environment == "production" and self.fault_fail_ags:
            raise ValueError(
                "production refuses CASEWORK_FAULT_FAIL_AGS (injected failures, for tests and benchmarks "
                f"only); it names {', '.join(sorted(self.fault_fail_ags))}"
            )
        return self

    @property
    def seed_enabled(self) -> bool:
        return (
            self.dev_key_dir is not None if self.seed_development_data is None else self.seed_development_data
        )
