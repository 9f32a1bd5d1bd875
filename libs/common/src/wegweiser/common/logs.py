"""Structured JSON logs with the trace ids of the current span (docs/architecture.md): ids, never names."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import trace

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class OncePerInterval(logging.Filter):
    """Lets a repeating Kafka client message through once per interval, counting what it held back.

    Why: while the broker is unreachable, aiokafka logs every reconnect attempt; a 40-second outage
    wrote about 17,000 lines. Now each message (by logger, level and template) appears at most once per
    ``interval_s``, and the next one says how many were suppressed (``suppressed_since_last``). The
    outbox relay is a Kafka client too: it retries a failed batch, with a new producer, until the
    broker takes it. The HTTP problem handlers (``wegweiser.common.http``) likewise log each request
    answered 503 while the database restarts.
    """

    def __init__(
        self,
        prefixes: tuple[str, ...] = ("aiokafka", "kafka", "wegweiser.common.outbox", "wegweiser.common.http"),
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.interval_s = interval_s
        self.clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        shown_at, held_back = self._seen.get(key, (None, 0))
        if shown_at is not None and now - shown_at < self.interval_s:
            self._seen[key] = (shown_at, held_back + 1)
            return False
        self._seen[key] = (now, 0)
        if held_back:
            record.suppressed_since_last = held_back
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(OncePerInterval())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
