"""Integration events: one frozen, versioned pydantic model per type (docs/architecture.md).

Tolerant readers: unknown fields are ignored. Within a version, changes are additive and optional only;
``tests/unit/test_event_schemas.py`` compares the models with the committed JSON Schemas.
Personal events (names, dates of birth) and their pseudonymous twins are separate classes on separate
topics, so statistics can be denied the personal topics entirely.
"""

from wegweiser.common.events.base import *  # noqa: F403
from wegweiser.common.events.base import Event
from wegweiser.common.events.casework import *  # noqa: F403
from wegweiser.common.events.intake import *  # noqa: F403
from wegweiser.common.events.keys import *  # noqa: F403
from wegweiser.common.events.referrals import *  # noqa: F403
from wegweiser.common.events.statistics import *  # noqa: F403


def _all_event_classes(cls: type[Event]) -> list[type[Event]]:
    found = []
    for sub in cls.__subclasses__():
        if "name" in sub.__dict__:
            found.append(sub)
        found += _all_event_classes(sub)
    return found


REGISTRY: dict[str, type[Event]] = {cls.ce_type(): cls for cls in _all_event_classes(Event)}
"""Every concrete event class by its CloudEvents type; a new class in any module here joins automatically."""
