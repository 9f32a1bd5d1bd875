"""Browser tests of the services' pages: the service as a process, Debian's Chromium, and axe-core scans.

A test starts the service as people run it (``serve``), opens pages in Chromium driven by Playwright
(``chromium``), and records every screen it passes (``Journey``): a screenshot in the artifacts folder
and an axe-core scan, of which no serious or critical violation may remain (``assert_accessible``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from wegweiser.common.testing.infra import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_INSTALLED = os.path.exists(CHROMIUM)
ARTIFACTS = Path(__file__).resolve().parents[6] / "artifacts"  # the repository's, git-ignored
# A form post writes a case, its history and an outbox row; on a busy 2-core CI machine that has taken
# longer than Playwright's 5 s default, so page actions and assertions both wait this long.
TIMEOUT_MS = 15_000
BLOCKING = {"serious", "critical"}
READY_WITHIN_S = 90


@contextmanager
def serve(service: str, database_url: str, settings: Mapping[str, Any], log_path: Path) -> Iterator[str]:
    """``python -m wegweiser.<service>`` on a free port and ``database_url`` until ready; yields its URL.

    ``settings`` are the shared test settings (the ``service_env`` fixture: broker, keys, group prefix).
    The end of the service's log is printed afterwards, which pytest shows only when the test failed.
    """
    port = free_port()
    prefix = service.upper()
    env = {
        **os.environ,
        f"{prefix}_DATABASE_URL": database_url,
        f"{prefix}_PORT": str(port),
        "KAFKA_BOOTSTRAP_SERVERS": settings["kafka_bootstrap_servers"],
        "AUTH_JWKS_URL": settings["auth_jwks_url"],
        "WEGWEISER_CONSUMER_GROUP_PREFIX": settings["consumer_group_prefix"],
        "LOG_LEVEL": "WARNING",
    }
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"wegweiser.{service}"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_ready(process, url, log_path, service)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            print(f"{service} log (end):\n" + log_path.read_text(errors="replace")[-5000:])


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log_path: Path, service: str) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        assert process.poll() is None, log_path.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{service} not ready within {READY_WITHIN_S} s"
        time.sleep(0.3)


@asynccontextmanager
async def chromium(profile_dir: Path, **options: Any) -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a German locale; ``options`` add to Playwright's context options."""
    expect.set_options(timeout=TIMEOUT_MS)
    assert CHROMIUM_INSTALLED, (
        "Debian's chromium is missing: ./dev test installs it (apt-get install chromium)"
    )
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            user_data_dir=str(profile_dir),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            locale="de-DE",
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            await context.close()


async def expect_login_page(page: Page, url: str) -> None:
    """Open ``url`` without a session: the browser lands on the login page, in German, and the frame's
    first Tab stop is its skip link."""
    await page.goto(url)
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    assert await page.get_attribute("html", "lang") == "de"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip-link"


class Journey:
    """Screenshots and axe scans, numbered in the order a person sees the screens.

    Kept in ``artifacts/<service>-browser/`` with the scans' summary, ``axe-report.json``.
    """

    def __init__(self, page: Page, service: str) -> None:
        self.page = page
        self.artifacts = ARTIFACTS / f"{service}-browser"
        self.step = 0
        self.axe = Axe()
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.artifacts.mkdir(parents=True, exist_ok=True)

    async def record(self, name: str) -> None:
        self.step += 1
        label = f"{self.step:02d}-{name}"
        await self.page.screenshot(path=str(self.artifacts / f"{label}.png"), full_page=True)
        results = await self.axe.run(self.page)
        self.violations[label] = [
            {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]}
            for v in results.response["violations"]
        ]

    def report(self) -> dict[str, Any]:
        impacts = Counter(v["impact"] for vs in self.violations.values() for v in vs)
        return {"screens": len(self.violations), "by_impact": dict(impacts), "violations": self.violations}

    def assert_accessible(self, screens: int) -> None:
        """Write ``axe-report.json``; no screen may have a serious or critical violation, all were scanned."""
        report = self.report()
        (self.artifacts / "axe-report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        blocking = {
            screen: [v for v in found if v["impact"] in BLOCKING]
            for screen, found in report["violations"].items()
            if any(v["impact"] in BLOCKING for v in found)
        }
        assert blocking == {}, json.dumps(blocking, indent=2)
        assert report["screens"] == screens


async def retry_all_dead_letters(
    page: Page, journey: Journey, *, ags: str, municipality: str, ce_type: str, count: int = 2
) -> None:
    """On a service's dead-letter desk (``kern/dead_letters.html``, German): filter by ``ags``, wait until
    ``count`` failed records are listed (malformed ones, of ``ce_type``), retry them all with the
    municipality's button and see the desk confirm it. Records the listing and the confirmation."""
    await page.get_by_label("Gemeindeschlüssel (AGS)").fill(ags)
    row = page.locator("tr[data-entry]", has_text="fehlgeschlagen")
    for _ in range(60):
        await page.get_by_role("button", name="Filter anwenden").click()
        if await row.count() == count:
            break
        await page.wait_for_timeout(500)
    await expect(row).to_have_count(count)
    await expect(row.first).to_contain_text("MalformedRecord")
    await expect(row.first).to_contain_text(ce_type)
    await journey.record("dead-letters")
    await page.get_by_role("button", name=f"Alle {count} fehlgeschlagenen von {municipality}").click()
    await expect(page.get_by_role("status")).to_contain_text(f"{count} Ereignis(se) wurden erneut")
    await journey.record("retried")
