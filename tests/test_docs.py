"""The README is part of the product: its set-up and configuration must match the code."""

from __future__ import annotations

from pathlib import Path

from vlsearch.config import settings_markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_starts_with_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```", 2)[1]
    commands = [line.strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make serve", "make test"]


def test_readme_configuration_table_matches_settings() -> None:
    assert settings_markdown_table() in README.read_text(encoding="utf-8"), (
        "README's configuration table is stale: paste the output of "
        "`python -c 'from vlsearch.config import settings_markdown_table as t; print(t())'`"
    )
