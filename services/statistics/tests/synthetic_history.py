"""Synthetic pseudonymous history of Integrationsmanagement in BW: for the replay benchmark and tests.

Not shipped with the service: ``bench/statistics_replay.py`` and statistics' tests import it as
``synthetic_history`` (the root ``pyproject.toml`` puts this folder on pytest's path).

The volumes follow docs/domain.md (arrivals per year since 2017 with the 2022 peak, about 500,000
consultations per year at full scale, plans, goals, referrals to regular services, closures); municipal
shares follow population. Payloads are built as plain dictionaries that validate against the event
models (a unit test checks every kind), so millions can be produced without building models.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from wegweiser.common import events
from wegweiser.common.regions import catalogue, kreis_of
from wegweiser.statistics.publication.indicators import FIELDS

ARRIVALS_PER_YEAR = {
    2017: 16_000,
    2018: 11_000,
    2019: 10_300,
    2020: 7_000,
    2021: 14_000,
    2022: 176_000,
    2023: 79_000,
    2024: 48_000,
    2025: 36_000,
    2026: 28_000,
}
"""Persons allocated per year (docs/domain.md; 2025 and 2026 are our assumption)."""

HOUSEHOLD_SIZES = ((1, 30), (2, 22), (3, 18), (4, 15), (5, 9), (6, 6))
TYPES = (("folgeberatung", 60), ("kurzberatung", 25), ("verweisberatung", 15))
CHANNELS = (("persoenlich", 45), ("hausbesuch", 15), ("telefon", 25), ("video", 5), ("schriftlich", 10))
PROGRAMMES = (
    ("integrationskurs", 30),
    ("berufssprachkurs", 12),
    ("mbe", 10),
    ("jmd", 6),
    ("agentur_fuer_arbeit", 12),
    ("jobcenter", 12),
    ("anerkennungsberatung", 5),
    ("kita_schule", 7),
    ("psychosozial", 3),
    ("sonstige", 3),
)
REASONS = (
    ("time_limit", 30),
    ("goals_met", 30),
    ("moved_away", 15),
    ("declined", 10),
    ("no_contact", 10),
    ("other", 5),
)


class _Table:
    """Weighted choice with precomputed cumulative weights (``random.choices`` recomputes them)."""

    def __init__(self, items: tuple[tuple[Any, int], ...] | list[tuple[Any, int]]) -> None:
        self.values = [v for v, _ in items]
        self.cumulative = list(itertools.accumulate(w for _, w in items))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


_TABLES: dict[int, _Table] = {}


def _pick(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    t = _TABLES.get(id(table))
    if t is None:
        t = _TABLES[id(table)] = _Table(table)
    return t.pick(rng)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True, slots=True)
class Synthetic:
    """One event: its type, payload (as the model would serialise it), subject, key and time."""

    model: type[events.Event]
    payload: dict[str, Any]
    at: dt.datetime

    def event(self) -> events.Event:
        return self.model.model_validate(self.payload)

    @property
    def key(self) -> str:
        return str(self.payload["ags"])


def _iso(d: dt.date) -> str:
    return d.isoformat()


@dataclass
class _Case:
    index: int
    ags: str
    allocated: dt.date | None
    persons: int
    seed: int


@dataclass
class History:
    """Generates the events of ``cases`` households in time order (a heap merges the cases' streams)."""

    seed: int = 2017
    scale: float = 1.0  # share of the real arrival volumes
    until: dt.date = dt.date(2026, 11, 25)
    consultations_per_month: float = 1.0  # per active case; tuned by ``for_total``
    ags_weights: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.ags_weights:
            self.ags_weights = [(m.ags, m.population) for m in catalogue().in_land("08") if m.population > 0]
        self._places = _Table(self.ags_weights)

    @classmethod
    def for_total(
        cls, events_total: int, *, seed: int = 2017, until: dt.date = dt.date(2026, 11, 25)
    ) -> History:
        """A history of about ``events_total`` events at full scale; the consultation rate makes up the rest.

        Events grow linearly with the rate; two small probes find the line.
        """
        probe_scale = 0.02
        counts = []
        for rate in (0.5, 1.5):
            probe = cls(seed=seed, scale=probe_scale, until=until, consultations_per_month=rate)
            counts.append(sum(1 for _ in probe.events()) / probe_scale)
        slope = (counts[1] - counts[0]) / 1.0
        rate = 0.5 + (events_total - counts[0]) / slope if slope > 0 else 1.0
        return cls(seed=seed, until=until, consultations_per_month=max(0.05, rate))

    def cases(self) -> list[_Case]:
        rng = random.Random(self.seed)
        out: list[_Case] = []
        for year, persons_total in ARRIVALS_PER_YEAR.items():
            households = int(persons_total * self.scale / 2.6)
            for _ in range(households):
                # 2022: most arrivals from Ukraine in March to June.
                month = rng.choices(
                    range(1, 13), weights=[4, 4, 14, 16, 12, 9, 7, 7, 7, 7, 7, 6] if year == 2022 else None
                )[0]
                day = dt.date(year, month, rng.randint(1, 28))
                if day > self.until:
                    continue
                walk_in = rng.random() < 0.1
                out.append(
                    _Case(
                        index=len(out),
                        ags=self._places.pick(rng),
                        allocated=None if walk_in else day,
                        persons=_pick(rng, HOUSEHOLD_SIZES),
                        seed=rng.getrandbits(32),
                    )
                )
        return out

    def events(self) -> Iterator[Synthetic]:
        """All events, ordered by time (per case exactly in its causal order)."""
        streams = [self._case_events(c) for c in self.cases()]
        heap: list[tuple[dt.datetime, int, Synthetic, Iterator[Synthetic]]] = []
        for i, stream in enumerate(streams):
            first = next(stream, None)
            if first is not None:
                heap.append((first.at, i, first, stream))
        heapq.heapify(heap)
        while heap:
            _, i, item, stream = heap[0]
            yield item
            following = next(stream, None)
            if following is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (following.at, i, following, stream))

    def _case_events(self, c: _Case) -> Iterator[Synthetic]:
        rng = random.Random(c.seed)
        until = self.until
        ags = c.ags
        case_id = _uuid(rng)
        pseudonyms = [f"{rng.getrandbits(256):064x}" for _ in range(c.persons)]
        clock = _Clock()
        start = c.allocated or dt.date(2017, 1, 2) + dt.timedelta(
            days=rng.randint(0, (until - dt.date(2017, 1, 2)).days)
        )
        if c.allocated is not None:
            arrival_id = _uuid(rng)
            persons = [
                {"pseudonym": p, "role": "head" if k == 0 else "child", "age_band": "27-44", "sex": "unknown"}
                for k, p in enumerate(pseudonyms)
            ]
            base = {"ags": ags, "arrival_id": arrival_id}
            yield Synthetic(
                events.ArrivalRegisteredFact,
                {
                    **base,
                    "allocation_date": _iso(c.allocated),
                    "household_size": c.persons,
                    "persons": persons,
                },
                clock.at(c.allocated),
            )
            if rng.random() < 0.03:
                yield Synthetic(
                    events.ArrivalCorrectedFact,
                    {
                        **base,
                        "allocation_date": _iso(c.allocated),
                        "household_size": c.persons,
                        "persons": persons,
                    },
                    clock.at(c.allocated + dt.timedelta(days=1)),
                )
            if rng.random() < 0.01:
                yield Synthetic(
                    events.ArrivalWithdrawnFact,
                    {**base, "withdrawn_on": _iso(c.allocated + dt.timedelta(days=2))},
                    clock.at(c.allocated + dt.timedelta(days=2)),
                )
                return
            if rng.random() < 0.01:
                new_ags = self._places.pick(rng)
                yield Synthetic(
                    events.ArrivalRelocatedFact,
                    {**base, "new_ags": new_ags, "relocated_on": _iso(c.allocated + dt.timedelta(days=3))},
                    clock.at(c.allocated + dt.timedelta(days=3)),
                )
                ags = new_ags
        opened = start + dt.timedelta(days=rng.randint(0, 14))
        if opened > until:
            return
        case = {"case_id": case_id}
        yield Synthetic(
            events.CaseOpened,
            {
                **case,
                "ags": ags,
                "provider_id": f"traeger-{kreis_of(ags)}",
                "walk_in": c.allocated is None,
                "allocation_date": _iso(c.allocated) if c.allocated else None,
                "opened_on": _iso(opened),
                "household_size": c.persons,
                "person_pseudonyms": pseudonyms,
            },
            clock.at(opened),
        )
        counsellor = f"berater-{kreis_of(ags)}-{rng.randint(1, 12)}"
        yield Synthetic(
            events.CaseAssigned,
            {
                **case,
                "ags": ags,
                "provider_id": f"traeger-{kreis_of(ags)}",
                "counsellor_id": counsellor,
                "assigned_on": _iso(opened),
            },
            clock.at(opened),
        )
        months = rng.choice((6, 12, 18, 24, 30, 36, 36, 42))
        end = opened + dt.timedelta(days=30 * months)
        transfer_on = (
            opened + dt.timedelta(days=rng.randint(60, 30 * months)) if rng.random() < 0.02 else None
        )
        day = opened + dt.timedelta(days=rng.randint(2, 45))
        first = True
        goals: list[tuple[str, str]] = []
        rate = self.consultations_per_month
        while day <= min(end, until):
            if transfer_on is not None and day >= transfer_on:
                new_ags = self._places.pick(rng)
                yield Synthetic(
                    events.CaseTransferred,
                    {
                        **case,
                        "ags": new_ags,
                        "from_ags": ags,
                        "from_provider_id": f"traeger-{kreis_of(ags)}",
                        "to_provider_id": f"traeger-{kreis_of(new_ags)}",
                        "transferred_on": _iso(transfer_on),
                    },
                    clock.at(transfer_on),
                )
                ags, transfer_on = new_ags, None
            present = pseudonyms[: rng.randint(1, len(pseudonyms))]
            yield Synthetic(
                events.ConsultationRecorded,
                {
                    **case,
                    "ags": ags,
                    "consultation_id": _uuid(rng),
                    "held_on": _iso(day),
                    "duration_minutes": rng.choice((15, 30, 45, 60, 90)),
                    "type": "erstgespraech" if first else _pick(rng, TYPES),
                    "channel": _pick(rng, CHANNELS),
                    "interpreter_used": rng.random() < 0.35,
                    "handlungsfelder": rng.sample(FIELDS, rng.randint(1, 3)),
                    "persons_present": len(present),
                    "person_pseudonyms": present,
                    "counsellor_id": counsellor,
                },
                clock.at(day),
            )
            if first and rng.random() < 0.7:
                for _ in range(rng.randint(1, 4)):
                    goal = (_uuid(rng), rng.choice(FIELDS))
                    goals.append(goal)
                    yield Synthetic(
                        events.GoalSet,
                        {
                            **case,
                            "ags": ags,
                            "goal_id": goal[0],
                            "handlungsfeld": goal[1],
                            "set_on": _iso(day),
                        },
                        clock.at(day),
                    )
            if not first and goals and rng.random() < 0.08:
                goal_id, hf = goals.pop(0)
                status = rng.choices(("achieved", "in_progress", "dropped"), weights=(60, 25, 15))[0]
                yield Synthetic(
                    events.GoalStatusChanged,
                    {
                        **case,
                        "ags": ags,
                        "goal_id": goal_id,
                        "handlungsfeld": hf,
                        "status": status,
                        "changed_on": _iso(day),
                    },
                    clock.at(day),
                )
            if not first and rng.random() < 0.06:
                yield from self._referral(rng, case_id, ags, day, clock)
            first = False
            day += dt.timedelta(days=max(1, int(rng.expovariate(rate / 30.0))))
        if end <= until:
            yield Synthetic(
                events.CaseClosed,
                {**case, "ags": ags, "closed_on": _iso(end), "reason": _pick(rng, REASONS)},
                clock.at(end),
            )

    def _referral(
        self, rng: random.Random, case_id: str, ags: str, day: dt.date, clock: _Clock
    ) -> Iterator[Synthetic]:
        programme = _pick(rng, PROGRAMMES)
        base = {
            "ags": ags,
            "referral_id": _uuid(rng),
            "case_id": case_id,
            "programme": programme,
            "partner_id": f"partner-{programme}-{kreis_of(ags)}",
            "requested_on": _iso(day),
        }
        if rng.random() < 0.05:
            yield _status(events.ReferralUnroutable, base, clock.at(day), reason="no_partner")
            return
        yield _status(events.ReferralSent, base, clock.at(day))
        answer = day + dt.timedelta(days=rng.randint(1, 20))
        if answer > self.until:
            return
        outcome = rng.choices(("accepted", "declined", "expired"), weights=(75, 15, 10))[0]
        if outcome == "declined":
            yield _status(events.ReferralDeclined, base, clock.at(answer), reason="no_capacity")
            return
        if outcome == "expired":
            yield _status(events.ReferralExpired, base, clock.at(answer))
            return
        yield _status(events.ReferralAccepted, base, clock.at(answer))
        start = answer + dt.timedelta(days=rng.randint(3, 120))
        if start > self.until or rng.random() < 0.2:
            return
        yield _status(events.ReferralStarted, base, clock.at(start), started_on=_iso(start))
        finish = start + dt.timedelta(days=rng.randint(30, 300))
        if finish > self.until:
            return
        ended = events.ReferralCompleted if rng.random() < 0.7 else events.ReferralDropped
        yield _status(ended, base, clock.at(finish))


def _status(model: type[events.Event], base: dict[str, Any], at: dt.datetime, **extra: Any) -> Synthetic:
    return Synthetic(model, {**base, "occurred_at": at.isoformat(), **extra}, at)


class _Clock:
    """Event times: 10:00 on the event's day, one second later for each further event of the case."""

    def __init__(self) -> None:
        self.last = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    def at(self, day: dt.date) -> dt.datetime:
        moment = dt.datetime(day.year, day.month, day.day, 10, tzinfo=dt.UTC)
        self.last = max(moment, self.last + dt.timedelta(seconds=1))
        return self.last
