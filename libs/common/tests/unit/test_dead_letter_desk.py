"""The shared dead-letter desk of the services' admin pages, without a broker: what it refuses before any
Kafka call, how it reads the retry's answer back, and how it groups the records per municipality."""

from types import SimpleNamespace
from typing import cast

from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import FormData
from starlette.requests import Request

from wegweiser.common.engine.dlq_command import DlqEntry
from wegweiser.common.web import dead_letters

GROUPS = ["p-referrals", "p-referrals-feedback"]


def request(query: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": dead_letters.DESK, "query_string": query.encode()}
    )


def test_the_retry_count_is_read_only_from_a_retry_that_led_back_to_the_desk() -> None:
    assert dead_letters.retried_count(request("done=retried&n=3&ags=08111000")) == 3
    assert dead_letters.retried_count(request("done=retried&n=drei")) is None
    assert dead_letters.retried_count(request("n=3")) is None


def test_records_are_grouped_per_municipality_and_those_without_one_come_first() -> None:
    keys = ["08111000", None, "08426001", "08111000"]
    entries = [cast(DlqEntry, SimpleNamespace(key=k, n=i)) for i, k in enumerate(keys)]
    grouped = dead_letters.by_municipality(entries)
    assert list(grouped) == ["", "08111000", "08426001"]
    assert [e.n for e in grouped["08111000"]] == [0, 3]  # type: ignore[attr-defined]


async def test_another_services_or_a_made_up_entry_is_not_found_and_nothing_is_audited() -> None:
    audited: list[tuple[list[str], list[str]]] = []

    async def audit(entries: list[str], outcome: list[str]) -> None:
        audited.append((entries, outcome))

    for entry in ("wegweiser.intake.arrivals.v1.dlq.p-casework:0:1", "kaputt"):
        answer = await dead_letters.retry_posted(
            FormData([("entry", "x.dlq.p-referrals:0:0"), ("entry", entry)]),
            bootstrap_servers="127.0.0.1:1",  # never reached: the ids are refused first
            groups=GROUPS,
            audit=audit,
            not_found=lambda: PlainTextResponse("not found", status_code=404),
            unavailable=lambda: Response(status_code=503),
        )
        assert answer.status_code == 404
    assert audited == []
