"""Intake's command handlers: plain functions taking a command and their unit of work.

Every change writes its state, its personal event and the event's pseudonymous twin in one
transaction (the outbox); an ``Idempotency-Key`` answer, when the caller sent one, commits with them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

from wegweiser.common import events
from wegweiser.common.auth import Forbidden, Principal
from wegweiser.common.db import UnitOfWork, utcnow
from wegweiser.common.ids import new_id
from wegweiser.common.key_copies import shred_person_keys
from wegweiser.common.pseudonyms import pseudonym
from wegweiser.common.regions import catalogue
from wegweiser.intake.db import ArrivalRepository, ImportRepository, PersonKeyRow
from wegweiser.intake.domain.duplicates import DuplicateFlag, find_probable_duplicates, person_key
from wegweiser.intake.domain.imports import ImportJob
from wegweiser.intake.domain.model import (
    Arrival,
    ArrivalRejected,
    Person,
    PersonData,
    check_arrival,
    new_person,
    trusted,
    with_latin_names,
)


class IntakeUnitOfWork(UnitOfWork):
    """A batch queues two events per arrival: the outbox writes them in one statement at commit."""

    bulk_outbox = True
    person_key_table = PersonKeyRow
    seals_as = "intake"

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._repository = ArrivalRepository(self.session)
        self._imports = ImportRepository(self.session)
        return self

    @property
    def arrivals(self) -> ArrivalRepository:
        return self._repository

    @property
    def imports(self) -> ImportRepository:
        return self._imports


class ArrivalNotFound(LookupError):
    """No such arrival, or one of another authority (answered alike: 404)."""


class FlagNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class IdempotentAnswer:
    """Store the answer to an ``Idempotency-Key`` in the same transaction as the change it reports."""

    authority_id: str
    key: str
    request_hash: str
    render: Callable[[Any], tuple[int, bytes]]


def _keep_answer(uow: IntakeUnitOfWork, answer: IdempotentAnswer | None, result: Any) -> None:
    if answer is not None:
        status, body = answer.render(result)
        uow.arrivals.remember(
            authority_id=answer.authority_id,
            key=answer.key,
            request_hash=answer.request_hash,
            status_code=status,
            body=body,
        )


# --- registration ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewArrival:
    authority_reference: str
    ags: str
    allocation_date: dt.date
    persons: tuple[PersonData, ...]
    facility: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterArrivals:
    """One arrival or a batch; each item succeeds or fails on its own."""

    authority_id: str
    arrivals: tuple[NewArrival, ...]


Outcome = Literal["created", "existing", "rejected"]


@dataclass(frozen=True, slots=True)
class Registration:
    index: int
    outcome: Outcome
    arrival: Arrival | None = None
    error: ArrivalRejected | None = None
    flags: tuple[DuplicateFlag, ...] = ()


def new_arrival(*, authority_id: str, item: NewArrival) -> Arrival:
    """A fresh arrival with person ids; Latin names derived where possible (inputs are validated already)."""
    persons = tuple(new_person(p, person_id=new_id(), index=i) for i, p in enumerate(item.persons))
    return trusted(
        Arrival,
        {
            "arrival_id": new_id(),
            "authority_id": authority_id,
            "authority_reference": item.authority_reference,
            "ags": item.ags,
            "allocation_date": item.allocation_date,
            "facility": item.facility,
            "persons": persons,
            "status": "registered",
            "version": 1,
            "relocated_on": None,
            "withdrawn_on": None,
            "withdrawal_reason": None,
            "merged_into": None,
        },
    )


@dataclass(slots=True)
class _Prepared:
    """A batch after the pure checks: rejected items answered, the rest waiting to be stored."""

    results: list[Registration | None]
    candidates: dict[str, tuple[int, Arrival]]
    repeats: list[tuple[int, str]]


# A batch is CPU work in steps of this many items, with the event loop free in between: a single
# registration waits for one step of a batch, not for the whole batch.
YIELD_EVERY = 25


async def _prepare(cmd: RegisterArrivals, *, today: dt.date) -> _Prepared:
    regions = catalogue()
    prepared = _Prepared([None] * len(cmd.arrivals), {}, [])
    for index, item in enumerate(cmd.arrivals):
        if index % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        if item.authority_reference in prepared.candidates:
            prepared.repeats.append((index, item.authority_reference))
            continue
        try:
            arrival = new_arrival(authority_id=cmd.authority_id, item=item)
            check_arrival(arrival, today=today, is_allocation_target=regions.is_allocation_target(item.ags))
        except ArrivalRejected as exc:
            prepared.results[index] = Registration(index, "rejected", error=exc)
            continue
        prepared.candidates[item.authority_reference] = (index, arrival)
    return prepared


async def register_arrivals(
    cmd: RegisterArrivals,
    *,
    uow: IntakeUnitOfWork,
    today: dt.date,
    pseudonym_key: str,
    answer: IdempotentAnswer | None = None,
) -> list[Registration]:
    """Store new arrivals in one transaction; a known (authority, reference) answers with the first result."""
    prepared = await _prepare(cmd, today=today)
    async with uow:
        done = await _store(cmd.authority_id, prepared, uow=uow, pseudonym_key=pseudonym_key)
        _keep_answer(uow, answer, done)
        await uow.commit()
    return done


async def _store(
    authority_id: str, prepared: _Prepared, *, uow: IntakeUnitOfWork, pseudonym_key: str
) -> list[Registration]:
    """Inside an open transaction: insert, flag duplicates, queue the events; returns a result per item."""
    results, candidates = prepared.results, prepared.candidates
    known = await uow.arrivals.by_references(authority_id=authority_id, references=candidates)
    fresh = [arrival for ref, (_, arrival) in candidates.items() if ref not in known]
    stored = await uow.arrivals.insert_new(fresh)
    lost = [a.authority_reference for a in fresh if a.arrival_id not in stored]
    if lost:  # another request registered the same reference a moment ago
        known |= await uow.arrivals.by_references(authority_id=authority_id, references=lost)
    created = [a for a in fresh if a.arrival_id in stored]
    flags = await _flag_duplicates(created, uow=uow)
    flags_of: dict[uuid.UUID, list[DuplicateFlag]] = {}
    for flag in flags:
        flags_of.setdefault(flag.arrival_id, []).append(flag)
    for n, arrival in enumerate(created):
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        uow.publish(registered_event(arrival))
        uow.publish(registered_fact(arrival, pseudonym_key=pseudonym_key))
    _publish_flags(uow, flags, created)
    for ref, (index, arrival) in candidates.items():
        if arrival.arrival_id in stored:
            results[index] = Registration(
                index, "created", arrival=arrival, flags=tuple(flags_of.get(arrival.arrival_id, ()))
            )
        else:
            results[index] = Registration(index, "existing", arrival=known[ref])
    for index, ref in prepared.repeats:
        first = results[candidates[ref][0]]
        assert first is not None and first.arrival is not None
        results[index] = Registration(index, "existing", arrival=first.arrival)
    done = [r for r in results if r is not None]
    assert len(done) == len(results)
    return done


async def _flag_duplicates(arrivals: Sequence[Arrival], *, uow: IntakeUnitOfWork) -> list[DuplicateFlag]:
    """Index the arrivals' persons and flag those that look like someone already known (never merge)."""
    keys = []
    for n, arrival in enumerate(arrivals):
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        keys += [
            key
            for person in arrival.persons
            if (key := person_key(person, arrival_id=arrival.arrival_id)) is not None
        ]
    if not keys:
        return []
    known = await uow.arrivals.known_persons({(k.match_key, k.birth_year) for k in keys})
    found = find_probable_duplicates(keys, known)
    await uow.arrivals.index_persons(keys)
    if not found:
        return []
    authority = {a.arrival_id: a.authority_id for a in arrivals}
    authority |= await uow.arrivals.authority_of(
        d.candidate.arrival_id for d in found if d.candidate.arrival_id not in authority
    )
    now = utcnow()
    flags = [
        DuplicateFlag(
            flag_id=uuid.uuid4(),
            arrival_id=d.person.arrival_id,
            person_id=d.person.person_id,
            candidate_arrival_id=d.candidate.arrival_id,
            candidate_person_id=d.candidate.person_id,
            authority_id=authority[d.person.arrival_id],
            candidate_authority_id=authority.get(d.candidate.arrival_id, "unknown"),
            match=d.match,
            flagged_at=now,
        )
        for d in found
    ]
    stored = await uow.arrivals.add_flags(flags)
    return [f for f in flags if f.flag_id in stored]


