"""401 and 403 answers speak the caller's language (issue 14: a German title over an English detail)."""

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from wegweiser.common.auth import Forbidden, Unauthorized
from wegweiser.common.http import install_problem_handlers, not_found

ROOT = Path(__file__).resolve().parents[4]
HTTP_MODULE = ROOT / "libs" / "common" / "src" / "wegweiser" / "common" / "http.py"  # defines not_found
SOURCES = [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]

app = FastAPI()
install_problem_handlers(app)


@app.get("/forbidden")
async def forbidden() -> None:
    raise Forbidden("no access to municipality 08111000", de="kein Zugriff auf die Gemeinde 08111000")


@app.get("/unauthorized")
async def unauthorized() -> None:
    raise Unauthorized("missing bearer token", de="Bearer-Token fehlt")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def test_the_detail_is_german_by_default_and_english_when_asked_for(client: httpx.AsyncClient) -> None:
    german = (await client.get("/forbidden")).json()
    english = (await client.get("/forbidden", headers={"accept-language": "en"})).json()
    assert (german["title"], german["detail"]) == (
        "Keine Berechtigung",
        "kein Zugriff auf die Gemeinde 08111000",
    )
    assert (english["title"], english["detail"]) == ("Forbidden", "no access to municipality 08111000")
    missing = await client.get("/unauthorized")
    assert missing.status_code == 401 and missing.json()["detail"] == "Bearer-Token fehlt"
    assert missing.headers["www-authenticate"] == "Bearer"


def _lines_without_german(source: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) in ("Forbidden", "Unauthorized")
        and "de" not in {keyword.arg for keyword in node.keywords}
    ]


def test_every_refusal_of_access_in_the_code_has_a_german_text() -> None:
    """Give ``de=...`` to every ``Forbidden``/``Unauthorized`` (the English text stays for the logs)."""
    assert len(SOURCES) > 100
    sites = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in SOURCES
        for line in _lines_without_german(path.read_text())
    ]
    assert sites == []


def test_the_check_sees_a_refusal_without_german() -> None:
    assert _lines_without_german('x = 1\nraise Forbidden("requires admin")\n') == [2]
    assert _lines_without_german('raise Forbidden("requires admin", de="erfordert admin")\n') == []


@app.get("/cases/{case_id}")
async def unknown_case(case_id: str, request: Request) -> JSONResponse:
    return not_found(request, "Fall", "case", case_id)


async def test_not_found_names_what_in_the_callers_language(client: httpx.AsyncClient) -> None:
    german = (await client.get("/cases/c-1")).json()
    english = (await client.get("/cases/c-1", headers={"accept-language": "en"})).json()
    assert (german["title"], german["detail"]) == ("Nicht gefunden", "Fall c-1")
    assert (english["title"], english["detail"]) == ("Not found", "case c-1")


def _handwritten_404s(source: str) -> list[int]:
    """``problem(request, 404, f"<noun> {key}")``: a 404 detail in one language only (a conditional
    expression choosing by language passes)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "problem"
        and len(node.args) >= 3
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value == 404
        and isinstance(node.args[2], (ast.Constant, ast.JoinedStr))
    ]


def test_every_404_of_the_services_names_what_in_both_languages() -> None:
    """Use ``wegweiser.common.http.not_found``."""
    sites = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in SOURCES
        if path != HTTP_MODULE
        for line in _handwritten_404s(path.read_text())
    ]
    assert sites == []
    assert _handwritten_404s('problem(request, 404, f"case {case_id}")') == [1]
    assert _handwritten_404s('problem(request, 404, "Fall" if german else "case")') == []
