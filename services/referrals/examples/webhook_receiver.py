#!/usr/bin/env python3
"""An example webhook partner: verifies Wegweiser's signature and acknowledges with 204.

Standard library only. ``POST /webhooks/<partner_id>`` with CloudEvents HTTP binary mode (``ce-*``
headers, JSON body) and ``Webhook-Id``, ``Webhook-Timestamp``, ``Webhook-Signature: v1=<hex>``, where
the hex digest is HMAC-SHA256(secret, timestamp + "." + body). Requests outside the replay window, with a
bad signature or an already seen ``Webhook-Id`` are refused (401) or acknowledged without effect (204).

    python services/referrals/examples/webhook_receiver.py --port 8090 --secret whsec_...
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLAY_WINDOW_S = 300


def valid(secret: str, timestamp: str, signatures: str, body: bytes, now: float) -> bool:
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > REPLAY_WINDOW_S:
        return False
    expected = "v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures.split())


def handler(secret: str) -> type[BaseHTTPRequestHandler]:
    seen: dict[str, float] = {}

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            now = time.time()
            if not valid(secret, self.headers.get("Webhook-Timestamp", ""),
                         self.headers.get("Webhook-Signature", ""), body, now):  # fmt: skip
                self.send_response(401)
                self.end_headers()
                return
            delivery_id = self.headers.get("Webhook-Id", "")
            for old in [k for k, t in seen.items() if now - t > 2 * REPLAY_WINDOW_S]:
                del seen[old]
            if delivery_id not in seen:
                seen[delivery_id] = now
                message = json.loads(body)
                print(f"{self.headers.get('ce-type')}: referral {message.get('referral_id')}", flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # keep personal data out of logs
            return

    return Receiver


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--port", type=int, default=8090)
    cli.add_argument("--secret", required=True, help="the partner's webhook secret (whsec_...)")
    args = cli.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), handler(args.secret)).serve_forever()


if __name__ == "__main__":
    main()
