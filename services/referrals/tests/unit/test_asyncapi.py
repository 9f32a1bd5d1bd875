"""The partner interface's AsyncAPI 3 document: valid against the official schema, complete, current."""

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from wegweiser.common import events
from wegweiser.referrals.asyncapi import DOC_PATH, document

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "asyncapi-3.0.0.schema.json").read_text())


def errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_the_document_is_valid_asyncapi_3() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    assert errors(doc) == []


def test_the_official_schema_catches_a_broken_document() -> None:
    broken = copy.deepcopy(document())
    broken["operations"]["sendFeedback"]["action"] = "publish"  # AsyncAPI 2 wording, invalid in 3
    del broken["info"]["version"]
    found = errors(broken)
    assert any("action" in e for e in found) and any("version" in e for e in found)


def test_every_reference_resolves_and_operations_use_their_channels_messages() -> None:
    doc = document()
    for operation in doc["operations"].values():
        channel_ref = operation["channel"]["$ref"]
        channel = resolve(doc, channel_ref)
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel_ref + "/messages/")
            assert resolve(doc, message["$ref"]) in channel["messages"].values()
    for ref in refs(doc):
        resolve(doc, ref)


def refs(node: Any) -> list[str]:
    """Every ``$ref`` in the document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in refs(item)]
    return []


@pytest.mark.parametrize(
    ("channel", "message", "model"),
    [
        ("partnerReferrals", "referralOffered", events.PartnerReferralOffered),
        ("partnerReferrals", "referralReminder", events.PartnerReferralReminder),
        ("partnerReferrals", "referralWithdrawn", events.PartnerReferralWithdrawn),
        ("partnerReferrals", "feedbackRejected", events.PartnerFeedbackRejected),
        ("partnerFeedback", "referralFeedback", events.PartnerFeedback),
    ],
)
def test_messages_describe_headers_payload_and_examples_that_agree(
    channel: str, message: str, model: type[events.Event]
) -> None:
    """A partner can build a consumer from the document: the examples validate and parse."""
    doc = document()
    spec = doc["channels"][channel]["messages"][message]
    assert spec["headers"]["properties"]["ce_type"]["const"] == model.ce_type()
    assert spec["bindings"]["kafka"]["key"]["type"] == "string"
    payload_schema = {**resolve(doc, spec["payload"]["$ref"]), "components": doc["components"]}
    for example in spec["examples"]:
        jsonschema.validate(example["headers"], spec["headers"])
        jsonschema.validate(example["payload"], payload_schema)
        assert model.model_validate(example["payload"]).subject() == example["headers"]["ce_subject"]
    assert list(jsonschema.Draft7Validator(payload_schema).iter_errors({"referral_id": 7}))  # it can fail


def test_the_security_and_topics_are_stated() -> None:
    doc = document()
    assert doc["components"]["securitySchemes"]["scram"]["type"].startswith("scramSha")
    assert doc["servers"]["production"]["security"]
    for channel in doc["channels"].values():
        assert "{partnerId}" in channel["address"]
        assert channel["bindings"]["kafka"]["topicConfiguration"]["retention.ms"] == 30 * 24 * 3600 * 1000


def test_the_committed_copy_is_current() -> None:
    """Run ``./dev run python -m wegweiser.referrals.asyncapi --write`` after changing a partner message."""
    assert json.loads(DOC_PATH.read_text()) == json.loads(json.dumps(document()))
