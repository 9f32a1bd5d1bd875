"""The AsyncAPI 3 document of the partner interface, built from the event models themselves.

Written from the partner's side (it *receives* referrals and *sends* feedback), so a partner can build
its consumer from this document alone. ``python -m wegweiser.referrals.asyncapi --write`` refreshes the
committed copy in ``services/referrals/docs/asyncapi.json``; a test keeps both equal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from wegweiser.common import events, topics
from wegweiser.common.envelope import SPECVERSION
from wegweiser.common.events import Event
from wegweiser.referrals.delivery.signing import TOLERANCE_S

DOC_PATH = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"
REF = "#/components/schemas/{model}"
KAFKA_BINDING = "0.5.0"

DESCRIPTION = f"""\
How a partner agency receives referrals from Wegweiser and answers them.

* **Your topics**: `wegweiser.partner.<partner_id>.referrals.v1` (you read) and
  `wegweiser.partner.<partner_id>.feedback.v1` (you write). Your Kafka user may read and write nothing
  else; your consumer group ids must start with `partner-<partner_id>`.
* **Records**: CloudEvents 1.0 in Kafka *binary mode*: attributes in `ce_*` headers, the payload as JSON
  in the value, the municipality key (AGS) as the record key. Dispatch on `ce_type`; ignore fields
  you do not know (we only add optional fields within a version); ignore `ce_type`s you do not know.
* **Personal data**: you get only the fields the programme needs (see the catalogue) and only because
  the person consented to this programme and, where restricted, to you. **On your Kafka topic** a
  `referral.offered` carries no personal data (since 1.2.0): `person` is empty and `person_url` names
  `/v1/partner/referrals/{{referral_id}}/person`, which answers the person and the note for you while
  the referral is live (410 once it ended, 404 once the data was erased; every read is logged), with
  your partner token: `curl -H "Authorization: Bearer $TOKEN" https://<referrals-host>$PERSON_URL`. A
  topic is a log that cannot be erased; the API forgets the person when the referral ends. Webhook
  deliveries carry `person` and the note directly.
  Delete it when asked by `referral.withdrawn` or `referral.erased` (the person's data was erased on
  our side: at their request or after the retention period; delete at once, whatever the referral's
  state) and in line with your own retention rules.
* **Answering**: send `referral.feedback` with the `referral_id`, a `feedback_id` of your choice
  (reuse it when you resend the same answer: duplicates are ignored) and an `outcome`:
  `accepted` or `declined` (with `reason`) before `respond_by`, later `started`, `completed` or
  `dropped`. Without an answer you get one `referral.reminder`, then the referral expires.
  An answer that cannot be applied comes back as `feedback.rejected` on your referrals topic.
* **Webhook partners** receive the same messages as HTTPS POSTs in CloudEvents HTTP *structured mode*
  (`content-type: application/cloudevents+json`; the body holds `id`, `source`, `type`, `subject`,
  `time` and the payload under `data`), signed as the Standard Webhooks specification defines it:
  `webhook-id` (the delivery; stable across retries), `webhook-timestamp` (Unix seconds of this
  attempt) and `webhook-signature: v1,<base64 HMAC-SHA256>` over `webhook-id + "." + webhook-timestamp
  + "." + body`, keyed with the base64-decoded part of your secret after `whsec_`. Verify before you
  parse; take `type` and `subject` from the verified body, never from other headers; refuse timestamps
  more than {TOLERANCE_S} s from now and any `webhook-id` you have already seen within that time
  (answer 2xx for it, without acting again). During a secret rotation several signatures come
  space-separated: accept if any matches. Answer with
  `POST /v1/partner/referrals/{{referral_id}}/feedback`.

  Python (standard library):

  ```python
  import base64, hashlib, hmac, time

  def verified(secret: str, headers: dict, body: bytes, tolerance_s: int = {TOLERANCE_S}) -> bool:
      wid, ts = headers["webhook-id"], headers["webhook-timestamp"]
      if abs(time.time() - int(ts)) > tolerance_s:
          return False
      key = base64.b64decode(secret.removeprefix("whsec_"))
      mac = hmac.new(key, f"{{wid}}.{{ts}}.".encode() + body, hashlib.sha256).digest()
      expected = "v1," + base64.b64encode(mac).decode()
      return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())
  ```

  JavaScript (Node.js):

  ```javascript
  const crypto = require("node:crypto");

  function verified(secret, headers, body, toleranceS = {TOLERANCE_S}) {{
    const id = headers["webhook-id"], ts = headers["webhook-timestamp"];
    if (Math.abs(Date.now() / 1000 - Number(ts)) > toleranceS) return false;
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const mac = crypto.createHmac("sha256", key).update(`${{id}}.${{ts}}.`).update(body).digest("base64");
    const expected = Buffer.from(`v1,${{mac}}`);
    return headers["webhook-signature"].split(" ").some((s) =>
      s.length === expected.length && crypto.timingSafeEqual(Buffer.from(s), expected));
  }}
  ```

  `body` is the raw request body (bytes / Buffer), exactly as received.
