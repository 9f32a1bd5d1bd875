"""Random (version 4) UUIDs where many are made per request (intake's arrivals and persons, outbox events).

``uuid.uuid4()`` asks the kernel for 16 bytes each time; here the same ``os.urandom`` bytes are drawn in
blocks, one system call per 256 ids. The buffer is dropped in a forked child, so no two processes ever
hand out the same bytes, and a lock keeps two threads from taking the same slice.
"""

from __future__ import annotations

import os
import threading
import uuid

_BLOCK = 16 * 256
# Version 4 and the RFC 4122 variant, set as uuid.UUID(bytes=..., version=4) does.
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)

_lock = threading.Lock()
_buffer = b""
_offset = 0


def _forget() -> None:
    global _buffer, _offset
    _buffer, _offset = b"", 0


os.register_at_fork(after_in_child=_forget)


def new_id() -> uuid.UUID:
    """A random UUID, as ``uuid.uuid4()`` makes it."""
    global _buffer, _offset
    with _lock:
        if _offset >= len(_buffer):
            _buffer, _offset = os.urandom(_BLOCK), 0
        chunk = _buffer[_offset : _offset + 16]
        _offset += 16
    value = uuid.UUID.__new__(uuid.UUID)
    object.__setattr__(value, "int", int.from_bytes(chunk, "big") & _CLEAR | _SET)
    object.__setattr__(value, "is_safe", uuid.SafeUUID.unknown)
    return value
