"""docs/contract.md stays the contract of the code: its column tables are `contract_markdown`'s
output, it names every input path, and it stands alone in the repository."""

from __future__ import annotations

import pytest
from conftest import REPO

from pipelines.contract.schema import TABLES, TARIFF_CSV, Table, contract_markdown
from pipelines.ingest.sources import SOURCES

CONTRACT = REPO / "docs" / "contract.md"
DOCUMENTED_TABLES = {**TABLES, TARIFF_CSV.name: TARIFF_CSV}
"""Every canonical table, plus the flat-tariff CSV format (an input format only, not in TABLES)."""
OUTSIDE_REFERENCES = (
    "../" + "shared",
    "/wo" + "rk/",
    "DESIGN.md",
)  # spelled apart: not a reference


@pytest.fixture(scope="module")
def contract() -> str:
    return CONTRACT.read_text(encoding="utf-8")


@pytest.mark.parametrize("table", DOCUMENTED_TABLES.values(), ids=DOCUMENTED_TABLES.keys())
def test_column_table_matches_schema(contract: str, table: Table) -> None:
    expected = contract_markdown(table)
    assert expected in contract, (
        f"docs/contract.md does not contain the column table of '{table.name}' as "
        "pipelines/contract/schema.py defines it. Regenerate it with\n\n"
        f'    .venv/bin/python -c "from pipelines.contract.schema import *; '
        f'print(contract_markdown({table.name.upper()}))"\n\n'
        f"and replace the table in docs/contract.md with exactly:\n\n{expected}\n"
    )


@pytest.mark.parametrize("pattern", [p for source in SOURCES for p in source.patterns])
def test_names_every_input_path(contract: str, pattern: str) -> None:
    assert f"`{pattern}`" in contract, (
        f"docs/contract.md does not name the input path `{pattern}` "
        "(pipelines/ingest/sources.py SOURCES); add it to the table of section 1, "
        "'What an input folder holds'."
    )


@pytest.mark.parametrize("reference", OUTSIDE_REFERENCES)
def test_stands_alone_in_the_repository(contract: str, reference: str) -> None:
    lines = [n for n, line in enumerate(contract.splitlines(), start=1) if reference in line]
    assert not lines, (
        f"docs/contract.md mentions '{reference}' (lines {lines}): a clone has only the "
        "repository, so the contract must not point outside it."
    )
