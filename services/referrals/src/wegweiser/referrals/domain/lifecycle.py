"""The referral's lifecycle as a pure state machine (docs/domain.md).

requested → sent → accepted / declined → started → completed / dropped; sent → expired when the
partner never answers (after one reminder); requested → unroutable when it cannot go anywhere. A
withdrawn consent drops a referral that is under way. Repeating the step that led to the current state
is a no-op, so answers can be resent; any other step the table does not allow is refused with a reason.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal, cast, get_args

from pydantic import BaseModel, ConfigDict

from wegweiser.common.bilingual import BilingualError
from wegweiser.common.events import DeclineReason, DropReason, Programme, UnroutableReason
from wegweiser.common.retention import RetentionPeriod
from wegweiser.referrals.domain.workdays import BERLIN

State = Literal[
    "requested", "sent", "accepted", "declined", "started", "completed", "dropped", "expired", "unroutable"
]  # fmt: skip
Action = Literal[
    "send", "refuse", "remind", "accept", "decline", "start", "complete", "drop", "withdraw", "expire"
]  # fmt: skip

TRANSITIONS: dict[State, dict[Action, State]] = {
    "requested": {"send": "sent", "refuse": "unroutable"},
    "sent": {
        "remind": "sent",
        "accept": "accepted",
        "decline": "declined",
        "expire": "expired",
        "withdraw": "dropped",
    },
    # Our reading: a person can also drop out between acceptance and start (e.g. never shows up).
    "accepted": {"start": "started", "drop": "dropped", "withdraw": "dropped"},
    "started": {"complete": "completed", "drop": "dropped", "withdraw": "dropped"},
    "declined": {},
    "completed": {},
    "dropped": {},
    "expired": {},
    "unroutable": {},
}
TERMINAL: frozenset[State] = frozenset(s for s, moves in TRANSITIONS.items() if not moves)
AWAITING_ANSWER: State = "sent"

STATE_NAMES: dict[State, tuple[str, str]] = {
    "requested": ("angefragt", "requested"),
    "sent": ("gesendet", "sent"),
    "accepted": ("angenommen", "accepted"),
    "declined": ("abgelehnt", "declined"),
    "started": ("begonnen", "started"),
    "completed": ("abgeschlossen", "completed"),
    "dropped": ("abgebrochen", "dropped"),
    "expired": ("abgelaufen", "expired"),
    "unroutable": ("nicht zustellbar", "unroutable"),
}
ACTION_NAMES: dict[Action, tuple[str, str]] = {
    "send": ("senden", "send"),
    "refuse": ("zurückweisen", "refuse"),
    "remind": ("erinnern", "remind"),
    "accept": ("annehmen", "accept"),
    "decline": ("ablehnen", "decline"),
    "start": ("beginnen", "start"),
    "complete": ("abschließen", "complete"),
    "drop": ("abbrechen", "drop"),
    "withdraw": ("zurückziehen", "withdraw"),
    "expire": ("ablaufen lassen", "expire"),
}


class InvalidTransition(BilingualError, ValueError):
    """The lifecycle forbids the step; ``code`` for machines, German and English text for people."""

    def __init__(self, code: str, de: str, en: str) -> None:
        super().__init__(de, en)
        self.code = code


class Referral(BaseModel):
    """One referral of one person to one programme; pseudonymous (ids, codes and dates only)."""

    model_config = ConfigDict(frozen=True)

    referral_id: uuid.UUID
    case_id: uuid.UUID
    ags: str
    provider_id: str
    programme: Programme
    consent_id: uuid.UUID
    requested_on: dt.date
    state: State = "requested"
    partner_id: str | None = None
    reason: str | None = None
    started_on: dt.date | None = None
    sent_at: dt.datetime | None = None
    remind_at: dt.datetime | None = None
    reminded_at: dt.datetime | None = None
    expire_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Send:
    partner_id: str
    at: dt.datetime
    remind_at: dt.datetime
    expire_at: dt.datetime
    action: Action = "send"


@dataclass(frozen=True, slots=True)
class Refuse:
    reason: UnroutableReason
    at: dt.datetime
    action: Action = "refuse"


@dataclass(frozen=True, slots=True)
class Remind:
    at: dt.datetime
    action: Action = "remind"


@dataclass(frozen=True, slots=True)
class Accept:
    at: dt.datetime
    action: Action = "accept"


@dataclass(frozen=True, slots=True)
class Decline:
    reason: DeclineReason
    at: dt.datetime
    action: Action = "decline"


@dataclass(frozen=True, slots=True)
class Start:
    started_on: dt.date
    at: dt.datetime
    action: Action = "start"


@dataclass(frozen=True, slots=True)
class Complete:
    at: dt.datetime
    action: Action = "complete"


@dataclass(frozen=True, slots=True)
class Drop:
    reason: DropReason | None
    at: dt.datetime
    action: Action = "drop"


@dataclass(frozen=True, slots=True)
class Withdraw:
    """The person withdrew the consent: the referral stops wherever it is."""

    at: dt.datetime
    action: Action = "withdraw"


@dataclass(frozen=True, slots=True)
class Expire:
    at: dt.datetime
    action: Action = "expire"


Command = Send | Refuse | Remind | Accept | Decline | Start | Complete | Drop | Withdraw | Expire


@dataclass(frozen=True, slots=True)
class Changed:
    """The step happened: ``referral`` is the new state, ``action`` names the step for the event."""

    referral: Referral
    action: Action


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The step had already happened (a resent answer, a second timer tick): nothing to do."""

    referral: Referral


