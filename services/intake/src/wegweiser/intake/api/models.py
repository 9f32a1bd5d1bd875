"""The arrival as the API reads and answers it; shared by every business area and by uploads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic_core import PydanticCustomError

from wegweiser.common.regions import catalogue
from wegweiser.intake.domain.model import Arrival, Person, PersonData, Text
from wegweiser.intake.handlers import NewArrival

PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


def populated(value: str) -> str:
    """A validator: ``value`` must be a populated municipality of the catalogue (an allocation target)."""
    if not catalogue().is_allocation_target(value):
        raise PydanticCustomError(
            "unknown_municipality", "{ags} is not a populated municipality of the catalogue", {"ags": value}
        )
    return value


class ArrivalIn(BaseModel):
    """A household allocated to a municipality; ``persons[*].role`` has exactly one ``head``."""

    model_config = ConfigDict(extra="forbid")

    authority_reference: Annotated[Text, Field(min_length=1, max_length=100)] = Field(
        description="The authority's own case number; registering it again returns the first result"
    )
    ags: str = Field(
        pattern=r"^\d{8}$", description="Target municipality (8-digit AGS)", examples=["08111000"]
    )
    allocation_date: dt.date = Field(description="Date of the allocation; not in the future")
    facility: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="Reception facility the household comes from"
    )
    persons: list[PersonData] = Field(min_length=1, max_length=30)

    _ags = field_validator("ags")(populated)

    def command(self) -> NewArrival:
        return NewArrival(
            authority_reference=self.authority_reference,
            ags=self.ags,
            allocation_date=self.allocation_date,
            facility=self.facility,
            persons=tuple(self.persons),
        )


ARRIVAL_IN = TypeAdapter(ArrivalIn)


class ArrivalOut(BaseModel):
    arrival_id: uuid.UUID
    status: str = Field(description="registered, corrected, relocated, withdrawn or merged")
    version: int
    ags: str
    authority_reference: str
    allocation_date: dt.date
    facility: str | None
    household_size: int
    persons: list[Person]
    relocated_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    withdrawal_reason: str | None = None
    merged_into: uuid.UUID | None = None
    duplicates: list[uuid.UUID] = Field(
        default_factory=list, description="Probable duplicates flagged for review by this request"
    )
    corrected_fields: list[str] | None = None

    @classmethod
    def of(cls, arrival: Arrival, **extra: Any) -> ArrivalOut:
        return cls(
            **arrival.model_dump(exclude={"authority_id", "persons"}),
            persons=list(arrival.persons),
            household_size=len(arrival.persons),
            **extra,
        )


def arrival_json(arrival: Arrival, **extra: Any) -> bytes:
    return ArrivalOut.of(arrival, **extra).model_dump_json().encode()
