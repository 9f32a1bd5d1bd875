"""Engine settings: bounds, retry policy and topic retention, all with working defaults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

DAY_MS = 24 * 3600 * 1000


class EngineConfig(BaseModel):
    """Tuning of one `ConsumerEngine`; the defaults suit a service consuming a 12-partition topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Concurrency: handlers running at once.
    max_in_flight_per_partition: int = Field(default=256, ge=1)
    max_in_flight_per_ags: int = Field(default=16, ge=1)
    # An AGS whose records are being deferred (it flooded its buffer) runs at most this many at once
    # (and never more than `max_in_flight_per_ags`): its backlog waits in the log either way, and
    # every handler it runs is CPU the one event loop takes from the other municipalities.
    max_in_flight_per_deferred_ags: int = Field(default=8, ge=1)
    # While the process's event loop runs at least `hold_late_ms` late (`lateness`), an AGS with a
    # backlog (at least `hold_backlog_per_ags` events buffered in the partition, or deferred) starts
    # no more than one event every `hold_trickle_s`: on a saturated machine its handlers yield the
    # cores to the municipalities with an event or two waiting. None: never held back.
    hold_late_ms: float | None = Field(default=20.0, gt=0)
    hold_backlog_per_ags: int = Field(default=25, ge=1)
    hold_trickle_s: float = Field(default=1.0, gt=0)
    # Memory: events held in memory (queued, waiting for back-off or running).
    max_buffered_per_partition: int = Field(default=10_000, ge=1)
    max_buffered_per_ags: int = Field(default=1_000, ge=1)
    # Park / retry / dead-letter.
    max_attempts: int = Field(default=5, ge=1)
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    backoff_multiplier: float = Field(default=3.0, ge=1.0)
    # A handler's `NotYet` (it waits for another topic's event): retried this often, uncounted, for
    # this long after the event was written; then like any failure.
    not_yet_retry_s: float = Field(default=1.0, gt=0)
    not_yet_budget_s: float = Field(default=300.0, ge=0)
    # Kafka plumbing.
    commit_interval_s: float = Field(default=1.0, gt=0)
    fetch_max_records: int = Field(default=2_000, ge=1)
    poll_interval_s: float = Field(default=0.05, gt=0)
    # aiokafka fills one batch per partition and waits for it when full: big batches keep a burst
    # of retry/dead-letter copies (and every copy behind it in the one writer) from stalling.
    producer_batch_bytes: int = Field(default=512 * 1024, ge=16 * 1024)  # below the broker's 1 MB limit
    producer_linger_ms: int = Field(default=5, ge=0)
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    max_poll_interval_ms: int = Field(default=300_000, ge=1_000)
    # A consumer span per handled event, continuing the producer's trace (W3C headers), when the
    # service has installed an OpenTelemetry tracer provider before `start()`.
    tracing: bool = True
    # Freeze the objects alive at start() (gc.freeze): the collector's full collections then scan
    # only what was created later, instead of stalling the event loop for all of it each time.
    gc_freeze: bool = True
    # How long a revoked partition (or stop()) waits for running handlers before abandoning them.
    drain_timeout_s: float = Field(default=30.0, ge=0)
    # Topics the engine creates: retry/DLQ retention and replication (None: min(3, brokers)).
    retry_retention_ms: int = Field(default=7 * DAY_MS, ge=60_000)
    dlq_retention_ms: int = Field(default=90 * DAY_MS, ge=60_000)
    replication_factor: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> EngineConfig:
        if self.max_in_flight_per_ags > self.max_in_flight_per_partition:
            raise ValueError("max_in_flight_per_ags must not exceed max_in_flight_per_partition")
        if self.max_buffered_per_ags > self.max_buffered_per_partition:
            raise ValueError("max_buffered_per_ags must not exceed max_buffered_per_partition")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must not be below backoff_initial_s")
        return self

    def backoff_ms(self, failed_attempt: int) -> int:
        """Delay before the attempt after `failed_attempt` (1-based): exponential, capped."""
        delay = self.backoff_initial_s * self.backoff_multiplier ** (failed_attempt - 1)
        return int(min(delay, self.backoff_max_s) * 1000)