"""


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema with its nested models hoisted into components/schemas."""
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _headers(event: type[Event], source: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_subject", "content-type"],
        "properties": {
            "ce_id": {"type": "string", "description": "unique event id (UUID); duplicates share it"},
            "ce_source": {"type": "string", "examples": [source]},
            "ce_type": {"type": "string", "const": event.ce_type()},
            "ce_specversion": {"type": "string", "const": SPECVERSION},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_subject": {"type": "string", "description": "the referral id: order holds per subject"},
            "content-type": {"type": "string", "const": "application/json"},
            "traceparent": {"type": "string", "description": "W3C trace context (optional)"},
            "tracestate": {"type": "string"},
        },
    }


def _message(
    event: type[Event], *, title: str, summary: str, example: Event, source: str, schemas: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": event.ce_type(),
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "headers": _headers(event, source),
        "payload": _schema(event, schemas),
        "correlationId": {"description": "the referral", "location": "$message.header#/ce_subject"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "municipality key (AGS), e.g. 08111000"},
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "examples": [
            {
                "name": "example",
                "headers": {
                    "ce_id": "3b0f3c4e-2f4b-4bb8-8f0c-6c9a4c1f2d11",
                    "ce_source": source,
                    "ce_type": event.ce_type(),
                    "ce_specversion": SPECVERSION,
                    "ce_time": "2026-11-02T09:30:00+00:00",
                    "ce_subject": example.subject(),
                    "content-type": "application/json",
                },
                "payload": example.model_dump(mode="json"),
            }
        ],
    }


def _topic_binding(spec: topics.TopicSpec) -> dict[str, Any]:
    return {
        "kafka": {
            "topic": spec.name,
            "partitions": spec.partitions,
            "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": spec.retention_ms},
            "bindingVersion": KAFKA_BINDING,
        }
    }


