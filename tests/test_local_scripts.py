"""The local scripts keep to their own folders (issue 14: the PostgreSQL script changed the home folder's
permissions so that the postgres user could enter it). Checked by reading the scripts, since running
them here would touch the shared test cluster."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "dev", *sorted((ROOT / "deploy" / "local").glob("*.sh"))]
# Where the scripts may create things: their cache and state roots, and (PostgreSQL as root, CI) a
# folder of their own under /var/lib.
OWN_ROOTS = ("$CACHE", "$CACHE_ROOT", "$STATE_ROOT", "/var/lib/wegweiser/")


def _text() -> str:
    return "\n".join(path.read_text() for path in SCRIPTS)


def _definitions(text: str) -> dict[str, str]:
    """Each ``NAME="..."`` assignment's value (the last one wins, as in the scripts' flow)."""
    return {name: value for name, value in re.findall(r'^\s*([A-Z_]+)="([^"]*)"', text, re.MULTILINE)}


def _resolves_inside_own_roots(variable: str, definitions: dict[str, str], depth: int = 0) -> bool:
    value = definitions.get(variable, "")
    if any(root in value for root in OWN_ROOTS) or variable in ("CACHE", "CACHE_ROOT", "STATE_ROOT"):
        return True
    inner = re.match(r"\$\{?([A-Z_]+)", value)
    return bool(inner) and depth < 5 and _resolves_inside_own_roots(inner.group(1), definitions, depth + 1)


def test_no_script_changes_permissions_of_anything() -> None:
    assert not re.search(r"\b(chmod|setfacl)\b", _text())


def test_ownership_changes_only_on_the_postgres_scripts_own_folder() -> None:
    targets = re.findall(r"\bchown\b[^\n]*", _text())
    assert targets == ['chown postgres:postgres "$PG_DIR"']


def test_every_folder_the_scripts_create_lies_in_their_cache_or_state() -> None:
    text = _text()
    definitions = _definitions(text)
    created = [
        name for line in re.findall(r"mkdir -p ([^\n]+)", text) for name in re.findall(r"\$([A-Z_]+)", line)
    ]
    assert created
    assert [name for name in created if not _resolves_inside_own_roots(name, definitions)] == []


def test_as_root_postgres_gets_a_folder_of_its_own_when_the_home_is_closed() -> None:
    script = (ROOT / "deploy" / "local" / "postgres.sh").read_text()
    assert 'runuser -u postgres -- test -x "$STATE_ROOT"' in script
    assert 'PG_DIR="${WEGWEISER_ROOT_PG_DIR:-/var/lib/wegweiser/postgres}"' in script


def test_the_reading_sees_a_permission_change() -> None:
    """Not blind: the line the script once had would be found."""
    assert re.search(r"\b(chmod|setfacl)\b", 'chmod o+x "$HOME"')
    assert not _resolves_inside_own_roots("HOME", {})


def test_every_test_run_starts_with_an_empty_test_broker() -> None:
    """A new consumer group starts at the earliest offset: on a broker kept from earlier runs the
    end-to-end stack first worked through every old arrival and missed its 60 s (seen with 1,649)."""
    test_command = (ROOT / "dev").read_text().split("\ntest)", 1)[1].split(";;", 1)[0]
    reset = test_command.index("kafka.sh reset")
    assert reset < test_command.index("kafka.sh start") and reset < test_command.index("pytest")
