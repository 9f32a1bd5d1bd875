"""One subject access export across the services (GDPR Art. 15): ``wegweiser export-person``.

Each service exports, and audits, only what it holds itself (``wegweiser.common.subject_access``). This
client asks intake and casework by the person, then referrals by each of the person's cases and
referrals that casework named, and puts the answers into one document of the same schema (service
``wegweiser``, each section titled with the service that holds it), as JSON or one readable PDF. It
talks to the services' admin APIs like any admin would, with the caller's admin token.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from wegweiser.common import subject_access, subject_access_pdf

DEFAULT_URLS = {
    "intake": "http://127.0.0.1:8001",
    "casework": "http://127.0.0.1:8002",
    "referrals": "http://127.0.0.1:8003",
}


def _values(doc: Any, key: str) -> Iterator[str]:
    """Every value of ``key`` anywhere in a document (case and referral ids)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _values(v, key)
    elif isinstance(doc, list):
        for item in doc:
            yield from _values(item, key)


async def _export(client: httpx.AsyncClient, path: str, headers: Mapping[str, str], **params: Any) -> Any:
    """The service's export, or None when it holds nothing (404)."""
    response = await client.get(path, headers=dict(headers), params=params)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


async def collect(
    clients: Mapping[str, httpx.AsyncClient], person_id: uuid.UUID, *, token: str, english: bool
) -> dict[str, Any]:
    """Everything the services hold about the person, as one ``wegweiser.subject-access.v1`` document."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    headers["Accept-Language"] = "en" if english else "de"
    parts: list[tuple[str, dict[str, Any]]] = []
    for service in ("intake", "casework"):
        doc = await _export(clients[service], f"/v1/admin/persons/{person_id}/export", headers)
        if doc is not None:
            parts.append((service, doc))
    casework = next((doc for service, doc in parts if service == "casework"), {})
    referral_ids = sorted(set(_values(casework.get("sections", {}), "referral_id")))
    for case_id in sorted(set(_values(casework.get("sections", {}), "case_id"))):
        path = f"/v1/admin/cases/{case_id}/export"
        doc = await _export(clients["referrals"], path, headers, referral_id=referral_ids)
        if doc is not None:
            parts.append(("referrals", doc))
    return merge(person_id, parts, english=english, now=dt.datetime.now(dt.UTC))


def merge(
    person_id: uuid.UUID, parts: list[tuple[str, dict[str, Any]]], *, english: bool, now: dt.datetime
) -> dict[str, Any]:
    """One document: each service's sections under "<service>: <section>" (the case too, if several)."""
    sections: dict[str, Any] = {}
    cases = sum(1 for service, _ in parts if service == "referrals")
    names = subject_access_pdf.words("en" if english else "de")["services"]
    for service, doc in parts:
        where = str(names[service])
        if service == "referrals" and cases > 1:
            where = f"{where} ({doc.get('case_id')})"
        for title, content in doc.get("sections", {}).items():
            sections[f"{where}: {title}"] = content
    return {
        "schema": subject_access.SCHEMA,
        "service": "wegweiser",
        "person_id": str(person_id),
        "generated_at": now.isoformat(),
        "language": "en" if english else "de",
        "sources": [{"service": service, "generated_at": doc.get("generated_at")} for service, doc in parts],
        "sections": sections,
    }


def add_command(commands: Any) -> None:
    """``wegweiser export-person``: the arguments, on the CLI's subcommands."""
    export = commands.add_parser(
        "export-person", help="everything the services hold about one person (GDPR Art. 15), JSON or PDF"
    )
    export.add_argument("--person-id", type=uuid.UUID, required=True)
    export.add_argument("--token", default=os.environ.get("WEGWEISER_TOKEN"), help="an admin token")
    for service, url in DEFAULT_URLS.items():
        export.add_argument(f"--{service}", default=url, help=f"{service} service URL (default {url})")
    export.add_argument("--lang", choices=["de", "en"], default="de")
    export.add_argument("--out", type=Path, help="file to write; .pdf for the PDF (default: JSON on stdout)")
    export.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    if not args.token:
        sys.exit("export-person needs an admin token: --token or WEGWEISER_TOKEN")
    doc = asyncio.run(_collect_from(args))
    if args.out is not None and args.out.suffix.lower() == ".pdf":
        args.out.write_bytes(subject_access_pdf.render(doc))
    else:
        text = json.dumps(doc, ensure_ascii=False, indent=2)
        if args.out is None:
            print(text)
        else:
            args.out.write_text(text + "\n", encoding="utf-8")
    held = ", ".join(dict.fromkeys(s["service"] for s in doc["sources"])) or "none"
    print(f"export-person: {len(doc['sections'])} sections from {held}", file=sys.stderr)


async def _collect_from(args: argparse.Namespace) -> dict[str, Any]:
    clients = {s: httpx.AsyncClient(base_url=getattr(args, s), timeout=60) for s in DEFAULT_URLS}
    try:
        return await collect(clients, args.person_id, token=args.token, english=args.lang == "en")
    finally:
        for client in clients.values():
            await client.aclose()