def _publish_flags(
    uow: IntakeUnitOfWork, flags: Sequence[DuplicateFlag], arrivals: Sequence[Arrival]
) -> None:
    ags = {a.arrival_id: a.ags for a in arrivals}
    for flag in flags:
        pair = {
            "ags": ags[flag.arrival_id],
            "arrival_id": flag.arrival_id,
            "candidate_arrival_id": flag.candidate_arrival_id,
            "flag_id": flag.flag_id,
        }
        uow.publish(
            events.DuplicateFlagged(
                **pair,
                person_id=flag.person_id,
                candidate_person_id=flag.candidate_person_id,
                match=flag.match,
            )
        )
        uow.publish(events.DuplicateFlaggedFact(**pair))  # without the persons


# --- lifecycle ------------------------------------------------------------------------------------------


def may_change(principal: Principal, arrival: Arrival) -> None:
    """Own arrivals only (others: not found), and only while the token covers its municipality."""
    if "admin" not in principal.roles and arrival.authority_id != principal.authority_id:
        raise ArrivalNotFound(arrival.arrival_id)
    if not principal.may_access_ags(arrival.ags):
        raise Forbidden(
            f"token does not allow changes in {arrival.ags}",
            de=f"das Token erlaubt keine Änderungen in {arrival.ags}",
        )