def decide(referral: Referral, command: Command) -> Changed | Unchanged:
    """Apply one step, or say why it is not allowed (InvalidTransition)."""
    action = command.action
    if _repeats(referral, command):
        return Unchanged(referral)
    target = TRANSITIONS[referral.state].get(action)
    if target is None:
        state_de, state_en = STATE_NAMES[referral.state]
        action_de, action_en = ACTION_NAMES[action]
        raise InvalidTransition(
            "invalid_transition",
            f"Eine Überweisung im Zustand „{state_de}“ kann man nicht {action_de}.",
            f"A referral that is {state_en} cannot {action_en}.",
        )
    changes: dict[str, object] = {"state": target, "updated_at": command.at}
    match command:
        case Send():
            changes |= {
                "partner_id": command.partner_id,
                "sent_at": command.at,
                "remind_at": command.remind_at,
                "expire_at": command.expire_at,
            }
        case Refuse():
            changes["reason"] = command.reason
        case Remind():
            changes["reminded_at"] = command.at
        case Decline():
            changes["reason"] = command.reason
        case Start():
            if command.started_on < referral.requested_on:
                raise InvalidTransition(
                    "started_before_request",
                    "Der Beginn liegt vor dem Datum der Anfrage.",
                    "The start date lies before the date of the request.",
                )
            changes["started_on"] = command.started_on
        case Drop():
            changes["reason"] = command.reason
        case Withdraw():
            changes["reason"] = "consent_withdrawn"
    return Changed(referral.model_copy(update=changes), action)


def _repeats(referral: Referral, command: Command) -> bool:
    """True when the command only restates what already happened (idempotent answers and timers)."""
    match command:
        case Send():
            return referral.state != "requested" and referral.partner_id == command.partner_id
        case Remind():
            return referral.reminded_at is not None
        case Withdraw():
            return referral.state == "dropped" and referral.reason == "consent_withdrawn"
    repeated_state: dict[Action, State] = {
        "refuse": "unroutable",
        "accept": "accepted",
        "decline": "declined",
        "start": "started",
        "complete": "completed",
        "drop": "dropped",
        "expire": "expired",
    }
    return repeated_state.get(command.action) == referral.state


def from_partner_answer(
    outcome: str, *, reason: str | None, started_on: dt.date | None, today: dt.date, at: dt.datetime
) -> Command:
    """A partner's answer as a lifecycle step; a decline needs a decline reason, a drop allows one."""
    decline_reasons: tuple[str, ...] = get_args(DeclineReason)
    drop_reasons: tuple[str, ...] = get_args(DropReason)
    match outcome:
        case "accepted":
            return Accept(at)
        case "declined":
            if reason not in decline_reasons:
                raise InvalidTransition(
                    "reason_required",
                    f"Eine Ablehnung braucht einen Grund: {', '.join(decline_reasons)}.",
                    f"A decline needs a reason: {', '.join(decline_reasons)}.",
                )
            return Decline(cast(DeclineReason, reason), at)
        case "started":
            return Start(started_on or today, at)
        case "completed":
            return Complete(at)
        case "dropped":
            if reason is not None and reason not in drop_reasons:
                raise InvalidTransition(
                    "unknown_reason",
                    f"Unbekannter Abbruchgrund; erlaubt: {', '.join(drop_reasons)}.",
                    f"Unknown drop reason; allowed: {', '.join(drop_reasons)}.",
                )
            return Drop(cast(DropReason | None, reason), at)
    raise InvalidTransition(
        "unknown_outcome", f"Unbekannte Antwort „{outcome}“.", f"Unknown answer {outcome!r}."
    )


ANSWER_REASONS: dict[str, tuple[str, str]] = {
    "no_capacity": ("Keine freien Plätze", "No capacity"),
    "not_eligible": ("Voraussetzungen nicht erfüllt", "Not eligible"),
    "outside_service_area": ("Außerhalb des Einzugsgebiets", "Outside the service area"),
    "person_unreachable": ("Person nicht erreichbar", "Person unreachable"),
    "duplicate": ("Doppelte Überweisung", "Duplicate referral"),
    "person_withdrew": ("Person hat abgebrochen", "The person withdrew"),
    "no_show": ("Person ist nicht erschienen", "The person did not show up"),
    "moved_away": ("Person ist verzogen", "The person moved away"),
    "consent_withdrawn": ("Einwilligung widerrufen", "Consent withdrawn"),
    "other": ("Sonstiger Grund", "Other reason"),
}
"""Texts for the partners' reason codes, for counsellors (German first)."""


def ended_on(referral: Referral) -> dt.date | None:
    """The day (Europe/Berlin) the referral reached its final state; None while it is under way."""
    if referral.state not in TERMINAL:
        return None
    at = referral.updated_at
    if at is None:
        return referral.requested_on
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(BERLIN).date()  # stored as UTC


def due_for_erasure(referral: Referral, period: RetentionPeriod, *, today: dt.date) -> bool:
    """Finished longer ago than the retention period; one under way waits for its case's erasure."""
    ended = ended_on(referral)
    return ended is not None and period.is_due(ended, today=today)
