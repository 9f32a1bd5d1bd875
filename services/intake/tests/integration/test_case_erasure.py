"""A case erased in casework erases the arrival it was opened for, through intake's own consumer."""

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from wegweiser.common import events
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import produce
from wegweiser.intake.app import build
from wegweiser.intake.db import PersonIndexRow, PersonKeyRow
from wegweiser.intake.domain.model import PersonData
from wegweiser.intake.handlers import IntakeUnitOfWork, NewArrival, RegisterArrivals, register_arrivals
from wegweiser.intake.settings import IntakeSettings

pytestmark = pytest.mark.integration

RANIA = PersonData(
    role="head", family_name="Haddad", given_names="Rania", date_of_birth="1988-03-14", nationalities=("SY",)
)


async def register(uow: IntakeUnitOfWork, reference: str) -> uuid.UUID:
    item = NewArrival(
        authority_reference=reference, ags="08111000", allocation_date=dt.date.today(), persons=(RANIA,)
    )
    (done,) = await register_arrivals(
        RegisterArrivals("uab-08111", (item,)), uow=uow, today=dt.date.today(), pseudonym_key="k" * 32
    )
    assert done.arrival is not None, done.error
    return done.arrival.arrival_id


async def test_case_erased_erases_the_arrival_named_in_it_and_no_other(
    service_env: dict[str, Any], database_url: str
) -> None:
    settings = IntakeSettings(database_url=database_url, **service_env)
    app = build(settings)
    async with running(app):
        unit_of_work = app.state.runtime.unit_of_work
        erased, kept = await register(unit_of_work(), "UAB-1"), await register(unit_of_work(), "UAB-2")
        walk_in = events.CaseErased(
            ags="08111000", case_id=uuid.uuid4(), erased_on=dt.date.today(), reason="request"
        )
        erasure = walk_in.model_copy(update={"case_id": uuid.uuid4(), "arrival_id": erased})
        await produce(settings.kafka_bootstrap_servers, encode(walk_in), encode(erasure), encode(erasure))

        async def status_of(arrival_id: uuid.UUID) -> str:
            async with unit_of_work() as uow:
                arrival = await uow.arrivals.get(arrival_id)
                assert arrival is not None
                return arrival.status

        async def erased_now() -> bool:
            return await status_of(erased) == "erased"

        await eventually(erased_now, timeout_s=60, what="case.erased consumed by intake")
        async with unit_of_work() as uow:
            gone = await uow.arrivals.get(erased)
            assert gone is not None and gone.persons == () and gone.authority_reference == "UAB-1"
            still = await uow.arrivals.get(kept)
            assert still is not None and [p.family_name for p in still.persons] == ["Haddad"]
            index = select(PersonIndexRow).where(col(PersonIndexRow.arrival_id) == erased)
            assert (await uow.session.execute(index)).first() is None
            # crypto-shredding: the erased arrival's data keys are gone, the kept one's are not
            keys = select(col(PersonKeyRow.person), col(PersonKeyRow.key))
            held = {person.split("/")[0]: key for person, key in (await uow.session.execute(keys)).tuples()}
            assert held[str(erased)] is None and held[str(kept)] is not None
        assert await status_of(kept) == "registered"
