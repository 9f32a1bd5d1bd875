#!/usr/bin/env python3
"""An example partner: reads its referrals topic and answers on its feedback topic.

Built from the AsyncAPI document alone (``GET /asyncapi.json``): plain aiokafka and JSON, none of
Wegweiser's own code. The topic carries no personal data: with ``--token`` (a partner token) the example
reads the person of an offer from its ``person_url`` on the partner API (``--api``). Run it against the
development broker:

    ./dev run python services/referrals/examples/partner_consumer.py --partner vhs-stuttgart \
        --token "$(./dev token --role partner --partner vhs-stuttgart)"

Production adds SASL/SCRAM over TLS: ``--security-protocol SASL_SSL --sasl-mechanism SCRAM-SHA-512
--username partner-vhs-stuttgart --password ...`` (the operator hands out user and password).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import time
import urllib.error
import urllib.request
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

OFFERED = "de.wegweiser.referrals.partner.referral.offered.v1"
REMINDER = "de.wegweiser.referrals.partner.referral.reminder.v1"
WITHDRAWN = "de.wegweiser.referrals.partner.referral.withdrawn.v1"
ERASED = "de.wegweiser.referrals.partner.referral.erased.v1"
REJECTED = "de.wegweiser.referrals.partner.feedback.rejected.v1"
FEEDBACK = "de.wegweiser.partner.referral.feedback.v1"


def feedback_record(partner: str, offer: dict, outcome: str, reason: str | None) -> tuple[bytes, bytes, list]:
    """One answer: CloudEvents binary mode, keyed by the referral's municipality (AGS)."""
    referral_id = offer["referral_id"]
    # Derived from referral and outcome: a resend after a crash reuses it, and Wegweiser ignores the copy.
    feedback_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{partner}/{referral_id}/{outcome}")
    payload = {
        "ags": offer["ags"],
        "referral_id": referral_id,
        "feedback_id": str(feedback_id),
        "outcome": outcome,
        "reason": reason,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    headers = {
        "ce_id": str(uuid.uuid4()),
        "ce_source": f"/partners/{partner}",
        "ce_type": FEEDBACK,
        "ce_specversion": "1.0",
        "ce_time": dt.datetime.now(dt.UTC).isoformat(),
        "ce_subject": referral_id,
        "content-type": "application/json",
    }
    return offer["ags"].encode(), json.dumps(payload).encode(), [(k, v.encode()) for k, v in headers.items()]


def read_person(api: str, token: str, person_url: str, *, attempts: int = 30) -> dict | None:
    """The consented fields and the note of a live referral (the claim check of ``referral.offered``).

    None once the referral has ended or was erased (410, 404): nothing left to read. While the API cannot
    be reached or answers 5xx (a restart, say), it tries again for about a minute, then gives up.
    """
    request = urllib.request.Request(
        api.rstrip("/") + person_url, headers={"Authorization": f"Bearer {token}"}
    )
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as refused:
            if refused.code in (404, 410):
                return None
            if refused.code < 500 or attempt == attempts:
                raise
        except urllib.error.URLError:
            if attempt == attempts:
                raise
        time.sleep(min(2.0, 0.25 * attempt))
    return None


async def run(args: argparse.Namespace) -> None:
    security = {
        "security_protocol": args.security_protocol,
        **(
            {"sasl_mechanism": args.sasl_mechanism, "sasl_plain_username": args.username,
             "sasl_plain_password": args.password}
            if args.security_protocol.startswith("SASL") else {}
        ),
    }  # fmt: skip
    consumer = AIOKafkaConsumer(
        f"wegweiser.partner.{args.partner}.referrals.v1",
        bootstrap_servers=args.bootstrap_servers,
        group_id=args.group or f"partner-{args.partner}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **security,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap_servers, acks="all", enable_idempotence=True, **security
    )
    await consumer.start()
    await producer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"partner {args.partner}: waiting for referrals", flush=True)
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    ce_type = headers.get("ce_type")
                    message = json.loads(record.value) if record.value else {}
                    if ce_type == OFFERED:
                        print(f"referral {message['referral_id']} ({message['programme']}): person at "
                              f"{message['person_url']}")  # fmt: skip
                        if args.token:
                            found = await asyncio.to_thread(
                                read_person, args.api, args.token, message["person_url"]
                            )
                            if found is None:
                                print(f"referral {message['referral_id']}: ended or erased meanwhile")
                            else:
                                fields = sorted(k for k, v in found["person"].items() if v is not None)
                                print(f"referral {message['referral_id']}: fields {fields}")
                        key, value, out = feedback_record(args.partner, message, args.answer, args.reason)
                        await producer.send_and_wait(
                            f"wegweiser.partner.{args.partner}.feedback.v1", value, key=key, headers=out
                        )
                        print(f"answered {message['referral_id']}: {args.answer}", flush=True)
                    elif ce_type == REMINDER:
                        print(f"reminder for {message['referral_id']}: answer by {message['respond_by']}")
                    elif ce_type == WITHDRAWN:
                        print(f"withdrawn {message['referral_id']} ({message['reason']}): delete its data")
                    elif ce_type == ERASED:
                        print(f"erased {message['referral_id']} ({message['reason']}): delete its data now")
                    elif ce_type == REJECTED:
                        print(f"answer rejected for {message['referral_id']}: {message['detail_en']}")
                    # Unknown types are ignored: new message types may be added within a version.
            await consumer.commit()  # after the answers were acknowledged: at-least-once
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    cli.add_argument("--partner", required=True, help="your partner id, e.g. vhs-stuttgart")
    cli.add_argument("--group", help="consumer group (default partner-<id>; must start with it)")
    cli.add_argument("--api", default="http://127.0.0.1:8003", help="the referrals service (partner API)")
    cli.add_argument("--token", help="your partner token, to read the person of an offer")
    cli.add_argument("--answer", default="accepted", choices=["accepted", "declined"])
    cli.add_argument("--reason", help="for declined, e.g. no_capacity")
    cli.add_argument("--security-protocol", default="PLAINTEXT")
    cli.add_argument("--sasl-mechanism", default="SCRAM-SHA-512")
    cli.add_argument("--username")
    cli.add_argument("--password")
    asyncio.run(run(cli.parse_args()))


if __name__ == "__main__":
    main()
