"""Programmes and partners: what can be referred where, and which personal data may travel with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wegweiser.common.events import DeliveryMode, PersonField, Programme
from wegweiser.common.events.referrals import PARTNER_ID_PATTERN
from wegweiser.common.partner_areas import PartnerArea

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
PROGRAMMES: tuple[Programme, ...] = get_args(Programme)


class ProgrammeInfo(BaseModel):
    """One programme of docs/domain.md's catalogue with the minimum personal data it needs."""

    model_config = ConfigDict(frozen=True)

    programme: Programme
    name_de: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description_de: str = Field("", max_length=2000)
    description_en: str = Field("", max_length=2000)
    legal_basis: str | None = Field(None, max_length=200)
    person_fields: tuple[PersonField, ...] = Field(min_length=1)
    required_fields: tuple[PersonField, ...] = ()
    active: bool = True

    @model_validator(mode="after")
    def _required_are_sent(self) -> ProgrammeInfo:
        extra = set(self.required_fields) - set(self.person_fields)
        if extra:
            raise ValueError(f"required_fields not in person_fields: {', '.join(sorted(extra))}")
        return self


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


UniqueProgrammes = Annotated[tuple[Programme, ...], AfterValidator(_unique)]
Regions = Annotated[tuple[str, ...], AfterValidator(_unique)]


class PartnerSpec(BaseModel):
    """A partner agency as an admin describes it: organisation, programmes, area, delivery."""

    model_config = ConfigDict(frozen=True)

    partner_id: str = Field(pattern=PARTNER_ID_PATTERN, max_length=63)
    organisation: str = Field(min_length=2, max_length=200)
    programmes: UniqueProgrammes = Field(min_length=1)
    ags: Regions = Field((), description="municipality keys served")
    kreise: Regions = Field((), description="Kreis keys served as a whole")
    laender: Regions = Field((), validate_default=True, description="Land keys served as a whole")
    delivery: DeliveryMode
    webhook_url: HttpUrl | None = Field(
        None, validate_default=True, description="https; webhook partners only"
    )
    contact_email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    contact_phone: str | None = Field(None, max_length=50)
    website: str | None = Field(None, max_length=300)
    capacity_note: str | None = Field(None, max_length=500)
    active: bool = True

    @field_validator("laender")
    @classmethod
    def _serves_somewhere(cls, laender: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if not (laender or info.data.get("ags") or info.data.get("kreise")):
            raise ValueError("a partner serves at least one municipality (ags), Kreis or Land")
        return laender

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_fits_delivery(cls, url: HttpUrl | None, info: ValidationInfo) -> HttpUrl | None:
        delivery = info.data.get("delivery")
        if delivery == "webhook" and url is None:
            raise ValueError("webhook partners need a webhook_url")
        if delivery == "kafka" and url is not None:
            raise ValueError("kafka partners have no webhook_url")
        if url is not None and url.scheme != "https" and url.host not in LOOPBACK:
            raise ValueError("webhook_url must use https (plain http only to this machine's loopback)")
        return url


class Partner(PartnerSpec):
    """A partner in the catalogue; a removed one keeps its id (ids are never reused)."""

    removed: bool = False

    @property
    def receives(self) -> bool:
        """Only active, not removed partners get new referrals."""
        return self.active and not self.removed

    @property
    def area(self) -> PartnerArea:
        """The regions it serves, for the one rule of which partners serve a municipality."""
        return PartnerArea(self.ags, self.kreise, self.laender)


def minimum_person_data(
    person: Mapping[str, object], programme: ProgrammeInfo
) -> tuple[dict[str, object], list[str]]:
    """The programme's fields of the person, and the required ones that are missing."""
    data: dict[str, object] = {
        f: person.get(f) for f in programme.person_fields if person.get(f) not in (None, "", ())
    }
    missing: list[str] = [f for f in programme.required_fields if f not in data]
    return data, missing
