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
