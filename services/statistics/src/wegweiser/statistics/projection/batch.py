"""Events → deltas in memory, merged by the same rules the database applies (so batching is invisible).

Every row of the projection is keyed by the id of what it describes (arrival, case, goal, referral) or
by its aggregation cell, and every merge is commutative and idempotent except the counters:
*latest wins* per facet (by event time), *minimum* for a first date, *bitwise or* for months in which a
person was reached, and *sum* for counters, which the inbox (or the rebuild's stored offsets) keeps
exact. Events of one aggregate may therefore arrive in any order across topics and paths.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wegweiser.common import events
from wegweiser.common.events import Event
from wegweiser.common.regions import kreis_of
from wegweiser.statistics.periods import month_id

HANDLED: tuple[type[events.Event], ...] = (
    events.ArrivalRegisteredFact,
    events.ArrivalCorrectedFact,
    events.ArrivalRelocatedFact,
    events.ArrivalWithdrawnFact,
    events.CaseOpened,
    events.CaseAssigned,
    events.CaseTransferred,
    events.CaseClosed,
    events.ConsultationRecorded,
    events.GoalSet,
    events.GoalStatusChanged,
    *events.REFERRAL_STATUS_OF,
)
"""Event types the projection folds in; other valid events of the input topics are read and ignored."""


def person_key(pseudonym: str) -> int:
    """64 bits of the pseudonym, enough to count distinct persons; never shown, never reversible."""
    return int.from_bytes(hashlib.blake2b(pseudonym.encode(), digest_size=8).digest(), "big", signed=True)


def _newer(current: int | None, candidate: int) -> bool:
    return current is None or candidate >= current


@dataclass
class ArrivalDelta:
    snap_at: int | None = None
    ags: str | None = None
    allocation_day: int | None = None
    allocation_month: int | None = None
    persons: int | None = None
    reloc_at: int | None = None
    relocated_to: str | None = None
    withdrawn_at: int | None = None
    withdrawn_day: int | None = None


@dataclass
class CaseDelta:
    open_at: int | None = None
    ags: str | None = None
    provider_id: str | None = None
    opened_day: int | None = None
    allocation_day: int | None = None
    walk_in: bool | None = None
    close_at: int | None = None
    closed_day: int | None = None
    reason: str | None = None
    assign_at: int | None = None
    counsellor_id: str | None = None
    first_consultation_day: int | None = None


@dataclass
class GoalDelta:
    set_at: int | None = None
    case_id: int | None = None
    ags: str | None = None
    field: str | None = None
    set_day: int | None = None
    set_month: int | None = None
    status_at: int | None = None
    status: str | None = None
    status_ags: str | None = None
    status_field: str | None = None
    status_month: int | None = None


@dataclass
class ReferralDelta:
    status_at: int | None = None
    case_id: int | None = None
    ags: str | None = None
    programme: str | None = None
    requested_day: int | None = None
    requested_month: int | None = None
    status: str | None = None
    start_at: int | None = None
    started_day: int | None = None
    started_month: int | None = None


@dataclass
class Caches:
    """What earlier flushes of the same generation already wrote, to skip writes that change nothing.

    Only for a single writer (a rebuild); a value here is never ahead of the database.
    """

    first_consultation: dict[int, int] = field(default_factory=dict)
    person_months: dict[tuple[str, int, int], int] = field(default_factory=dict)


@dataclass
class Batch:
    """Deltas of a set of events for one flush."""

    events: int = 0
    # Ids as their 128-bit integers: hashing and comparing ``uuid.UUID`` runs Python code, ints do not.
    arrivals: dict[int, ArrivalDelta] = field(default_factory=dict)
    cases: dict[int, CaseDelta] = field(default_factory=dict)
    moves: dict[tuple[int, int, str], str] = field(default_factory=dict)
    # One counter per combination; totals per municipality and breakdowns per Kreis (where breakdowns
    # are published, catalogue.BREAKDOWN_LEVEL) are derived when the batch is written.
    consultation_kinds: Counter[tuple[str, int, str, str, bool]] = field(default_factory=Counter)
    consultation_fields: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    person_months: dict[tuple[str, int, str], int] = field(default_factory=dict)  # (ags, year, pseudonym)
    goals: dict[int, GoalDelta] = field(default_factory=dict)
    referrals: dict[int, ReferralDelta] = field(default_factory=dict)
    person_keys: dict[str, int] = field(default_factory=dict)  # a replay shares one memo across batches

    _pruned_persons: dict[tuple[str, int, int], int] | None = None

    @property
    def persons(self) -> dict[tuple[str, int, int], int]:
        """Months a person was reached, per (municipality, year, 64-bit person key)."""
        if self._pruned_persons is not None:
            return self._pruned_persons
        memo = self.person_keys
        out: dict[tuple[str, int, int], int] = {}
        for (ags, year, pseudonym), bits in self.person_months.items():
            pkey = memo.get(pseudonym)
            if pkey is None:
                pkey = memo[pseudonym] = person_key(pseudonym)
            key = (ags, year, pkey)
            out[key] = out.get(key, 0) | bits
        return out

    @property
    def consultations(self) -> Counter[tuple[str, int]]:
        """Consultations per (municipality, month)."""
        out: Counter[tuple[str, int]] = Counter()
        for (ags, month, _, _, _), n in self.consultation_kinds.items():
            out[(ags, month)] += n
        return out

    @property
    def breakdowns(self) -> Counter[tuple[str, int, str, str]]:
        """Consultations per (Kreis, month, dimension, code)."""
        out: Counter[tuple[str, int, str, str]] = Counter()
        for (ags, month, type_, channel, interpreter), n in self.consultation_kinds.items():
            kreis = _kreis(ags)
            out[(kreis, month, "type", type_)] += n
            out[(kreis, month, "channel", channel)] += n
            out[(kreis, month, "interpreter", "yes" if interpreter else "no")] += n
        for (ags, month, hf), n in self.consultation_fields.items():
            out[(_kreis(ags), month, "field", hf)] += n
        return out

    def add(self, event: Event, *, time_us: int) -> bool:
        """Fold one validated event in; False when the projection does not use its type."""
        apply = _APPLY.get(type(event))
        if apply is None:
            return False
        apply(self, event, time_us)
        self.events += 1
        self._pruned_persons = None
        return True

    def is_empty(self) -> bool:
        return self.events == 0

    def prune(self, caches: Caches) -> None:
        """Drop what the caches show is already written; then remember what this batch writes."""
        firsts = caches.first_consultation
        for case_id, delta in self.cases.items():
            day = delta.first_consultation_day
            if day is None:
                continue
            known = firsts.get(case_id)
            if known is not None and known <= day:
                delta.first_consultation_day = None
            else:
                firsts[case_id] = day
        self.cases = {k: d for k, d in self.cases.items() if d != _EMPTY_CASE}
        months = caches.person_months
        kept = {}
        for key, bits in self.persons.items():
            known_bits = months.get(key, 0)
            if bits | known_bits != known_bits:
                months[key] = bits | known_bits
                kept[key] = bits
        self._pruned_persons = kept


_EMPTY_CASE = CaseDelta()
D = TypeVar("D", ArrivalDelta, CaseDelta, GoalDelta, ReferralDelta)


def _delta(deltas: dict[int, D], key: int, empty: Callable[[], D]) -> D:
    """The batch's delta of one entity, started empty when the batch first meets it."""
    delta = deltas.get(key)
    if delta is None:
        delta = deltas[key] = empty()
    return delta