def _messages(schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every partner message with a fixed example; their schemas are collected into ``schemas``."""
    referral_id = uuid.UUID("9f8b6a2e-5a7e-4c43-b1b2-0a3c5d7e9f10")
    at = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    respond_by = dt.datetime(2026, 11, 16, 23, 0, tzinfo=dt.UTC)
    common = {"ags": "08111000", "referral_id": referral_id, "partner_id": "vhs-stuttgart"}
    ours, theirs = "/wegweiser/referrals", "/partners/vhs-stuttgart"
    # key in the channel, title, summary, example (of the event class), source
    messages: tuple[tuple[str, str, str, Event, str], ...] = (
        (
            "referralOffered",
            "Referral offered",
            "A person referred to you, with only the programme's minimum personal data.",
            events.PartnerReferralOffered(
                **common,
                programme="integrationskurs",
                municipality="Stuttgart, Landeshauptstadt",
                requested_on=dt.date(2026, 11, 2),
                respond_by=respond_by,
                referring_provider_id="kreis-08111",
                person=events.PartnerPerson(
                    family_name="Haddad",
                    given_names="Rania",
                    date_of_birth="1988-03",
                    languages=("ar", "en"),
                    phone="+49 711 000000",
                ),
            ),
            ours,
        ),
        (
            "referralReminder",
            "Reminder",
            "No answer yet; the referral expires at respond_by.",
            events.PartnerReferralReminder(**common, respond_by=respond_by),
            ours,
        ),
        (
            "referralWithdrawn",
            "Referral withdrawn",
            "Consent withdrawn or referral expired: stop and delete the personal data you received.",
            events.PartnerReferralWithdrawn(**common, reason="consent_withdrawn"),
            ours,
        ),
        (
            "referralErased",
            "Person's data erased",
            "Erased on our side (on request, or retention over): delete what you received, in any state.",
            events.PartnerReferralErased(**common, reason="request"),
            ours,
        ),
        (
            "feedbackRejected",
            "Feedback rejected",
            "One of your answers could not be applied; the referral is unchanged.",
            events.PartnerFeedbackRejected(
                **common,
                feedback_id=uuid.UUID("0d7e5c1a-9a43-4e55-8f7a-1b2c3d4e5f60"),
                code="invalid_transition",
                detail_de="Eine Überweisung im Zustand „abgelehnt“ kann man nicht beginnen.",
                detail_en="A referral that is declined cannot start.",
            ),
            ours,
        ),
        (
            "referralFeedback",
            "Referral feedback",
            "Your answer: accepted, declined (reason), started, completed or dropped.",
            events.PartnerFeedback(
                ags="08111000",
                referral_id=referral_id,
                feedback_id=uuid.UUID("0d7e5c1a-9a43-4e55-8f7a-1b2c3d4e5f60"),
                outcome="accepted",
                occurred_at=at,
            ),
            theirs,
        ),
    )
    return {
        key: _message(
            type(example), title=title, summary=summary, example=example, source=source, schemas=schemas
        )
        for key, title, summary, example, source in messages
    }


PARTNER_PARAMETER = {
    "partnerId": {
        "description": "your partner id (lower-case letters, digits and '-'), e.g. vhs-stuttgart",
        "examples": ["vhs-stuttgart"],
    }
}
SERVERS = {
    "production": {
        "host": "kafka.wegweiser.example:9094",
        "protocol": "kafka",
        "protocolVersion": "3.0",
        "description": "SASL_SSL with SCRAM-SHA-512; the operator gives you user and password.",
        "security": [{"$ref": "#/components/securitySchemes/scram"}],
    },
    "local": {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": "the development broker of `./dev up` (PLAINTEXT, no authentication)",
    },
}


def _channels(messages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    feedback = messages.pop("referralFeedback")
    return {
        "partnerReferrals": {
            "address": "wegweiser.partner.{partnerId}.referrals.v1",
            "title": "Your referrals",
            "description": "Personal data (30 days retention). Only you and Wegweiser can access it.",
            "parameters": PARTNER_PARAMETER,
            "messages": messages,
            "bindings": _topic_binding(events.PARTNER_REFERRALS),
        },
        "partnerFeedback": {
            "address": "wegweiser.partner.{partnerId}.feedback.v1",
            "title": "Your answers",
            "description": "Write-only for you; Wegweiser applies each feedback_id once.",
            "parameters": PARTNER_PARAMETER,
            "messages": {"referralFeedback": feedback},
            "bindings": _topic_binding(events.PARTNER_FEEDBACK),
        },
    }


def document() -> dict[str, Any]:
    """The whole AsyncAPI 3.0.0 document (deterministic, so the committed copy can be compared)."""
    schemas: dict[str, Any] = {}
    channels = _channels(_messages(schemas))
    return {
        "asyncapi": "3.0.0",
        "id": "urn:de:wegweiser:referrals:partner-interface",
        "info": {
            "title": "Wegweiser Referrals: partner interface",
            "version": "1.2.0",  # 1.1.0: referral.erased added; 1.2.0: person_url (claim check on Kafka)
            "description": DESCRIPTION,
            "license": {
                "name": "EUPL-1.2",
                "url": "https://interoperable-europe.ec.europa.eu/collection/eupl",
            },
            "tags": [{"name": "referrals"}, {"name": "partners"}],
        },
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": channels,
        "operations": {
            "receiveReferrals": {
                "action": "receive",
                "title": "Receive referrals",
                "summary": "Consume your referrals topic as consumer group partner-<partnerId>[-...].",
                "channel": {"$ref": "#/channels/partnerReferrals"},
                "messages": [
                    {"$ref": f"#/channels/partnerReferrals/messages/{name}"}
                    for name in (
                        "referralOffered",
                        "referralReminder",
                        "referralWithdrawn",
                        "referralErased",
                        "feedbackRejected",
                    )
                ],
                "bindings": {
                    "kafka": {
                        "groupId": {"type": "string", "pattern": "^partner-[a-z0-9-]+"},
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            },
            "sendFeedback": {
                "action": "send",
                "title": "Answer referrals",
                "summary": "Produce one referral.feedback per answer, keyed by the referral's AGS.",
                "channel": {"$ref": "#/channels/partnerFeedback"},
                "messages": [{"$ref": "#/channels/partnerFeedback/messages/referralFeedback"}],
            },
        },
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512 over TLS; ACLs limit you to your own two topics.",
                }
            },
        },
    }


def write(path: Path = DOC_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--write", action="store_true", help="refresh the committed document")
    if cli.parse_args().write:
        write()
    else:
        print(json.dumps(document(), indent=2, ensure_ascii=False))
