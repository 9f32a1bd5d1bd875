"""Test support for intake: domain builders its unit tests share (nothing in the service imports it)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from wegweiser.intake.domain.model import Arrival, Person


def person(**overrides: Any) -> Person:
    """Rania Haddad, head of her household; ``overrides`` replace or add any field."""
    fields = {"person_id": uuid.uuid4(), "role": "head", "family_name": "Haddad", "given_names": "Rania"}
    return Person.model_validate({**fields, **overrides})


def arrival(*persons: Person, allocation_date: dt.date, **changes: Any) -> Arrival:
    """A household (by default Rania alone) allocated to Stuttgart on ``allocation_date``."""
    registered = Arrival(
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference="R-1",
        ags="08111000",
        allocation_date=allocation_date,
        persons=persons or (person(),),
    )
    return registered.model_copy(update=changes)
