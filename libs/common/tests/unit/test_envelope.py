import json
import uuid

import pytest

from wegweiser.common import events
from wegweiser.common.envelope import MalformedEvent, decode, encode


def consultation() -> events.ConsultationRecorded:
    return events.ConsultationRecorded(
        ags="08111000",
        case_id=uuid.uuid4(),
        consultation_id=uuid.uuid4(),
        held_on="2026-11-02",
        duration_minutes=45,
        type="erstgespraech",
        channel="persoenlich",
    )


def test_round_trip_keeps_payload_and_cloudevents_attributes() -> None:
    event = consultation()
    record = encode(event)
    headers = dict(record.headers)
    assert record.key == "08111000"
    assert record.topic == "wegweiser.casework.cases.v1"
    assert headers["ce_type"] == b"de.wegweiser.casework.consultation.recorded.v1"
    assert headers["ce_subject"] == str(event.case_id).encode()
    assert headers["ce_specversion"] == b"1.0"
    envelope, decoded = decode(record.headers, record.value)
    assert decoded == event
    assert envelope.id == record.event_id


def test_tolerant_reader_ignores_unknown_fields() -> None:
    record = encode(consultation())
    payload = json.loads(record.value) | {"added_in_a_later_minor_change": 1}
    _, decoded = decode(record.headers, json.dumps(payload).encode())
    assert isinstance(decoded, events.ConsultationRecorded)


def _with(headers: tuple[tuple[str, bytes], ...], name: str, value: bytes | None) -> list[tuple[str, bytes]]:
    kept = [(k, v) for k, v in headers if k != name]
    return kept + ([(name, value)] if value is not None else [])


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, v: (_with(h, "ce_type", b"de.wegweiser.nope.v1"), v), "unknown event type"),
        (lambda h, v: (_with(h, "ce_id", None), v), "missing CloudEvents headers: ce_id"),
        (lambda h, v: (h, b"{not json"), "not JSON"),
        (lambda h, v: (h, b'{"ags": "08111000"}'), "validation"),
        (lambda h, v: (h, None), "no value"),
        (lambda h, v: (_with(h, "ce_subject", b"\xff\xfe"), v), "not UTF-8"),
    ],
)
def test_malformed_records_name_their_reason(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    record = encode(consultation())
    headers, value = mutate(record.headers, record.value)
    with pytest.raises(MalformedEvent, match=reason):
        decode(headers, value)