async def _load(uow: IntakeUnitOfWork, arrival_id: uuid.UUID, principal: Principal) -> Arrival:
    arrival = await uow.arrivals.get(arrival_id, for_update=True)
    if arrival is None:
        raise ArrivalNotFound(arrival_id)
    may_change(principal, arrival)
    return arrival


@dataclass(frozen=True, slots=True)
class PersonCorrection:
    """A household member as it should be; ``person_id`` keeps the identity (and pseudonym) of a known one."""

    data: PersonData
    person_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class CorrectArrival:
    arrival_id: uuid.UUID
    principal: Principal
    allocation_date: dt.date | None = None
    facility: str | None = None
    persons: tuple[PersonCorrection, ...] | None = None


async def correct_arrival(
    cmd: CorrectArrival,
    *,
    uow: IntakeUnitOfWork,
    today: dt.date,
    pseudonym_key: str,
    answer: IdempotentAnswer | None = None,
) -> tuple[Arrival, tuple[str, ...]]:
    """Apply corrections; the event carries the full corrected snapshot and names the changed fields."""
    async with uow:
        arrival = await _load(uow, cmd.arrival_id, cmd.principal)
        persons = None if cmd.persons is None else _corrected_persons(arrival, cmd.persons)
        corrected, fields = arrival.corrected(
            allocation_date=cmd.allocation_date, facility=cmd.facility, persons=persons, today=today
        )
        if fields:
            await uow.arrivals.update(corrected)
            flags: list[DuplicateFlag] = []
            if "persons" in fields:
                await uow.arrivals.unindex_arrival(arrival.arrival_id)
                flags = await _flag_duplicates([corrected], uow=uow)
            uow.publish(corrected_event(corrected, fields))
            uow.publish(corrected_fact(corrected, pseudonym_key=pseudonym_key))
            _publish_flags(uow, flags, [corrected])
        _keep_answer(uow, answer, (corrected, fields))
        await uow.commit()
    return corrected, fields


def _corrected_persons(arrival: Arrival, corrections: Sequence[PersonCorrection]) -> tuple[Person, ...]:
    known = {p.person_id for p in arrival.persons}
    persons = []
    seen: set[uuid.UUID] = set()
    for index, c in enumerate(corrections):
        if c.person_id is not None and (c.person_id not in known or c.person_id in seen):
            raise ArrivalRejected(
                f"persons.{index}.person_id",
                "Diese Person gehört nicht (oder doppelt) zu diesem Haushalt.",
                "This person does not belong to this household (or is listed twice).",
            )
        person_id = c.person_id or uuid.uuid4()
        seen.add(person_id)
        persons.append(with_latin_names(Person(person_id=person_id, **dict(c.data)), index=index))
    return tuple(persons)


@dataclass(frozen=True, slots=True)
class RelocateArrival:
    arrival_id: uuid.UUID
    principal: Principal
    new_ags: str
    relocated_on: dt.date


