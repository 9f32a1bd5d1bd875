"""Personal fields on Kafka, sealed per person so that forgetting a person reaches every copy.

Envelope encryption with AES-GCM: before an event with personal fields leaves its owner (intake for an
arrival's persons, casework for a referral request), each person's fields in the payload are replaced
by one sealed block, ``{"sealed": {"kid", "alg", "nonce", "ct"}}``, encrypted with a fresh data key. The
owner keeps that key in its ``person_keys`` table and publishes it, wrapped with the platform's
key-wrapping key, on its compacted key topic; the services allowed to read the fields (casework reads
intake's keys, referrals reads casework's) keep a copy in their own ``person_keys`` table and open the
blocks before validating the event (``EventDispatcher``).

Erasing an arrival (intake) or a case (casework) deletes the keys of everyone it named (a key's subject
is "<arrival or case>/<person>") in the owner's table and publishes ``person_key.shredded`` for each,
which deletes every copy and replaces the key on the key topic, so compaction drops it. From then on
every record that carried the person, on the topic itself and on its retry and dead-letter topics, is
unreadable: crypto-shredding, without rewriting a log. Ids, codes and dates that route an event
(arrival id, AGS, allocation date) stay readable.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from wegweiser.common.sql import dialect_insert

SEALED = "sealed"
ALGORITHM = "A256GCM"
DEV_KEY_WRAPPING_KEY = "dev-only-key-wrapping-key-change-me"
MARKER = b'"sealed"'
"""A payload without these bytes has no sealed block: the dispatcher skips the walk for it."""


class UnreadablePersonalData(ValueError):
    """A sealed block that cannot be opened: broken, or not sealed with the key it names."""


@dataclass(frozen=True, slots=True)
class Personal:
    """Where an event carries personal fields, and whose they are.

    ``at`` names the object (or list of objects) in the payload, None for the payload itself;
    ``person`` the field of that object, dotted, naming the person; ``scope`` the payload's field of the
    unit its owner erases (intake an arrival, casework a case): a key's subject is "<scope>/<person>",
    so erasing the unit shreds the keys of everyone it ever named. ``fields`` are the fields to seal, or
    None for all but ``keep``.
    """

    at: str | None
    person: str
    scope: str
    fields: tuple[str, ...] | None = None
    keep: tuple[str, ...] = ()

    def objects(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        found = payload if self.at is None else payload.get(self.at)
        if isinstance(found, list):
            return [o for o in found if isinstance(o, dict)]
        return [found] if isinstance(found, dict) else []

    def subject(self, obj: dict[str, Any], payload: dict[str, Any]) -> str:
        value: Any = obj
        for part in self.person.split("."):
            value = value[part]
        return f"{payload[self.scope]}/{value}"


DataKey = Callable[[str], tuple[str, bytes]]
"""Given a person, a data key for them: its id (``kid``) and the 32 key bytes."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def seal(payload: dict[str, Any], plan: Sequence[Personal], data_key: DataKey) -> dict[str, Any]:
    """Replace the personal fields that ``plan`` names by sealed blocks (in place; returns ``payload``)."""
    for where in plan:
        for obj in where.objects(payload):
            names = where.fields or [n for n in obj if n not in where.keep and n != SEALED]
            clear = {n: obj.pop(n) for n in names if n in obj}
            clear = {n: v for n, v in clear.items() if v is not None}
            if not clear:
                continue
            kid, key = data_key(where.subject(obj, payload))
            nonce = os.urandom(12)
            ciphertext = AESGCM(key).encrypt(nonce, orjson.dumps(clear), kid.encode())
            obj[SEALED] = {"kid": kid, "alg": ALGORITHM, "nonce": _b64(nonce), "ct": _b64(ciphertext)}
    return payload


