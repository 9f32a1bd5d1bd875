#!/usr/bin/env python3
"""An example webhook partner: verifies Wegweiser's Standard Webhooks signature and acknowledges with 204.

Standard library only. ``POST /webhooks/<partner_id>`` with a CloudEvent in HTTP structured mode
(``application/cloudevents+json``: ``id``, ``type``, ``subject`` and ``data`` in the JSON body) and the
headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64>``, where the signature
is HMAC-SHA256 over ``id + "." + timestamp + "." + body`` keyed with the base64-decoded secret after
``whsec_``. A bad signature or a timestamp outside the tolerance gets 401. An id already seen within
the tolerance is a replay: it is refused (not acted on again) and answered 204, so that a genuine
retry after a lost answer stops. Type and subject are read from the verified body only.

    python services/referrals/examples/webhook_receiver.py --port 8090 --secret whsec_...
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_S = 300


def verified(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    """Signature over id, timestamp and body, with a timestamp inside the tolerance."""
    webhook_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    try:
        if not webhook_id or abs(now - int(timestamp)) > TOLERANCE_S:
            return False
        key = base64.b64decode(secret.removeprefix("whsec_"))
    except ValueError:
        return False
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(expected, s) for s in headers.get("webhook-signature", "").split())


class Receiver:
    """Verification, replay refusal and the partner's own action (``act``), without the HTTP server."""

    def __init__(self, secret: str, act: Callable[[dict[str, Any]], None]) -> None:
        self.secret = secret
        self.act = act
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def receive(self, headers: Mapping[str, str], body: bytes, now: float) -> tuple[int, str]:
        """(HTTP status, what happened): 401 "invalid", 204 "replay" (refused) or 204 "accepted"."""
        headers = {k.lower(): v for k, v in headers.items()}
        if not verified(self.secret, headers, body, now):
            return 401, "invalid"
        with self._lock:
            for old in [k for k, at in self._seen.items() if now - at > 2 * TOLERANCE_S]:
                del self._seen[old]
            if headers["webhook-id"] in self._seen:
                return 204, "replay"
            self._seen[headers["webhook-id"]] = now
        self.act(json.loads(body))
        return 204, "accepted"


_PRINTING = threading.Lock()  # the server's threads would otherwise mix two lines into one


def print_event(event: dict[str, Any]) -> None:
    with _PRINTING:
        print(f"{event.get('type')}: referral {event.get('subject')}", flush=True)  # ids only, no names


def handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, _ = receiver.receive(dict(self.headers.items()), body, time.time())
            self.send_response(status)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # keep personal data out of logs
            return

    return Handler


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--port", type=int, default=8090)
    cli.add_argument("--secret", required=True, help="the partner's webhook secret (whsec_...)")
    args = cli.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(Receiver(args.secret, print_event)))
    server.serve_forever()


if __name__ == "__main__":
    main()
