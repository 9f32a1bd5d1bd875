"""Intake settings: ``INTAKE_*`` plus the shared names of ``ServiceSettings``."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wegweiser.common.engine import EngineConfig
from wegweiser.common.settings import PseudonymKeyMixin, RetentionMixin
from wegweiser.common.web.session import WebSettings


class IntakeSettings(RetentionMixin, PseudonymKeyMixin, WebSettings):
    """Retention: ``INTAKE_RETENTION_MONTHS`` (default 24) counts from the allocation date.

    The upload page's sign-in: ``INTAKE_DEV_LOGIN``, ``INTAKE_SESSION_COOKIE_*`` (``WebSettings``).
    """

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///intake.db"
    # Cookies are shared by every port of a host: casework's session on the same machine stays apart.
    session_cookie_name: str = "wegweiser_intake_session"
    engine: EngineConfig = Field(
        default_factory=EngineConfig, description="tuning of the case-erasure consumer (INTAKE_ENGINE__*)"
    )

    # Admission control, per process (see quotas.py): tokens are arrivals.
    quota_authority_per_s: float = Field(50.0, gt=0, description="Arrivals per second per authority")
    quota_authority_burst: int = Field(5_000, ge=1, description="Bucket size per authority")
    quota_ags_per_s: float = Field(20.0, gt=0, description="Arrivals per second per target AGS")
    quota_ags_burst: int = Field(2_000, ge=1, description="Bucket size per target AGS")

    batch_max_items: int = Field(1_000, ge=1, le=10_000)
    # Uploads: files with up to this many households are imported in the request, larger ones by a job.
    import_sync_max_households: int = Field(1_000, ge=1)
    import_chunk_households: int = Field(500, ge=1)
    import_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    import_max_rows: int = Field(200_000, ge=1)
    import_lease_s: float = Field(
        60.0, gt=0, description="A job whose worker is silent this long is taken over"
    )
    import_poll_s: float = Field(2.0, gt=0, description="How often an idle worker looks for queued jobs")
    idempotency_retention_h: int = Field(48, ge=1, description="How long Idempotency-Key answers are kept")
