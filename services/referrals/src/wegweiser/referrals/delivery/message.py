"""What a webhook partner receives: the CloudEvent in HTTP *structured* mode.

The body is the whole event (``specversion``, ``id``, ``source``, ``type``, ``subject``, ``time``,
``datacontenttype`` and the payload under ``data``), so the signature over the body covers the type
and the subject: a receiver that dispatches on the body cannot be fooled by a changed header.
"""

from __future__ import annotations

import json

from wegweiser.common.envelope import SPECVERSION, encode
from wegweiser.common.events import Event

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
TRACE_HEADERS = ("traceparent", "tracestate")


def webhook_message(event: Event) -> tuple[dict[str, str], bytes]:
    """HTTP headers (content type, W3C trace context) and body of one event for a webhook partner."""
    record = encode(event)
    headers = {k: v.decode() for k, v in record.headers}
    attributes = {k.removeprefix("ce_"): v for k, v in headers.items() if k.startswith("ce_")}
    cloudevent = {
        **attributes,
        "specversion": SPECVERSION,
        "datacontenttype": "application/json",
        "data": json.loads(record.value),
    }
    http_headers = {"content-type": CONTENT_TYPE} | {k: headers[k] for k in TRACE_HEADERS if k in headers}
    return http_headers, json.dumps(cloudevent, ensure_ascii=False, separators=(",", ":")).encode()
