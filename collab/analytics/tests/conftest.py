from __future__ import annotations

import csv
from pathlib import Path

import pytest

AGP_DATA = Path(__file__).resolve().parent.parent / "data" / "agp"
SUBICB_MONTHLY = AGP_DATA / "agp_subicb_monthly_18C_nov2025_release.csv"
PRACTICE_SAMPLE = AGP_DATA / "agp_practice_level_crosstab_oct2025_sample_11X.csv"
DAILY_DURATION = AGP_DATA / "agp_actual_duration_daily_18C_nov2025_release.csv"
DAILY_CATEGORY = AGP_DATA / "agp_national_categories_daily_11M_2024.csv"


def csv_total(path: Path, column: str = "COUNT_OF_APPOINTMENTS") -> tuple[int, int]:
    """(rows, total) computed independently of the importer, with the csv module."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return len(rows), sum(int(r[column]) for r in rows)


def rewrite_cell(src: Path, dst: Path, line: int, column: str, value: str) -> None:
    """Copy a CSV, replacing one cell (line numbers count the header as line 1)."""
    with src.open(newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    rows[line - 1][header.index(column)] = value
    with dst.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "analytics.duckdb"
