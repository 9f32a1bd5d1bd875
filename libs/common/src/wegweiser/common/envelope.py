"""CloudEvents 1.0 in Kafka binary mode, plus W3C trace context (docs/architecture.md).

The payload is the event model as JSON; the attributes travel as ``ce_*`` headers, so a consumer can
route and dead-letter a record without parsing its body.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import propagate
from opentelemetry.trace import get_current_span
from pydantic import ValidationError

from wegweiser.common.events import REGISTRY, Event

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"


class MalformedEvent(ValueError):
    """A record that can never be processed: undecodable, unknown type or failing validation."""


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    event_id: str


@dataclass(frozen=True, slots=True)
class Envelope:
    id: str
    source: str
    type: str
    subject: str
    time: dt.datetime
    headers: Mapping[str, str]


_TYPES: dict[type[Event], tuple[str, str]] = {}


def trace_context() -> dict[str, str]:
    """``traceparent`` / ``tracestate`` of the current span, if any (empty without one)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def link_to(traceparent: str | None) -> None:
    """Link the current span to the span ``traceparent`` names (kept from an earlier flow).

    A step a person takes later, such as a referral requested for a case, starts a trace of its own;
    the link lets a tracing backend show it with the flow that opened the case. Without a recording
    span or with no valid ``traceparent``, nothing happens.
    """
    if not traceparent:
        return
    linked = get_current_span(propagate.extract({"traceparent": traceparent})).get_span_context()
    if linked.is_valid:
        get_current_span().add_link(linked)


def attributes(
    event: Event,
    *,
    event_id: str,
    time: str | None = None,
    trace: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The CloudEvents attributes of ``event`` as Kafka headers (text), plus the trace context.

    ``time`` is ``ce_time`` in ISO 8601 (default now); ``trace`` the context when the caller took it
    already (``trace_context()``), e.g. once for the many events of one transaction.
    """
    kind = type(event)
    known = _TYPES.get(kind)
    if known is None:
        known = _TYPES[kind] = (f"/wegweiser/{event.source}", event.ce_type())
    headers = {
        "ce_id": event_id,
        "ce_source": known[0],
        "ce_type": known[1],
        "ce_specversion": SPECVERSION,
        "ce_time": time or dt.datetime.now(dt.UTC).isoformat(),
        "ce_subject": event.subject(),
        "content-type": CONTENT_TYPE,
    }
    if trace is None:
        propagate.inject(headers)  # traceparent / tracestate of the current span, if any
    else:
        headers.update(trace)
    return headers


def encode(
    event: Event,
    *,
    event_id: uuid.UUID | None = None,
    time: dt.datetime | None = None,
    trace: Mapping[str, str] | None = None,
) -> OutgoingRecord:
    """Turn an event into a Kafka record carrying the current trace context (see ``attributes``)."""
    ce_id = str(event_id or uuid.uuid4())
    headers = attributes(event, event_id=ce_id, time=time.isoformat() if time else None, trace=trace)
    return OutgoingRecord(
        topic=event.topic.name,
        key=event.key(),
        value=event.model_dump_json().encode(),
        headers=tuple((k, v.encode()) for k, v in headers.items()),
        event_id=ce_id,
    )


def header_map(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Kafka headers as text; a header that is not UTF-8 makes the record malformed."""
    try:
        return {k: v.decode() for k, v in headers}
    except (UnicodeDecodeError, AttributeError) as exc:
        raise MalformedEvent(f"header is not UTF-8 text: {exc}") from exc


def parse(headers: Iterable[tuple[str, bytes]], value: bytes | None) -> tuple[Envelope, type[Event], Any]:
    """The attributes, the event class and the JSON payload, not yet validated (sealed blocks closed).

    Raises MalformedEvent with a reason fit for a dead-letter entry.
    """
    h = header_map(headers)
    missing = [n for n in ("ce_id", "ce_type", "ce_source", "ce_subject") if not h.get(n)]
    if missing:
        raise MalformedEvent(f"missing CloudEvents headers: {', '.join(missing)}")
    model = REGISTRY.get(h["ce_type"])
    if model is None:
        raise MalformedEvent(f"unknown event type {h['ce_type']!r}")
    if value is None:
        raise MalformedEvent("record has no value")
    try:
        payload = json.loads(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"payload is not JSON: {exc}") from exc
    try:
        time = dt.datetime.fromisoformat(h["ce_time"]) if h.get("ce_time") else dt.datetime.now(dt.UTC)
    except ValueError as exc:
        raise MalformedEvent(f"ce_time is not ISO 8601: {h['ce_time']!r}") from exc
    envelope = Envelope(
        id=h["ce_id"], source=h["ce_source"], type=h["ce_type"], subject=h["ce_subject"], time=time, headers=h
    )
    return envelope, model, payload


def validate(model: type[Event], payload: Any) -> Event:
    """The payload as its event class; raises MalformedEvent naming every problem."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MalformedEvent(f"payload fails {model.__name__} validation: {problems}") from exc


def decode(headers: Iterable[tuple[str, bytes]], value: bytes | None) -> tuple[Envelope, Event]:
    """Parse and validate a record without sealed personal fields (``parse`` and ``validate``)."""
    envelope, model, payload = parse(headers, value)
    return envelope, validate(model, payload)
