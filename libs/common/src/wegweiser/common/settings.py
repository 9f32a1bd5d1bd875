"""Settings base: every service reads its own env prefix plus the few names all services share.

Nothing here reads the environment at import time; ``app.build()`` creates the settings object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wegweiser.common.kafka_security import KafkaSecurity
from wegweiser.common.personal_data import DEV_KEY_WRAPPING_KEY
from wegweiser.common.retention import RetentionPeriod

DEV_KEY_DIR = Path.home() / ".config" / "wegweiser" / "dev-keys"
DEV_ISSUER = "wegweiser-dev"
AUDIENCE = "wegweiser"
DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"
DEFAULT_CONSUMER_GROUP_PREFIX = "wegweiser"


def consumer_group_id(name: str, prefix: str = DEFAULT_CONSUMER_GROUP_PREFIX) -> str:
    """Group ids are per service; a prefix lets tests and parallel stacks share one broker."""
    return f"{prefix}-{name}"


def comma_separated(value: object) -> object:
    """A list setting as the environment writes it, ``a, b,c`` (pydantic-settings alone would expect JSON):
    use with ``NoDecode`` and ``BeforeValidator``; blanks and empty entries are dropped."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(value, str) else value


def _shared(name: str) -> AliasChoices:
    """Read a shared setting by its plain, unprefixed name (e.g. ``KAFKA_BOOTSTRAP_SERVERS``)."""
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    """Fields every service has; subclasses set ``env_prefix`` (``INTAKE_``...) for their own."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = Field(
        "development", validation_alias=_shared("WEGWEISER_ENVIRONMENT")
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    auth_jwks_url: str = Field(
        (DEV_KEY_DIR / "jwks.json").as_uri(), validation_alias=_shared("AUTH_JWKS_URL")
    )
    auth_issuer: str = Field(DEV_ISSUER, validation_alias=_shared("AUTH_ISSUER"))
    auth_audience: str = Field(AUDIENCE, validation_alias=_shared("AUTH_AUDIENCE"))
    log_level: str = Field("INFO", validation_alias=_shared("LOG_LEVEL"))
    otel_exporter_otlp_endpoint: str | None = Field(
        None, validation_alias=_shared("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    create_topics: bool = Field(True, validation_alias=_shared("WEGWEISER_CREATE_TOPICS"))
    consumer_group_prefix: str = Field(
        DEFAULT_CONSUMER_GROUP_PREFIX, validation_alias=_shared("WEGWEISER_CONSUMER_GROUP_PREFIX")
    )
    topic_replication_factor: int = Field(1, validation_alias=_shared("WEGWEISER_TOPIC_REPLICATION_FACTOR"))
    instance_id: str | None = Field(None, validation_alias=_shared("WEGWEISER_INSTANCE_ID"))
    """This replica's stable name among its service's replicas (a pod's name, ``casework-1``): its
    consumers' static group membership (KIP-345), so a restarted replica takes back its partitions at
    once instead of after two rebalances. Unset: dynamic membership."""

    # False when the relay runs as a process of its own (``python -m wegweiser.<service> relay``), so that
    # request handling never waits behind it (e.g. INTAKE_OUTBOX_RELAY=false).
    outbox_relay: bool = True
    cpu_nice: int = Field(0, ge=0, le=19)
    """How much this service's processes yield the cores when they are contended (the Unix nice value,
    0-19, applied at start; one started under a higher ``nice`` keeps it): 0 for the arrival path and
    the requests people wait for (intake, casework); 10 for statistics, which publishes behind the events
    by design, and referrals, whose partners act on a referral in hours, not milliseconds. On a host the
    services share, a flood's work in those two then waits for idle cores instead of stretching every
    other municipality's arrival → case (bench/README.md, system-day)."""

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///wegweiser.db"

    @model_validator(mode="after")
    def _no_development_defaults_in_production(self) -> Self:
        """Production must not start on the development key pair or placeholder secrets."""
        if self.environment == "production":
            if self.auth_jwks_url.startswith("file:") or self.auth_issuer == DEV_ISSUER:
                raise ValueError(
                    "production needs AUTH_JWKS_URL and AUTH_ISSUER of an OpenID Connect provider"
                )
            if getattr(self, "pseudonym_key", None) == DEV_PSEUDONYM_KEY:
                raise ValueError("production needs its own WEGWEISER_PSEUDONYM_KEY")
            if getattr(self, "key_wrapping_key", None) == DEV_KEY_WRAPPING_KEY:
                raise ValueError("production needs its own WEGWEISER_KEY_WRAPPING_KEY")
            if KafkaSecurity().security_protocol == "PLAINTEXT":
                raise ValueError("production needs KAFKA_SECURITY_PROTOCOL SASL_SSL, SASL_PLAINTEXT or SSL")
        return self

    def consumer_group(self, service: str) -> str:
        """This deployment's group id for one of a service's consumers."""
        return consumer_group_id(service, self.consumer_group_prefix)


class BackgroundServiceMixin(BaseSettings):
    """For the services off the arrival path (statistics, referrals): they yield the cores at nice 10
    (``ServiceSettings.cpu_nice``), read with the service's prefix (``STATISTICS_CPU_NICE``...)."""

    cpu_nice: int = Field(10, ge=0, le=19)


class PseudonymKeyMixin(BaseSettings):
    """For the services that hold personal data and emit pseudonymous facts; never for statistics."""

    pseudonym_key: str = Field(
        DEV_PSEUDONYM_KEY, validation_alias=_shared("WEGWEISER_PSEUDONYM_KEY"), min_length=16
    )
    key_wrapping_key: str = Field(
        DEV_KEY_WRAPPING_KEY,
        validation_alias=_shared("WEGWEISER_KEY_WRAPPING_KEY"),
        min_length=16,
        description="wraps the data keys of sealed personal fields on the key topics (one per platform)",
    )


class RetentionMixin(BaseSettings):
    """For the services that hold personal data: how long after a record ended it is kept.

    Read with the service's prefix (``CASEWORK_RETENTION_MONTHS``...). The default is the design
    contract's: 2 years; 12 (MBE) up to "end of the 5th calendar year" (60 + ``to_year_end``) are the
    range comparable services use.
    """

    retention_months: int = Field(24, ge=1, le=240, description="months after the record ended")
    retention_to_year_end: bool = Field(False, description="keep until the end of that calendar year")
    retention_interval_s: float = Field(3600.0, gt=0, description="how often the purge runs")
    outbox_retention_days: int = Field(
        7, ge=1, description="published outbox records (they may carry names) are deleted after this"
    )

    @property
    def retention(self) -> RetentionPeriod:
        return RetentionPeriod(months=self.retention_months, to_year_end=self.retention_to_year_end)