def _arrival_snapshot(batch: Batch, e: Any, at: int) -> None:
    d = _delta(batch.arrivals, e.arrival_id.int, ArrivalDelta)
    if _newer(d.snap_at, at):
        d.snap_at, d.ags = at, e.ags
        d.allocation_day, d.allocation_month = e.allocation_date.toordinal(), month_id(e.allocation_date)
        d.persons = e.household_size


def _arrival_relocated(batch: Batch, e: events.ArrivalRelocatedFact, at: int) -> None:
    d = _delta(batch.arrivals, e.arrival_id.int, ArrivalDelta)
    if _newer(d.reloc_at, at):
        d.reloc_at, d.relocated_to = at, e.new_ags


def _arrival_withdrawn(batch: Batch, e: events.ArrivalWithdrawnFact, at: int) -> None:
    d = _delta(batch.arrivals, e.arrival_id.int, ArrivalDelta)
    if _newer(d.withdrawn_at, at):
        d.withdrawn_at, d.withdrawn_day = at, e.withdrawn_on.toordinal()


def _case_opened(batch: Batch, e: events.CaseOpened, at: int) -> None:
    d = _delta(batch.cases, e.case_id.int, CaseDelta)
    if _newer(d.open_at, at):
        d.open_at, d.ags, d.provider_id = at, e.ags, e.provider_id
        d.opened_day = e.opened_on.toordinal()
        d.allocation_day = e.allocation_date.toordinal() if e.allocation_date else None
        d.walk_in = e.walk_in