async def relocate_arrival(
    cmd: RelocateArrival,
    *,
    uow: IntakeUnitOfWork,
    today: dt.date,
    answer: IdempotentAnswer | None = None,
) -> Arrival:
    """Move the household to another municipality; the event is keyed by the old AGS."""
    if not cmd.principal.may_access_ags(cmd.new_ags):
        raise Forbidden(
            f"token does not allow allocations to {cmd.new_ags}",
            de=f"das Token erlaubt keine Zuweisungen nach {cmd.new_ags}",
        )
    async with uow:
        arrival = await _load(uow, cmd.arrival_id, cmd.principal)
        relocated = arrival.relocated(
            new_ags=cmd.new_ags,
            on=cmd.relocated_on,
            today=today,
            is_allocation_target=catalogue().is_allocation_target(cmd.new_ags),
        )
        await uow.arrivals.update(relocated)
        move = {"arrival_id": arrival.arrival_id, "new_ags": relocated.ags, "relocated_on": cmd.relocated_on}
        uow.publish(events.ArrivalRelocated(ags=arrival.ags, **move))
        uow.publish(events.ArrivalRelocatedFact(ags=arrival.ags, **move))  # the same, on the facts topic
        _keep_answer(uow, answer, relocated)
        await uow.commit()
    return relocated


@dataclass(frozen=True, slots=True)
class WithdrawArrival:
    arrival_id: uuid.UUID
    principal: Principal
    withdrawn_on: dt.date
    reason: str | None = None


async def withdraw_arrival(
    cmd: WithdrawArrival,
    *,
    uow: IntakeUnitOfWork,
    today: dt.date,
    answer: IdempotentAnswer | None = None,
) -> Arrival:
    """Take the allocation back; its persons leave the duplicate index and its open flags close."""
    async with uow:
        arrival = await _load(uow, cmd.arrival_id, cmd.principal)
        withdrawn = arrival.withdrawn(on=cmd.withdrawn_on, reason=cmd.reason, today=today)
        await uow.arrivals.update(withdrawn)
        await uow.arrivals.unindex_arrival(arrival.arrival_id)
        await uow.arrivals.retire_flags_of(arrival.arrival_id)
        _publish_withdrawn(uow, withdrawn)
        _keep_answer(uow, answer, withdrawn)
        await uow.commit()
    return withdrawn


def _publish_withdrawn(uow: IntakeUnitOfWork, arrival: Arrival) -> None:
    assert arrival.withdrawn_on is not None
    facts = {
        "arrival_id": arrival.arrival_id,
        "withdrawn_on": arrival.withdrawn_on,
        "merged_into": arrival.merged_into,
    }
    uow.publish(events.ArrivalWithdrawn(ags=arrival.ags, **facts, reason=arrival.withdrawal_reason))
    uow.publish(events.ArrivalWithdrawnFact(ags=arrival.ags, **facts))  # without the free-text reason


# --- duplicate review -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecideDuplicate:
    """A reviewer's decision on a flag: merge the later arrival into the earlier one, or dismiss."""

    flag_id: uuid.UUID
    principal: Principal
    decision: Literal["merged", "dismissed"]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    flag: DuplicateFlag
    merged: Arrival | None = None


def may_decide(principal: Principal, flag: DuplicateFlag) -> None:
    """The authority whose (later) arrival a merge would retire decides; an admin may decide any."""
    if "admin" in principal.roles:
        return
    if principal.authority_id not in (flag.authority_id, flag.candidate_authority_id):
        raise FlagNotFound(flag.flag_id)
    if principal.authority_id != flag.authority_id:
        raise Forbidden(
            "only the authority of the later arrival decides on this flag",
            de="über diesen Hinweis entscheidet nur die Behörde der späteren Ankunft",
        )


async def decide_duplicate(
    cmd: DecideDuplicate,
    *,
    uow: IntakeUnitOfWork,
    today: dt.date,
    answer: IdempotentAnswer | None = None,
) -> Decision:
    """Record who decided what and when; a merge retires the later arrival (``arrival.withdrawn``)."""
    async with uow:
        flag = await uow.arrivals.flag(cmd.flag_id, for_update=True)
        if flag is None:
            raise FlagNotFound(cmd.flag_id)
        may_decide(cmd.principal, flag)
        decided = flag.decided(status=cmd.decision, by=cmd.principal.subject, at=utcnow(), note=cmd.note)
        merged = None
        if cmd.decision == "merged":
            arrival = await uow.arrivals.get(flag.arrival_id, for_update=True)
            into = await uow.arrivals.get(flag.candidate_arrival_id, for_update=True)
            if arrival is None or into is None:
                raise ArrivalNotFound(flag.arrival_id if arrival is None else flag.candidate_arrival_id)
            merged = arrival.merged(into=into, on=today)
            await uow.arrivals.update(merged)
            await uow.arrivals.unindex_arrival(arrival.arrival_id)
            await uow.arrivals.retire_flags_of(arrival.arrival_id)
            _publish_withdrawn(uow, merged)
        await uow.arrivals.save_flag(decided)
        decision = Decision(flag=decided, merged=merged)
        _keep_answer(uow, answer, decision)
        await uow.commit()
    return decision


