"""The AsyncAPI 3 document of statistics' topics: the indicator feed it sends, the facts it reads."""

from __future__ import annotations

from functools import cache
from typing import Any

from wegweiser.common import events, topics
from wegweiser.statistics.projection.batch import HANDLED

REF = "#/components/schemas/{model}"

CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 in Kafka binary mode, plus W3C trace context",
    "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_subject"],
    "properties": {
        "ce_id": {"type": "string", "description": "event id (UUID); consumers deduplicate by it"},
        "ce_source": {"type": "string", "examples": ["/wegweiser/statistics"]},
        "ce_type": {"type": "string", "examples": [events.IndicatorPublished.ce_type()]},
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "the aggregate: here the feed key"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string"},
        "tracestate": {"type": "string"},
    },
}


def _message(model: type[events.Event], schemas: dict[str, Any], key: str) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {
        "name": model.ce_type(),
        "title": model.__name__,
        "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.__name__,
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
        "payload": {"$ref": REF.format(model=model.__name__)},
        "bindings": {"kafka": {"key": {"type": "string", "description": key}, "bindingVersion": "0.5.0"}},
    }


def _channel(spec: topics.TopicSpec, description: str, message_names: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = {"cleanup.policy": ["compact" if spec.compacted else "delete"]}
    if spec.retention_ms is not None:
        config["retention.ms"] = spec.retention_ms
    return {
        "address": spec.name,
        "description": description,
        "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in message_names},
        "bindings": {
            "kafka": {
                "topic": spec.name,
                "partitions": spec.partitions,
                "topicConfiguration": config,
                "bindingVersion": "0.5.0",
            }
        },
    }


@cache
def document() -> dict[str, Any]:
    """The document served at ``/asyncapi.json``."""
    schemas: dict[str, Any] = {"CloudEventsHeaders": CLOUDEVENTS_HEADERS}
    messages: dict[str, Any] = {
        "IndicatorPublished": _message(
            events.IndicatorPublished,
            schemas,
            "<indicator>/<region>/<period>, e.g. consultations_by_type/08111/2024-Q1",
        )
    }
    inputs: dict[str, list[str]] = {}
    for model in HANDLED:
        messages[model.__name__] = _message(model, schemas, "municipality key (AGS)")
        inputs.setdefault(model.topic.name, []).append(model.__name__)
    channels = {
        "indicators": _channel(
            topics.INDICATORS,
            "Published indicators after disclosure control: one message per indicator, region and period; "
            'compacted, the latest message per key is current. "." marks a suppressed value, null one that '
            "cannot be computed; absent keys are 0.",
            ["IndicatorPublished"],
        )
    }
    names = {
        topics.INTAKE_FACTS.name: ("intakeFacts", topics.INTAKE_FACTS, "Pseudonymous arrival facts (read)."),
        topics.CASES.name: ("cases", topics.CASES, "Pseudonymous case events (read)."),
        topics.REFERRAL_STATUS.name: ("referralStatus", topics.REFERRAL_STATUS, "Referral lifecycle (read)."),
    }
    for topic, models in inputs.items():
        channel_id, spec, description = names[topic]
        channels[channel_id] = _channel(spec, description, models)
    operations: dict[str, Any] = {
        "sendIndicators": {
            "action": "send",
            "title": "Publish indicators",
            "description": (
                "Sent through statistics' outbox after each publication, only for keys whose values changed."
            ),
            "channel": {"$ref": "#/channels/indicators"},
            "messages": [{"$ref": "#/channels/indicators/messages/IndicatorPublished"}],
        }
    }
    for channel_id, channel in channels.items():
        if channel_id == "indicators":
            continue
        operations[f"receive{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": "receive",
            "title": f"Project {channel['address']}",
            "description": (
                "Consumed through the isolation engine (group wegweiser-statistics) and by rebuilds."
            ),
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [
                {"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in channel["messages"]
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Wegweiser Statistics",
            "version": "1.0.0",
            "description": (
                "Aggregate indicators of Integrationsmanagement in Baden-Württemberg, with disclosure "
                "control. Statistics reads pseudonymous topics only and never holds the pseudonym key."
            ),
            "license": {
                "name": "EUPL-1.2",
                "url": "https://interoperable-europe.ec.europa.eu/collection/eupl",
            },
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "Local development broker (deploy/local/kafka.sh)",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