def _case_assigned(batch: Batch, e: events.CaseAssigned, at: int) -> None:
    d = _delta(batch.cases, e.case_id.int, CaseDelta)
    if _newer(d.assign_at, at):
        d.assign_at, d.counsellor_id = at, e.counsellor_id


def _case_closed(batch: Batch, e: events.CaseClosed, at: int) -> None:
    d = _delta(batch.cases, e.case_id.int, CaseDelta)
    if _newer(d.close_at, at):
        d.close_at, d.closed_day, d.reason = at, e.closed_on.toordinal(), e.reason


def _case_transferred(batch: Batch, e: events.CaseTransferred, at: int) -> None:
    batch.moves[(e.case_id.int, e.transferred_on.toordinal(), e.ags)] = e.from_ags


_KREIS: dict[str, str] = {}


def _kreis(ags: str) -> str:
    kreis = _KREIS.get(ags)
    if kreis is None:
        kreis = _KREIS[ags] = kreis_of(ags)
    return kreis


def _consultation(batch: Batch, e: events.ConsultationRecorded, at: int) -> None:
    held = e.held_on
    month = held.year * 100 + held.month
    ags = e.ags
    batch.consultation_kinds[(ags, month, e.type, e.channel, e.interpreter_used)] += 1
    if e.handlungsfelder:
        fields = batch.consultation_fields
        for hf in dict.fromkeys(e.handlungsfelder):  # a field named twice counts once
            fields[(ags, month, hf)] += 1
    if e.person_pseudonyms:
        bit = 1 << (held.month - 1)
        months = batch.person_months
        year = held.year
        for p in e.person_pseudonyms:
            key = (ags, year, p)
            months[key] = months.get(key, 0) | bit
    day = held.toordinal()
    case_id = e.case_id.int
    d = batch.cases.get(case_id)
    if d is None:
        d = batch.cases[case_id] = CaseDelta()
    if d.first_consultation_day is None or day < d.first_consultation_day:
        d.first_consultation_day = day


def _goal_set(batch: Batch, e: events.GoalSet, at: int) -> None:
    d = _delta(batch.goals, e.goal_id.int, GoalDelta)
    if _newer(d.set_at, at):
        d.set_at, d.case_id, d.ags, d.field = at, e.case_id.int, e.ags, e.handlungsfeld
        d.set_day, d.set_month = e.set_on.toordinal(), month_id(e.set_on)


def _goal_status(batch: Batch, e: events.GoalStatusChanged, at: int) -> None:
    d = _delta(batch.goals, e.goal_id.int, GoalDelta)
    if _newer(d.status_at, at):
        d.status_at, d.status, d.status_ags = at, e.status, e.ags
        d.status_field, d.status_month = e.handlungsfeld, month_id(e.changed_on)


def _referral_status(batch: Batch, e: Any, at: int) -> None:
    d = _delta(batch.referrals, e.referral_id.int, ReferralDelta)
    occurred = int(e.occurred_at.timestamp() * 1_000_000)
    if _newer(d.status_at, occurred):
        d.status_at, d.status, d.ags = occurred, events.REFERRAL_STATUS_OF[type(e)], e.ags
        d.case_id, d.programme = e.case_id.int, e.programme
        d.requested_day, d.requested_month = e.requested_on.toordinal(), month_id(e.requested_on)
    if isinstance(e, events.ReferralStarted) and _newer(d.start_at, occurred):
        d.start_at, d.started_day, d.started_month = (
            occurred,
            e.started_on.toordinal(),
            month_id(e.started_on),
        )


_APPLY: dict[type[events.Event], Any] = {
    events.ArrivalRegisteredFact: _arrival_snapshot,
    events.ArrivalCorrectedFact: _arrival_snapshot,
    events.ArrivalRelocatedFact: _arrival_relocated,
    events.ArrivalWithdrawnFact: _arrival_withdrawn,
    events.CaseOpened: _case_opened,
    events.CaseAssigned: _case_assigned,
    events.CaseTransferred: _case_transferred,
    events.CaseClosed: _case_closed,
    events.ConsultationRecorded: _consultation,
    events.GoalSet: _goal_set,
    events.GoalStatusChanged: _goal_status,
    **dict.fromkeys(events.REFERRAL_STATUS_OF, _referral_status),
}
