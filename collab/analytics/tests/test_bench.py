"""The benchmark runs, and its three ways of answering each dashboard agree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "analytics.py"


def test_bench_runs_small_and_the_three_implementations_agree():
    spec = importlib.util.spec_from_file_location("bench_analytics", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run(rows=30_000, national=20_000)
    assert result["rows"] == 30_000
    assert set(result["dashboards"]) == set(bench._layer_dashboards())
    assert all(d["results_agree"] for d in result["dashboards"].values()), result["dashboards"]
    assert result["import_national_month"]["rows"] == 20_000
    assert set(result["targets"]) >= {"every_dashboard_under_1s", "import_over_500k_rows_per_s"}