def sealed_objects(payload: Any) -> Iterator[dict[str, Any]]:
    """Every object in the payload that holds a sealed block."""
    if isinstance(payload, dict):
        if isinstance(payload.get(SEALED), dict):
            yield payload
        for value in payload.values():
            if isinstance(value, dict | list):
                yield from sealed_objects(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from sealed_objects(item)


def key_ids(payload: Any) -> set[str]:
    return {str(obj[SEALED].get("kid")) for obj in sealed_objects(payload)}


def open_sealed(payload: dict[str, Any], keys: Mapping[str, bytes]) -> dict[str, Any]:
    """Put the sealed fields back (in place; returns ``payload``); every named key must be in ``keys``."""
    for obj in list(sealed_objects(payload)):
        block = obj.pop(SEALED)
        kid = str(block.get("kid"))
        try:
            nonce, ciphertext = base64.b64decode(block["nonce"]), base64.b64decode(block["ct"])
            clear = AESGCM(keys[kid]).decrypt(nonce, ciphertext, kid.encode())
            obj.update(orjson.loads(clear))
        except (KeyError, ValueError, TypeError, InvalidTag) as exc:
            raise UnreadablePersonalData(f"sealed block {kid} cannot be opened: {exc!r}") from exc
    return payload


# --- key wrapping (the key topics) ----------------------------------------------------------------------


def wrapping_key(secret: str) -> bytes:
    """The AES-256 key-wrapping key from the configured secret (any length of at least 16 characters)."""
    return hashlib.sha256(secret.encode()).digest()


def wrap(kek: bytes, kid: str, key: bytes) -> str:
    nonce = os.urandom(12)
    return _b64(nonce + AESGCM(kek).encrypt(nonce, key, kid.encode()))


def unwrap(kek: bytes, kid: str, wrapped: str) -> bytes:
    try:
        raw = base64.b64decode(wrapped)
        return AESGCM(kek).decrypt(raw[:12], raw[12:], kid.encode())
    except (ValueError, InvalidTag) as exc:
        raise UnreadablePersonalData(f"key {kid} cannot be unwrapped: {exc!r}") from exc


# --- the key table --------------------------------------------------------------------------------------


class PersonKeyColumns(SQLModel):
    """The columns of a ``person_keys`` table (a service's table class adds ``table=True`` and its
    registry). ``key`` is None once the person was erased: the row stays as a marker, so a record that
    names the key is known to be unreadable for good, not waiting for its key."""

    kid: str = Field(primary_key=True, max_length=36)
    owner: str = Field(max_length=20)
    person: str = Field(max_length=200, index=True)
    key: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    shredded_at: dt.datetime | None = None


class KeyCopy(NamedTuple):
    """Another service's issued key, as a key-copy group stores it."""

    kid: str
    owner: str
    person: str
    key: bytes


class PersonKeys:
    """One service's ``person_keys`` table in the open transaction."""

    def __init__(self, session: AsyncSession, table: type[PersonKeyColumns]) -> None:
        self._session = session
        self._table = table
        self._issued: list[dict[str, Any]] = []

    def issue(self, owner: str, person: str) -> tuple[str, bytes]:
        """A fresh data key for one event's fields of one person, written with the transaction
        (``flush``: one multi-row INSERT, since a batch of arrivals issues thousands)."""
        kid, key = str(uuid.uuid4()), AESGCM.generate_key(bit_length=256)
        now = dt.datetime.now(dt.UTC)
        self._issued.append({"kid": kid, "owner": owner, "person": person, "key": key, "created_at": now})
        return kid, key

    async def flush(self) -> None:
        """Write the keys issued since the last flush, inside the open transaction."""
        if self._issued:
            rows, self._issued = self._issued, []
            await self._session.execute(insert(self._table), rows)

    def discard(self) -> None:
        self._issued = []

    async def known(self, kids: set[str]) -> dict[str, bytes | None]:
        """The keys of ``kids`` this table holds: bytes, or None for a shredded one; unknown ones absent."""
        table = self._table
        rows = await self._session.execute(
            select(col(table.kid), col(table.key)).where(col(table.kid).in_(kids))
        )
        return {kid: key for kid, key in rows.tuples()}

    async def keep_shredded(self, *, kid: str, owner: str, person: str) -> None:
        """Forget the key of another service that it shredded (kept as a row without a key, so that a
        late copy of the issued key is never revived). Idempotent: the key-copy groups keep no inbox."""
        row, now = await self._session.get(self._table, kid), dt.datetime.now(dt.UTC)
        if row is None:
            self._session.add(self._table(kid=kid, owner=owner, person=person, key=None, shredded_at=now))
        elif row.key is not None:
            row.key, row.shredded_at = None, now

    async def keep_issued(self, copies: Sequence[KeyCopy]) -> None:
        """Store issued keys of another service in one statement; a known kid (kept or shredded) stays
        as it is. Alone, as the key-copy groups call it, committed by itself: without a transaction's
        BEGIN and COMMIT, two of its three round trips."""
        if not self._session.in_transaction():
            await self._session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        now = dt.datetime.now(dt.UTC)
        rows = [{"created_at": now, **copy._asdict()} for copy in copies]
        new_keys = dialect_insert(self._session, self._table).values(rows)
        await self._session.execute(new_keys.on_conflict_do_nothing())

    async def shred(self, scopes: Sequence[str]) -> list[tuple[str, str, str]]:
        """Delete every key in these scopes (``Personal.scope``: arrivals, cases); the ``(kid, owner,
        person)`` of those shredded now."""
        if not scopes:
            return []
        table = self._table
        whose = or_(*(col(table.person).startswith(f"{scope}/") for scope in scopes))
        shredded = (
            update(table)
            .where(whose & col(table.key).is_not(None))
            .values(key=None, shredded_at=dt.datetime.now(dt.UTC))
            .returning(col(table.kid), col(table.owner), col(table.person))
        )
        return [(kid, owner, person) for kid, owner, person in await self._session.execute(shredded)]
