"""The same metric definitions, unchanged, on a second Ibis backend: PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from collab.analytics import reference
from collab.analytics.metrics import METRICS, SOURCES, available, connect_duckdb, metric_rows
from collab.analytics.store import SCHEMA, import_agp_files, open_store

from . import generated
from .conftest import DAILY_DURATION, PRACTICE_SAMPLE, SUBICB_MONTHLY

pytestmark = pytest.mark.postgres


def _canonical(rows):
    # PostgreSQL sorts text by its collation, DuckDB by code point: compare as sorted sets.
    return sorted(rows, key=lambda r: [(v is None, repr(v)) for v in r.values()])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=generated.tables, request=generated.requests())
def test_ibis_on_postgres_agrees_with_the_reference(pg_analytics, data, request):
    conn, backend = pg_analytics
    generated.load_postgres(conn, data)
    assert _canonical(metric_rows(backend, **request)) == _canonical(
        reference.compute(data, **request)
    )


def test_real_files_give_the_same_answers_on_postgres_and_duckdb(pg_analytics, store_path):
    conn, backend = pg_analytics
    import_agp_files([SUBICB_MONTHLY, PRACTICE_SAMPLE, DAILY_DURATION], store=store_path)
    with open_store(store_path, read_only=True) as con:
        data = {
            t: con.sql(f"SELECT * FROM {t}").to_arrow_table().to_pylist()  # noqa: S608
            for t in SCHEMA
        }
        generated.load_postgres(conn, data)
        duck = connect_duckdb(con)
        compared = 0
        for source in ("agp", "agp_subicb", "agp_daily"):
            s = SOURCES[source]
            for name, m in METRICS.items():
                if not available(m, s):
                    continue
                for by in ([], ["month"], [s.dimensions()[0], "month"]):
                    on_duckdb = metric_rows(duck, name, by, source=source)
                    on_postgres = metric_rows(backend, name, by, source=source)
                    assert _canonical(on_postgres) == _canonical(on_duckdb), (source, name, by)
                    compared += 1
    assert compared > 30


def test_postgres_pass_really_uses_postgres(pg_analytics):
    conn, backend = pg_analytics
    assert backend.name == "postgres"
    assert "PostgreSQL" in conn.execute("SELECT version()").fetchone()[0]
