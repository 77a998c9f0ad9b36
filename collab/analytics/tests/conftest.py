from __future__ import annotations

import csv
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

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


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture(scope="session")
def pg_analytics():
    """(psycopg connection, Ibis PostgreSQL backend) on a database of our own.

    Skips only when DATABASE_URL does not point at PostgreSQL: that is the SQLite pass of CI.
    """
    url = postgres_url()
    if url is None:
        pytest.skip("DATABASE_URL is not PostgreSQL: this runs in the PostgreSQL pass")
    import ibis
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    # Beside the Django test database, named after it, so parallel runs (COLLAB_TEST_DB_NAME) never share one.
    name = os.environ.get("COLLAB_TEST_DB_NAME", "test_collab") + "_analytics"
    admin_url = urlunsplit(
        parts._replace(path="/postgres")
    )  # the URL's own database may not exist yet
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn = psycopg.connect(urlunsplit(parts._replace(path="/" + name)))
    backend = ibis.postgres.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        database=name,
    )
    yield conn, backend
    backend.disconnect()
    conn.close()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
