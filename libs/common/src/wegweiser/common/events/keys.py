"""The key topics: the data keys that seal a person's fields on Kafka (``wegweiser.common.personal_data``).

Keyed by the key id and compacted, so that ``person_key.shredded`` replaces the key itself: after
compaction the topic no longer holds it. The key is wrapped with the platform's key-wrapping key, so the
topic alone opens nothing. Intake's keys are read by casework, casework's by referrals.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from wegweiser.common import topics
from wegweiser.common.events.base import Event


class _PersonKeyEvent(Event):
    namespace: ClassVar[str] = "keys"

    kid: str = Field(description="the key id named in sealed blocks")
    person: str = Field(description="whose fields the key seals (the owner's person id or pseudonym)")

    def subject(self) -> str:
        return self.kid

    def key(self) -> str:
        return self.kid


class PersonKeyIssued(_PersonKeyEvent):
    """A data key (the concrete classes name its owner)."""

    wrapped_key: str = Field(description="base64 of nonce and AES-GCM ciphertext, AAD the key id")


class PersonKeyShredded(_PersonKeyEvent):
    """The person was erased: delete the key; every record sealed with it stays unreadable."""


class IntakePersonKeyIssued(PersonKeyIssued):
    name: ClassVar[str] = "person_key.issued"
    source: ClassVar[str] = "intake"
    topic: ClassVar[topics.TopicSpec] = topics.INTAKE_PERSON_KEYS


class IntakePersonKeyShredded(PersonKeyShredded):
    name: ClassVar[str] = "person_key.shredded"
    source: ClassVar[str] = "intake"
    topic: ClassVar[topics.TopicSpec] = topics.INTAKE_PERSON_KEYS


class CaseworkPersonKeyIssued(PersonKeyIssued):
    name: ClassVar[str] = "person_key.issued"
    source: ClassVar[str] = "casework"
    topic: ClassVar[topics.TopicSpec] = topics.CASEWORK_PERSON_KEYS


class CaseworkPersonKeyShredded(PersonKeyShredded):
    name: ClassVar[str] = "person_key.shredded"
    source: ClassVar[str] = "casework"
    topic: ClassVar[topics.TopicSpec] = topics.CASEWORK_PERSON_KEYS


PERSON_KEY_EVENTS: dict[str, tuple[type[PersonKeyIssued], type[PersonKeyShredded]]] = {
    "intake": (IntakePersonKeyIssued, IntakePersonKeyShredded),
    "casework": (CaseworkPersonKeyIssued, CaseworkPersonKeyShredded),
}
"""Each owner's pair of key events."""
