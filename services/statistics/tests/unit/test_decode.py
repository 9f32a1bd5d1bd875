"""The replay's fast decoder rejects exactly what the shared envelope decoder rejects."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wegweiser.common import events
from wegweiser.common.envelope import MalformedEvent, decode, encode
from wegweiser.statistics.projection.decode import decode_record, time_us

EVENT = events.CaseClosed(
    ags="08111000", case_id=uuid.uuid4(), closed_on=dt.date(2024, 5, 1), reason="goals_met"
)
GOOD = encode(EVENT, time=dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC))


def outcome(decoder: object, headers: list[tuple[str, bytes | None]], value: bytes | None) -> str:
    try:
        if decoder is decode:
            envelope, event = decode(headers, value)  # type: ignore[arg-type]
            return f"ok {envelope.id} {event!r}"
        raw_id, _, event = decode_record(headers, value)
        return f"ok {raw_id.decode()} {event!r}"
    except MalformedEvent:
        return "malformed"


headers_strategy = st.lists(
    st.tuples(
        st.sampled_from(["ce_id", "ce_type", "ce_source", "ce_subject", "ce_time", "traceparent", "x"]),
        st.one_of(
            st.none(),
            st.binary(max_size=8),
            st.sampled_from([b"", b"\xff\xfe", b"2024-05-01T10:00:00+00:00", b"not-a-time"]),
            st.just(EVENT.ce_type().encode()),
            st.just(b"de.wegweiser.unknown.v1"),
        ),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    mutation=headers_strategy,
    drop=st.sets(st.integers(0, 6)),
    value=st.one_of(st.none(), st.just(GOOD.value), st.binary(max_size=20), st.just(b'{"ags": 1}')),
)
def test_fast_decoding_agrees_with_the_envelope(
    mutation: list[tuple[str, bytes | None]], drop: set[int], value: bytes | None
) -> None:
    headers = [h for i, h in enumerate(GOOD.headers) if i not in drop] + mutation
    assert outcome(decode_record, headers, value) == outcome(decode, headers, value)


def test_a_good_record_keeps_its_id_type_and_time() -> None:
    ce_id, at, event = decode_record(list(GOOD.headers), GOOD.value)
    assert (ce_id.decode(), event) == (GOOD.event_id, EVENT)
    assert at == time_us(dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC))


def test_an_unknown_type_is_malformed() -> None:
    headers = [(k, b"de.wegweiser.x.v9" if k == "ce_type" else v) for k, v in GOOD.headers]
    with pytest.raises(MalformedEvent, match="unknown event type"):
        decode_record(headers, GOOD.value)
