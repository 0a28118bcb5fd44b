"""Print the README's configuration table from Settings (`python -m scripts.dev.settings_table`).

The table is generated, never hand-written, and tests/test_readme.py fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from pydantic.fields import FieldInfo

from service.config import Settings


def default_text(field: FieldInfo) -> str:
    value = field.default
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1_000_000:
        return f"{value:,}"
    return str(value)


def rows() -> list[str]:
    """One Markdown row per setting: variable, default, what it does."""
    lines = []
    for name, field in Settings.model_fields.items():
        doc = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `NNSERVE_{name.upper()}` | `{default_text(field)}` | {doc} |")
    return lines


def table() -> str:
    return "\n".join(["| variable | default | what it does |", "| --- | --- | --- |", *rows()])


if __name__ == "__main__":
    print(table())
