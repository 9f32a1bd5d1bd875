"""Bodies over a route's limit are refused with 413 problem+json before they are parsed."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from wegweiser.common.http import install_problem_handlers
from wegweiser.common.request_limits import DEFAULT_MAX_BODY_BYTES, max_body

app = FastAPI()
install_problem_handlers(app)


@app.post("/small")
async def small(body: dict[str, str]) -> dict[str, int]:
    return {"keys": len(body)}


@app.post("/large", openapi_extra=max_body(8 * DEFAULT_MAX_BODY_BYTES))
async def large(body: dict[str, str]) -> dict[str, int]:
    return {"keys": len(body)}


def _json_of(size: int) -> bytes:
    return b'{"a":"' + b"x" * size + b'"}'


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def test_a_5_mb_body_is_refused_with_413_problem_json(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/small", content=_json_of(5_000_000), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 413


async def test_a_body_under_the_limit_passes(client: httpx.AsyncClient) -> None:
    answer = await client.post("/small", content=_json_of(1000), headers={"content-type": "application/json"})
    assert answer.status_code == 200


async def test_a_chunked_body_without_length_is_counted(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a":"'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    answer = await client.post("/small", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413


async def test_a_route_declares_a_larger_limit(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    assert (await client.post("/large", content=_json_of(3_000_000), headers=headers)).status_code == 200
    assert (await client.post("/large", content=_json_of(9_000_000), headers=headers)).status_code == 413
    assert app.openapi()["paths"]["/large"]["post"]["x-max-body-bytes"] == 8 * DEFAULT_MAX_BODY_BYTES


@app.get("/echo")
async def echo(q: str = "") -> dict[str, str]:
    return {"q": q}


async def test_a_nul_in_the_url_is_refused_before_any_route(client: httpx.AsyncClient) -> None:
    answer = await client.get("/echo?q=a%00b")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "U+0000" in answer.json()["detail"]
    assert (await client.get("/echo?q=ab")).json() == {"q": "ab"}


async def test_a_nul_in_a_json_body_is_refused_even_across_chunks(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    answer = await client.post("/small", content=b'{"a":"x\\u0000y"}', headers=headers)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a":"x\\u00'
        yield b'00y"}'

    assert (await client.post("/small", content=chunks(), headers=headers)).status_code == 422


async def test_a_binary_upload_may_hold_zero_bytes(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/large", content=b"PK\x03\x04\x00\x00", headers={"content-type": "application/zip"}
    )
    assert answer.status_code == 422  # the route wants JSON: refused by validation, not as a NUL
    assert "U+0000" not in answer.text


async def test_refusals_speak_the_callers_language(client: httpx.AsyncClient) -> None:
    """Issue 14: every user-facing message in the caller's language, these refusals too."""
    big = _json_of(2 * DEFAULT_MAX_BODY_BYTES)
    german = await client.post("/small", content=big, headers={"content-type": "application/json"})
    english = await client.post(
        "/small", content=big, headers={"content-type": "application/json", "accept-language": "en"}
    )
    assert (german.json()["title"], german.json()["detail"]) == (
        "Anfrage zu groß",
        f"Die Anfrage ist größer als {DEFAULT_MAX_BODY_BYTES} Bytes.",
    )
    assert (english.json()["title"], english.json()["detail"]) == (
        "Payload too large",
        f"The request is larger than {DEFAULT_MAX_BODY_BYTES} bytes.",
    )
    nul_in_body = await client.post(
        "/small",
        content=b'{"a":"x\\u0000"}',
        headers={"content-type": "application/json", "accept-language": "en"},
    )
    assert nul_in_body.json()["detail"].startswith("The request contains a null character")
    nul_in_url = await client.get("/echo?q=a%00b", headers={"accept-language": "en-GB,de;q=0.5"})
    assert nul_in_url.json()["detail"].startswith("The request contains a null character")