# --- events -------------------------------------------------------------------------------------------


# Events are built from a valid arrival with ``trusted`` (no second validation of what was validated on
# the way in); tests check that they equal what validation would build.
_ARRIVED_FIELDS = tuple(events.ArrivedPerson.model_fields)
_REGISTERED_FIELDS = tuple(events.ArrivalRegistered.model_fields)
_FACT_FIELDS = tuple(events.ArrivalRegisteredFact.model_fields)


def _arrived(person: Person) -> events.ArrivedPerson:
    values = person.__dict__
    return trusted(events.ArrivedPerson, {name: values[name] for name in _ARRIVED_FIELDS})


def registered_event(arrival: Arrival) -> events.ArrivalRegistered:
    values = {
        "ags": arrival.ags,
        "arrival_id": arrival.arrival_id,
        "authority_id": arrival.authority_id,
        "authority_reference": arrival.authority_reference,
        "allocation_date": arrival.allocation_date,
        "facility": arrival.facility,
        "persons": tuple(_arrived(p) for p in arrival.persons),
    }
    return trusted(events.ArrivalRegistered, {name: values[name] for name in _REGISTERED_FIELDS})


def _person_facts(arrival: Arrival, pseudonym_key: str) -> tuple[events.PersonFact, ...]:
    return tuple(
        trusted(
            events.PersonFact,
            {
                "pseudonym": pseudonym(p.person_id, pseudonym_key),
                "role": p.role,
                "age_band": p.age_band(arrival.allocation_date),
                "sex": p.sex,
                "nationalities": p.nationalities,
                "residence_status": p.residence_status,
            },
        )
        for p in arrival.persons
    )


def registered_fact(arrival: Arrival, *, pseudonym_key: str) -> events.ArrivalRegisteredFact:
    """The pseudonymous twin for statistics: no names, no dates of birth, only bands and codes."""
    values = {
        "ags": arrival.ags,
        "arrival_id": arrival.arrival_id,
        "allocation_date": arrival.allocation_date,
        "household_size": len(arrival.persons),
        "persons": _person_facts(arrival, pseudonym_key),
    }
    return trusted(events.ArrivalRegisteredFact, {name: values[name] for name in _FACT_FIELDS})


def corrected_event(arrival: Arrival, fields: tuple[str, ...]) -> events.ArrivalCorrected:
    return events.ArrivalCorrected(
        ags=arrival.ags,
        arrival_id=arrival.arrival_id,
        authority_id=arrival.authority_id,
        authority_reference=arrival.authority_reference,
        allocation_date=arrival.allocation_date,
        facility=arrival.facility,
        persons=tuple(_arrived(p) for p in arrival.persons),
        corrected_fields=fields,
    )


def corrected_fact(arrival: Arrival, *, pseudonym_key: str) -> events.ArrivalCorrectedFact:
    return events.ArrivalCorrectedFact(
        ags=arrival.ags,
        arrival_id=arrival.arrival_id,
        allocation_date=arrival.allocation_date,
        household_size=len(arrival.persons),
        persons=_person_facts(arrival, pseudonym_key),
    )


# --- uploads --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportHousehold:
    arrival: NewArrival
    rows: int  # spreadsheet rows (persons) it came from, for progress


@dataclass(frozen=True, slots=True)
class StartImport:
    """A validated upload: imported now (small) or queued as a job that resumes after a crash (large)."""

    authority_id: str
    uploaded_by: str
    filename: str | None
    media_type: str
    households: tuple[ImportHousehold, ...]
    rows_total: int
    payload: str  # the validated households as JSON, for the job
    synchronous: bool


