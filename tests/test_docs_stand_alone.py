"""The repository explains itself: no file points outside it, every relative link in the docs resolves."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in out.stdout.splitlines() if (ROOT / line).is_file()]


def test_no_file_points_to_a_folder_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _tracked("*.md", "*.py", "*.toml", "*.yaml", "*.yml", "dev", "*.sh")
        if "../shared" in path.read_text(errors="replace") and path.name != Path(__file__).name
    ]
    assert not offenders


def test_relative_links_in_markdown_resolve() -> None:
    broken = []
    for path in _tracked("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)} → {target}")
    assert not broken


# A reader on a fresh machine has no ``uv`` on PATH (``./dev`` installs it into its cache): every
# command in the docs that needs the project's environment goes through ``./dev`` (issue 14).
BARE_UV = re.compile(r"(?<![/\w.-])uvx?\s+(run|sync|pip|lock|tool)\b")
# Code blocks (fenced or indented) whose first word needs the environment and is not a ``./dev`` call.
BARE_TOOL = re.compile(r"^\s*(?:\$\s*)?(python3?|pytest|wegweiser|alembic|ruff|mypy)\s", re.MULTILINE)
# The only places a link may leave the repository: public standards and specifications.
PUBLIC_STANDARDS = (
    "www.rfc-editor.org",
    "datatracker.ietf.org",
    "www.standardwebhooks.com",
    "www.asyncapi.com",
    "cloudevents.io",
    "spec.openapis.org",
    "owasp.org",
    "eur-lex.europa.eu",
    "www.gesetze-im-internet.de",
)


def test_no_command_in_the_docs_needs_uv_on_the_path() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _tracked("*.md")
        for pattern in (BARE_UV, BARE_TOOL)
        for match in pattern.finditer(path.read_text())
    ]
    assert not offenders


def test_no_link_leaves_the_repository_except_to_a_public_standard() -> None:
    leaving = [
        f"{path.relative_to(ROOT)}: {host}"
        for path in _tracked("*.md")
        for host in re.findall(r"https?://([^/\s)>`\"':]+)", path.read_text())
        if host not in ("127.0.0.1", "localhost") and host not in PUBLIC_STANDARDS
    ]
    assert not leaving


def test_the_checks_see_what_they_look_for() -> None:
    """The patterns are not blind: the stumble of issue 14 and an outside link are found."""
    assert BARE_UV.search("uv run wegweiser token --role counsellor")
    assert not BARE_UV.search("~/.cache/wegweiser/uv-venv/bin/uv lock")
    assert BARE_TOOL.search("```sh\nwegweiser dlq list\n```")
    assert not BARE_TOOL.search("./dev run wegweiser dlq list")


def test_every_dev_command_in_the_docs_exists() -> None:
    """A ``./dev`` subcommand the docs name but the script lacks would fail the reader on the first try."""
    known = set(re.findall(r"^([a-z]+)\)$", (ROOT / "dev").read_text(), re.MULTILINE))
    assert {"up", "test", "token", "run", "stop"} <= known
    named = {word for path in _tracked("*.md") for word in re.findall(r"\./dev ([a-z]+)", path.read_text())}
    assert named and named <= known
