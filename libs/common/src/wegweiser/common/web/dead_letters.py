"""The dead-letter desk of a service's admin pages: its stuck Kafka records, and a button to retry them.

What ``wegweiser dlq`` does on the command line, for the consumer groups the service runs
(``common.engine.dlq_desk``): the open dead-lettered and parked records per municipality with their
reasons (``kern/dead_letters.html``), and the replay of the ones an admin picks. The service's routes
check the admin, render its own frame and write the replay into its own audit log; the rest is here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka.errors import KafkaError
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from wegweiser.common.engine import dlq_desk
from wegweiser.common.engine.dlq_command import DlqEntry

DESK = "/admin/dlq"
RETRY = "/admin/dlq/retry"
TEMPLATE = "kern/dead_letters.html"

Audit = Callable[[list[str], list[str]], Awaitable[None]]
"""Writes the retry (the entry ids, then ``wegweiser dlq replay``'s report lines) into the audit log."""


def dead_lettered_at(entry: DlqEntry) -> dt.datetime:
    return dt.datetime.fromtimestamp(entry.timestamp_ms / 1000, dt.UTC)


def by_municipality(entries: list[DlqEntry]) -> dict[str, list[DlqEntry]]:
    """The entries per Kafka key (the AGS; "" for none), the municipalities in key order."""
    grouped: dict[str, list[DlqEntry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.key or ""].append(entry)
    return dict(sorted(grouped.items()))


def retried_count(request: Request) -> int | None:
    """How many records the retry that led here handed back (``?done=retried&n=``), else None."""
    n = request.query_params.get("n", "")
    return int(n) if request.query_params.get("done") == "retried" and n.isdigit() else None


async def listing(request: Request, *, bootstrap_servers: str, groups: Sequence[str]) -> dict[str, Any]:
    """What ``kern/dead_letters.html`` shows (``?ags=`` narrows it to one municipality); KafkaError."""
    ags = (request.query_params.get("ags") or "").strip() or None
    entries = await dlq_desk.open_entries(bootstrap_servers=bootstrap_servers, groups=groups, ags=ags)
    return {
        "by_ags": by_municipality(entries),
        "ags": ags or "",
        "retried": retried_count(request),
        "reason": dlq_desk.reason,
        "is_dead": dlq_desk.is_dead,
        "at": dead_lettered_at,
        "desk_path": DESK,
        "retry_path": RETRY,
    }


async def desk_page(
    request: Request,
    *,
    bootstrap_servers: str,
    groups: Sequence[str],
    render: Callable[[dict[str, Any]], Response],
    unavailable: Callable[[], Response],
) -> Response:
    """The desk rendered by the service (``render(values)``), or its 503 page when Kafka cannot be read."""
    try:
        values = await listing(request, bootstrap_servers=bootstrap_servers, groups=groups)
    except KafkaError:
        return unavailable()
    return render(values)


async def retry_posted(
    form: FormData,
    *,
    bootstrap_servers: str,
    groups: Sequence[str],
    audit: Audit,
    not_found: Callable[[], Response],
    unavailable: Callable[[], Response],
) -> Response:
    """``wegweiser dlq replay`` for the form's entries (``entry``, one or more), audited; then the desk.

    An entry of another service's groups (or a made-up id) is not found, and nothing is replayed.
    """
    ids = [str(v) for v in form.getlist("entry")]
    try:
        report = await dlq_desk.retry(bootstrap_servers=bootstrap_servers, groups=groups, entry_ids=ids)
    except dlq_desk.NotOurEntry:
        return not_found()
    except KafkaError:
        return unavailable()
    await audit(ids, report)
    replayed = sum(line.startswith("replayed") for line in report)
    back = str(form.get("ags", "")).strip()
    query = f"&ags={back}" if back.isdigit() else ""
    return RedirectResponse(f"{DESK}?done=retried&n={replayed}{query}", status_code=303)
