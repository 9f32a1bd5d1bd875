"""No page template of any service needs inline script or style: the CSP of every page allows neither."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted([*ROOT.glob("services/*/src/**/*.html"), *ROOT.glob("libs/*/src/**/*.html")])


def test_no_template_has_inline_script_or_style() -> None:
    """An inline block would silently stop working in the browser under the pages' policy."""
    offending = []
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        inline_script = re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        handlers = re.search(r"\son[a-z]+\s*=", text)
        styles = re.search(r"<style\b|\sstyle\s*=", text)
        if inline_script or handlers or styles:
            offending.append(str(template.relative_to(ROOT)))
    assert not offending
    services = {path.relative_to(ROOT).parts[1] for path in TEMPLATES if path.parts[-6:-5] != ("libs",)}
    assert {"casework", "intake", "statistics"} <= services  # every service with pages was found


def test_every_page_head_names_its_tab_icon() -> None:
    """Without one the browser asks every service for /favicon.ico and logs a 404 on each page."""
    heads = [t for t in TEMPLATES if "<head>" in t.read_text(encoding="utf-8")]
    assert heads and [str(t) for t in heads if 'rel="icon"' not in t.read_text(encoding="utf-8")] == []