async def start_import(
    cmd: StartImport,
    *,
    uow: IntakeUnitOfWork,
    today: dt.date,
    pseudonym_key: str,
    answer: IdempotentAnswer | None = None,
) -> ImportJob:
    """A small file commits in one transaction with its import record: all of it or nothing."""
    now = utcnow()
    job = ImportJob(
        import_id=uuid.uuid4(),
        authority_id=cmd.authority_id,
        uploaded_by=cmd.uploaded_by,
        filename=cmd.filename,
        media_type=cmd.media_type,
        status="queued",
        rows_total=cmd.rows_total,
        households_total=len(cmd.households),
        created_at=now,
        updated_at=now,
    )
    async with uow:
        if cmd.synchronous:
            registrations = await _register_all(
                job.authority_id, cmd.households, uow=uow, today=today, key=pseudonym_key
            )
            job = job.advanced(
                households=len(cmd.households), rows=cmd.rows_total, at=now, **_counts(registrations)
            )
            uow.imports.add(job, payload=None)
        else:
            uow.imports.add(job, payload=cmd.payload)
        _keep_answer(uow, answer, job)
        await uow.commit()
    return job


async def _register_all(
    authority_id: str,
    households: Sequence[ImportHousehold],
    *,
    uow: IntakeUnitOfWork,
    today: dt.date,
    key: str,
) -> list[Registration]:
    """Register inside the open transaction; the upload was validated, so a refusal aborts it whole."""
    cmd = RegisterArrivals(authority_id=authority_id, arrivals=tuple(h.arrival for h in households))
    registrations = await _store(authority_id, await _prepare(cmd, today=today), uow=uow, pseudonym_key=key)
    for registration in registrations:
        if registration.error is not None:
            raise registration.error
    return registrations


def _counts(registrations: Sequence[Registration]) -> dict[str, int]:
    return {
        "created": sum(r.outcome == "created" for r in registrations),
        "existing": sum(r.outcome == "existing" for r in registrations),
    }


@dataclass(frozen=True, slots=True)
class ImportChunk:
    import_id: uuid.UUID
    start: int  # households done before this chunk; a stale chunk (another worker moved on) is skipped
    households: tuple[ImportHousehold, ...]
    lease_until: dt.datetime


async def import_chunk(
    cmd: ImportChunk, *, uow: IntakeUnitOfWork, today: dt.date, pseudonym_key: str
) -> ImportJob | None:
    """Register one chunk and the job's progress in one transaction, so a crash resumes exactly here."""
    async with uow:
        job = await uow.imports.get(cmd.import_id, for_update=True)
        if job is None or job.status != "running" or job.households_done != cmd.start:
            return job
        try:
            registrations = await _register_all(
                job.authority_id, cmd.households, uow=uow, today=today, key=pseudonym_key
            )
        except ArrivalRejected as exc:
            await uow.rollback()
            failed = job.model_copy(
                update={
                    "status": "failed",
                    "error": f"{exc.field}: {exc.message_en}"[:2000],
                    "updated_at": utcnow(),
                }
            )
            await uow.imports.save(failed)
            await uow.commit()
            return failed
        job = job.advanced(
            households=len(cmd.households),
            rows=sum(h.rows for h in cmd.households),
            at=utcnow(),
            **_counts(registrations),
        )
        await uow.imports.save(job, lease_until=cmd.lease_until if job.status == "running" else None)
        await uow.commit()
    return job


# --- erasure --------------------------------------------------------------------------------------------


async def erase_arrival(uow: IntakeUnitOfWork, arrival: Arrival) -> int | None:
    """Erase the persons of ``arrival`` with their duplicate-index entries and flags; the row stays
    (status ``erased``) so a resent arrival is recognised. The number of flags deleted, or None when a
    concurrent erasure was first (the conditional UPDATE lets exactly one win)."""
    if not await uow.arrivals.mark_erased(arrival.erased()):
        return None
    # Crypto-shredding: every copy of the persons on Kafka (arrivals, retry, dead letters) goes unreadable.
    await shred_person_keys(uow, [str(arrival.arrival_id)])
    await uow.arrivals.unindex_arrival(arrival.arrival_id)
    return await uow.arrivals.delete_flags_of(arrival.arrival_id)


async def erase_arrival_of_case(event: events.CaseErased, envelope: object, uow: IntakeUnitOfWork) -> None:
    """Casework erased the case (on request, or its retention ended): the arrival it was opened for
    goes too, before intake's own retention period would take it. A walk-in case has no arrival."""
    if event.arrival_id is None:
        return
    arrival = await uow.arrivals.get(event.arrival_id)
    if arrival is not None and arrival.status != "erased":
        await erase_arrival(uow, arrival)
