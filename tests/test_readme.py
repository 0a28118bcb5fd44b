"""The README is for users: its configuration table must match Settings exactly."""

from __future__ import annotations

from pathlib import Path

from scripts.dev.settings_table import rows

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [row for row in rows() if row not in text]
    assert not missing, (
        "README's configuration table is stale; regenerate it with "
        "`python -m scripts.dev.settings_table`:\n" + "\n".join(missing)
    )


def test_readme_pictures_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for line in text.splitlines():
        for part in line.split("](")[1:]:
            target = part.split(")")[0]
            if target.startswith("docs/"):
                assert (README.parent / target).is_file(), f"README links a missing file {target}"
