"""Validation errors answer in German by default and in English on request."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from wegweiser.common.http import install_problem_handlers

app = FastAPI()
install_problem_handlers(app)


class Arrival(BaseModel):
    family_name: str = Field(min_length=1, max_length=5)
    allocation_date: date
    channel: Literal["telefon", "video"]
    persons: int = Field(ge=1)


@app.post("/arrivals")
async def post(arrival: Arrival) -> dict[str, str]:
    return {"ok": arrival.family_name}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


BAD = {"family_name": "Haddad-Long", "allocation_date": "2026-13-40", "channel": "fax", "persons": 0}


async def test_messages_are_german_by_default(client: httpx.AsyncClient) -> None:
    answer = (await client.post("/arrivals", json=BAD)).json()
    messages = {e["field"]: e["message"] for e in answer["errors"]}
    assert messages == {
        "family_name": "Zu lang (höchstens 5 Zeichen).",
        "allocation_date": "Kein gültiges Datum (JJJJ-MM-TT).",
        "channel": "Unzulässiger Wert; erlaubt: telefon oder video.",
        "persons": "Muss mindestens 1 sein.",
    }
    missing = (await client.post("/arrivals", json={})).json()
    assert {e["message"] for e in missing["errors"]} == {"Pflichtangabe fehlt."}


async def test_english_when_asked_for(client: httpx.AsyncClient) -> None:
    answer = (await client.post("/arrivals", json={}, headers={"Accept-Language": "en"})).json()
    assert {e["message"] for e in answer["errors"]} == {"Field required"}
