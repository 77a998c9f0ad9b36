"""Analytics benchmark: dashboard queries through the metric layer, by hand in DuckDB SQL and
in pandas, on an ICS-sized year of appointments; and AGP import speed for a national month.

    python bench/analytics.py [--rows N] [--quick]

Targets (issue 5): every dashboard under 1 s; metric layer at most 1.5x the hand-written DuckDB
time; at least 10x faster than pandas; import over 500,000 rows/s. ``run()`` returns the figures
as a dict for the bench harness.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collab.analytics.agp import parse_agp_file  # noqa: E402
from collab.analytics.metrics import connect_duckdb, metric_rows  # noqa: E402
from collab.analytics.store import (  # noqa: E402
    export_collab_appointments_arrow,
    import_agp_files,
    open_store,
    sync_practices,
)

FULL_ROWS = 10_000_000
QUICK_ROWS = 300_000
NATIONAL_ROWS = 1_200_000
YEAR_START = dt.date(2025, 1, 1)
PRACTICES = 150  # an ICS: ~1.5 million patients in ~150 practices and 30 PCNs
PER_PCN = 5


def _pick(rng: np.random.Generator, n: int, choices: list, weights: list[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(choices), size=n, p=p / p.sum())


def _dict_column(idx: np.ndarray, choices: list) -> pa.Array:
    # Dictionary-encode while generating (cheap), then decode to plain strings as the store has.
    return pa.DictionaryArray.from_arrays(pa.array(idx, type=pa.int32()), pa.array(choices)).cast(
        pa.string()
    )


def generate_appointments(n: int, seed: int = 5) -> pa.Table:
    """n appointment rows over a year in ``export_collab_appointments_arrow``'s columns."""
    rng = np.random.default_rng(seed)
    practices = [f"M{81000 + i}" for i in range(PRACTICES)]
    pcns = [f"U{10000 + i // PER_PCN}" for i in range(PRACTICES)]
    practice_idx = rng.integers(0, PRACTICES, n)
    day = rng.integers(0, 365, n)
    date = np.datetime64(YEAR_START, "D") + day
    lead = np.array([0, 1, 4, 10, 18, 25, 40])[
        _pick(rng, n, list(range(7)), [40, 10, 25, 10, 5, 3, 5])
    ]
    booked = date - lead
    booked_mask = rng.random(n) < 0.02  # booking date unknown
    service = _pick(rng, n, [0, 1, 2, 3], [85, 8, 4, 3])
    channel = _pick(rng, n, [0, 1, 2, 3], [60, 33, 5, 2])
    role = _pick(rng, n, [0, 1, 2, 3], [45, 30, 23, 2])
    status = _pick(rng, n, [0, 1, 2, 3], [5, 85, 4, 6])
    outcome = _pick(rng, n, [0, 1, 2, 3], [45, 30, 20, 5])
    categories = [
        "General Consultation Routine",
        "General Consultation Acute",
        "Clinical Triage",
        "Planned Clinics",
        "Planned Clinical Procedure",
        "Unmapped",
    ]
    return pa.table(
        {
            "appointment_id": pc.cast(pa.array(np.arange(n)), pa.string()),
            "date": pa.array(date, type=pa.date32()),
            "booked_date": pa.array(booked, type=pa.date32(), mask=booked_mask),
            "practice_ods": _dict_column(practice_idx, practices),
            "pcn_ods": _dict_column(practice_idx, pcns),
            "service": _dict_column(service, ["practice", "hub", "out_of_hours", "triage"]),
            "slot_type": _dict_column(
                _pick(rng, n, [0, 1, 2], [80, 10, 10]), ["general", "phlebotomy", "review"]
            ),
            "delivery_channel": _dict_column(
                channel, ["In-person", "Telephone", "Video", "Home visit"]
            ),
            "clinician_role": pa.DictionaryArray.from_arrays(
                pa.array(role, type=pa.int32(), mask=role == 3),
                pa.array(["GP", "Practice nurse", "Clinical pharmacist", "unused"]),
            ).cast(pa.string()),
            "appointment_status": _dict_column(status, ["booked", "attended", "dna", "cancelled"]),
            "outcome": pa.DictionaryArray.from_arrays(
                pa.array(outcome, type=pa.int32(), mask=outcome == 0),
                pa.array(["none", "resolved", "follow_up", "referred"]),
            ).cast(pa.string()),
            "capacity_reserved": pa.array((service == 1) & (rng.random(n) < 0.7)),
            "national_category": _dict_column(
                _pick(rng, n, list(range(6)), [40, 25, 15, 10, 5, 5]), categories
            ),
        }
    )


# --- the dashboards, three ways ------------------------------------------------------------------
# Each dashboard is a list of queries. "layer" goes through the metric layer; "sql" is the same
# question written by hand for DuckDB; "pandas" the same again in pandas.

LAST = dt.date(2025, 12, 31)
WEEK = (LAST - dt.timedelta(days=6), LAST)
OCT = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))
NOV = (dt.date(2025, 11, 1), dt.date(2025, 11, 30))
PCN = "U10003"

LIVE = "status <> 'Cancelled'"


def _layer_dashboards() -> dict[str, list[tuple[str, list[str], dict]]]:
    return {
        "last_week_same_day_vs_booked_ahead": [
            ("same_day_share", ["day"], {"date_from": WEEK[0], "date_to": WEEK[1]}),
            ("booked_ahead_share", ["day"], {"date_from": WEEK[0], "date_to": WEEK[1]}),
        ],
        "compare_two_periods_by_practice": [
            ("appointments", ["practice"], {"date_from": OCT[0], "date_to": OCT[1]}),
            ("appointments", ["practice"], {"date_from": NOV[0], "date_to": NOV[1]}),
        ],
        "drill_down_pcn_to_practice": [
            ("dna_rate", ["pcn"], {"date_from": OCT[0], "date_to": OCT[1]}),
            (
                "dna_rate",
                ["practice"],
                {"date_from": OCT[0], "date_to": OCT[1], "filters": {"pcn": [PCN]}},
            ),
        ],
        "hub_use": [
            ("appointments", ["week"], {"filters": {"service": ["hub"]}}),
            ("resolved_remotely_share", ["practice"], {"filters": {"service": ["hub"]}}),
            ("capacity_reserved", ["practice"], {}),
        ],
        "demand_by_service_and_slot_type": [
            ("appointments", ["month", "service", "slot_type"], {}),
        ],
        "capacity_against_demand": [
            ("appointments", ["week", "service"], {}),
            ("capacity_reserved", ["week", "pcn"], {}),
        ],
    }


def _sql_dashboards() -> dict[str, list[tuple[str, list]]]:
    t = "collab_appointment"
    share = (
        "SELECT date AS day, count(*) FILTER (WHERE time_between_book_and_appt {cond}) AS n, "
        "count(*) FILTER (WHERE time_between_book_and_appt <> 'Unknown') AS d, n / nullif(d, 0) AS v "
        f"FROM {t} WHERE {LIVE} AND date BETWEEN ? AND ? GROUP BY 1 ORDER BY 1"
    )
    by_practice = (
        f"SELECT practice_ods, count(*) FROM {t} WHERE {LIVE} AND date BETWEEN ? AND ? "
        "GROUP BY 1 ORDER BY 1"
    )
    dna = (
        "SELECT {dim}, count(*) FILTER (WHERE status = 'DNA') AS n, "
        "count(*) FILTER (WHERE status IN ('Attended', 'DNA')) AS d, n / nullif(d, 0) AS v "
        f"FROM {t} WHERE {LIVE} AND date BETWEEN ? AND ? {{extra}} GROUP BY 1 ORDER BY 1"
    )
    return {
        "last_week_same_day_vs_booked_ahead": [
            (share.format(cond="= 'Same Day'"), list(WEEK)),
            (share.format(cond="NOT IN ('Same Day', 'Unknown')"), list(WEEK)),
        ],
        "compare_two_periods_by_practice": [(by_practice, list(OCT)), (by_practice, list(NOV))],
        "drill_down_pcn_to_practice": [
            (dna.format(dim="pcn_ods", extra=""), list(OCT)),
            (dna.format(dim="practice_ods", extra="AND pcn_ods = ?"), [*OCT, PCN]),
        ],
        "hub_use": [
            (
                f"SELECT date_trunc('week', date)::DATE, count(*) FROM {t} "
                f"WHERE {LIVE} AND service = 'hub' GROUP BY 1 ORDER BY 1",
                [],
            ),
            (
                "SELECT practice_ods, count(*) FILTER (WHERE outcome = 'resolved' AND mode IN "
                "('Telephone', 'Video/Online')) AS n, count(*) AS d, n / nullif(d, 0) "
                f"FROM {t} WHERE {LIVE} AND service = 'hub' GROUP BY 1 ORDER BY 1",
                [],
            ),
            (
                "SELECT practice_ods, count(*) FILTER (WHERE capacity_reserved) "
                f"FROM {t} WHERE {LIVE} GROUP BY 1 ORDER BY 1",
                [],
            ),
        ],
        "demand_by_service_and_slot_type": [
            (
                f"SELECT date_trunc('month', date)::DATE, service, slot_type, count(*) FROM {t} "
                f"WHERE {LIVE} GROUP BY ALL ORDER BY ALL",
                [],
            )
        ],
        "capacity_against_demand": [
            (
                f"SELECT date_trunc('week', date)::DATE, service, count(*) FROM {t} "
                f"WHERE {LIVE} GROUP BY ALL ORDER BY ALL",
                [],
            ),
            (
                "SELECT date_trunc('week', date)::DATE, pcn_ods, count(*) FILTER (WHERE capacity_reserved) "
                f"FROM {t} WHERE {LIVE} GROUP BY ALL ORDER BY ALL",
                [],
            ),
        ],
    }


def _pandas_dashboards(df: pd.DataFrame) -> dict[str, list[Callable[[], object]]]:
    def live() -> pd.DataFrame:
        return df[df["status"] != "Cancelled"]

    def between(d: pd.DataFrame, lo: dt.date, hi: dt.date) -> pd.DataFrame:
        return d[(d["date"] >= pd.Timestamp(lo)) & (d["date"] <= pd.Timestamp(hi))]

    def share(cond: Callable[[pd.Series], pd.Series]) -> object:
        d = between(live(), *WEEK)
        band = d["time_between_book_and_appt"]
        g = pd.DataFrame({"day": d["date"], "n": cond(band), "d": band != "Unknown"})
        out = g.groupby("day").sum()
        return out["n"] / out["d"].replace(0, np.nan)

    def by_practice(period: tuple[dt.date, dt.date]) -> object:
        return between(live(), *period).groupby("practice_ods").size()

    def dna(dim: str, pcn: str | None = None) -> object:
        d = between(live(), *OCT)
        if pcn:
            d = d[d["pcn_ods"] == pcn]
        g = pd.DataFrame(
            {dim: d[dim], "n": d["status"] == "DNA", "d": d["status"].isin(["Attended", "DNA"])}
        )
        out = g.groupby(dim).sum()
        return out["n"] / out["d"].replace(0, np.nan)

    def hub_week() -> object:
        d = live()
        d = d[d["service"] == "hub"]
        return d.groupby(d["date"].dt.to_period("W").dt.start_time).size()

    def hub_resolved() -> object:
        d = live()
        d = d[d["service"] == "hub"]
        n = (d["outcome"] == "resolved") & d["mode"].isin(["Telephone", "Video/Online"])
        out = pd.DataFrame({"p": d["practice_ods"], "n": n}).groupby("p")["n"].agg(["sum", "size"])
        return out["sum"] / out["size"]

    def reserved(dims: list[str]) -> object:
        d = live()
        keys = [d[c] if c != "week" else d["date"].dt.to_period("W").dt.start_time for c in dims]
        return d["capacity_reserved"].groupby(keys).sum()

    def counts(dims: list[str]) -> object:
        d = live()
        period = {"week": "W", "month": "M"}
        keys = [
            d["date"].dt.to_period(period[c]).dt.start_time if c in period else d[c] for c in dims
        ]
        return d.groupby(keys).size()

    return {
        "last_week_same_day_vs_booked_ahead": [
            lambda: share(lambda b: b == "Same Day"),
            lambda: share(lambda b: ~b.isin(["Same Day", "Unknown"])),
        ],
        "compare_two_periods_by_practice": [lambda: by_practice(OCT), lambda: by_practice(NOV)],
        "drill_down_pcn_to_practice": [lambda: dna("pcn_ods"), lambda: dna("practice_ods", PCN)],
        "hub_use": [hub_week, hub_resolved, lambda: reserved(["practice_ods"])],
        "demand_by_service_and_slot_type": [lambda: counts(["month", "service", "slot_type"])],
        "capacity_against_demand": [
            lambda: counts(["week", "service"]),
            lambda: reserved(["week", "pcn_ods"]),
        ],
    }


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    result = fn()  # warm: caches, compiled SQL, page cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _time_pair(
    a: Callable[[], object], b: Callable[[], object], repeat: int
) -> tuple[float, object, float, object]:
    """Median times of a and b, run alternately so both see the same load from other
    processes; at least ``repeat`` rounds and, for fast queries, about a second's worth."""
    ra, rb = a(), b()
    ta: list[float] = []
    tb: list[float] = []
    while len(ta) < repeat or (sum(ta) + sum(tb) < 1.0 and len(ta) < 50):
        start = time.perf_counter()
        ra = a()
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        rb = b()
        tb.append(time.perf_counter() - start)
    return statistics.median(ta), ra, statistics.median(tb), rb


def bench_dashboards(store: Path, repeat: int) -> dict:
    layer = _layer_dashboards()
    hand = _sql_dashboards()
    out: dict[str, dict] = {}
    with open_store(store, read_only=True) as con:
        backend = connect_duckdb(con)
        df = con.sql(
            "SELECT date, practice_ods, pcn_ods, service, slot_type, mode, status, outcome, "
            "capacity_reserved, time_between_book_and_appt FROM collab_appointment"
        ).df()
        df["date"] = pd.to_datetime(df["date"])
        pandas_queries = _pandas_dashboards(df)
        for name, queries in layer.items():
            cold_start = time.perf_counter()
            for metric, by, kw in queries:
                metric_rows(backend, metric, by, source="collab", **kw)
            cold = time.perf_counter() - cold_start

            def run_layer(queries=queries) -> list:
                return [metric_rows(backend, m, b, source="collab", **kw) for m, b, kw in queries]

            def run_sql(name=name) -> list:
                return [con.execute(q, p).fetchall() for q, p in hand[name]]

            def run_pandas(name=name) -> list:
                return [f() for f in pandas_queries[name]]

            t_layer, layer_result, t_sql, sql_result = _time_pair(run_layer, run_sql, repeat)
            t_pandas, _ = _time(run_pandas, max(1, repeat // 2))
            agree = [len(a) for a in layer_result] == [len(b) for b in sql_result] and all(
                _last_number(a[-1]) == _last_number(b[-1])
                for a, b in zip(layer_result, sql_result, strict=True)
                if a and b
            )
            out[name] = {
                "metric_layer_ms": round(t_layer * 1000, 1),
                "metric_layer_first_call_ms": round(cold * 1000, 1),
                "duckdb_sql_ms": round(t_sql * 1000, 1),
                "pandas_ms": round(t_pandas * 1000, 1),
                "ratio_to_sql": round(t_layer / t_sql, 2),
                "speedup_over_pandas": round(t_pandas / t_layer, 1),
                "results_agree": agree,
            }
    return out


def _last_number(row: object) -> float:
    values = list(row.values()) if isinstance(row, dict) else list(row)
    value = values[-1]
    return round(float(value), 9) if value is not None else float("nan")


# --- import speed --------------------------------------------------------------------------------


def generate_national_month(path: Path, n: int, seed: int = 7) -> int:
    """A practice-level crosstab month of n rows in the published layout; returns its total."""
    rng = np.random.default_rng(seed)
    practices = 6200
    idx = rng.integers(0, practices, n)
    codes = np.array([f"X{i:05d}" for i in range(practices)])
    counts = rng.integers(0, 400, n)
    labels = {
        "HCP_TYPE": ["GP", "Other Practice staff", "Unknown"],
        "APPT_MODE": [
            "Face-to-Face",
            "Telephone",
            "Video Conference/Online",
            "Home Visit",
            "Unknown",
        ],
        "NATIONAL_CATEGORY": [
            "General Consultation Routine",
            "General Consultation Acute",
            "Clinical Triage",
            "Planned Clinics",
            "Unmapped",
        ],
        "TIME_BETWEEN_BOOK_AND_APPT": [
            "Same Day",
            "1 Day",
            "2 to 7 Days",
            "8  to 14 Days",
            "15  to 21 Days",
            "22  to 28 Days",
            "More than 28 Days",
            "Unknown / Data Issue",
        ],
        "APPT_STATUS": ["Attended", "DNA", "Unknown"],
    }
    columns = {
        "APPOINTMENT_MONTH_START_DATE": pa.array(["01OCT2025"] * n),
        "GP_CODE": pa.array(codes[idx]),
        "GP_NAME": pa.array(np.char.add("PRACTICE, ", codes[idx])),
        "SUPPLIER": _dict_column(rng.integers(0, 2, n), ["EMIS", "TPP"]),
        "PCN_CODE": pa.array(np.char.add("U", (idx // 6).astype(str))),
        "PCN_NAME": pa.array(np.char.add("PCN ", (idx // 6).astype(str))),
        "SUB_ICB_LOCATION_CODE": pa.array(np.char.add("S", (idx // 60).astype(str))),
        "SUB_ICB_LOCATION_NAME": pa.array(np.char.add("SUB-ICB ", (idx // 60).astype(str))),
    }
    for col, values in labels.items():
        if col != "APPT_STATUS":
            columns[col] = _dict_column(rng.integers(0, len(values), n), values)
    columns["COUNT_OF_APPOINTMENTS"] = pa.array(counts)
    columns["APPT_STATUS"] = _dict_column(rng.integers(0, 3, n), labels["APPT_STATUS"])
    pacsv.write_csv(pa.table(columns), path)
    return int(counts.sum())


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


# The floor: DuckDB's own CSV reader loading the same file straight into the same table, with no
# checks, no label or date normalisation, no month replacement and no practice directory. What
# an importer that trusted its input could do; measured beside ours in the same run.
_FLOOR_SQL = """
    INSERT INTO agp_practice_month
    SELECT strptime(APPOINTMENT_MONTH_START_DATE, '%d%b%Y')::DATE, GP_CODE, PCN_CODE,
        SUB_ICB_LOCATION_CODE, HCP_TYPE, APPT_MODE, NATIONAL_CATEGORY,
        TIME_BETWEEN_BOOK_AND_APPT, APPT_STATUS, COUNT_OF_APPOINTMENTS
    FROM read_csv(?, header = true, all_varchar = true,
                  types = {'COUNT_OF_APPOINTMENTS': 'BIGINT'})
"""


def _floor_load(path: Path, store: Path) -> None:
    with open_store(store) as con:
        con.execute("SET preserve_insertion_order = false")
        con.execute("BEGIN TRANSACTION")
        con.execute(_FLOOR_SQL, [str(path)])
        con.execute("COMMIT")


# A fresh interpreter, as `collab import-agp` starts (less Django): Python, DuckDB and pyarrow
# start-up and first-use costs included.
_COLD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from collab.analytics.store import import_agp_files; "
    "import_agp_files([sys.argv[2]], store=sys.argv[3])"
)


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - start, _cpu() - cpu


def bench_import(tmp: Path, n: int, repeat: int = 3) -> dict:
    """A generated national month imported ``repeat`` times, alternating with the floor so both
    see the same load from other processes (medians), then once in a fresh interpreter."""
    path = tmp / "national_month.csv"
    expected = generate_national_month(path, n)
    start = time.perf_counter()
    parsed = parse_agp_file(path)  # also warms caches, so the timed imports compare like for like
    t_parse = time.perf_counter() - start
    assert parsed.total_appointments == expected, "generated national month lost appointments"
    del parsed
    ours: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    for i in range(repeat):
        store = tmp / f"import{i}.duckdb"
        ours.append(_timed(lambda store=store: import_agp_files([path], store=store)))
        with open_store(store, read_only=True) as con:
            got = con.execute("SELECT sum(appointments) FROM agp_practice_month").fetchone()[0]
        assert got == expected, "the import lost appointments"
        store.unlink()
        store = tmp / f"floor{i}.duckdb"
        floor.append(_timed(lambda store=store: _floor_load(path, store)))
        store.unlink()
    store = tmp / "cold.duckdb"
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    project = str(Path(__file__).resolve().parent.parent)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _COLD, project, str(path), str(store)], check=True)
    t_cold = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_cold = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    t_import = statistics.median(w for w, _ in ours)
    cpu_import = statistics.median(c for _, c in ours)
    t_floor = statistics.median(w for w, _ in floor)
    cpu_floor = statistics.median(c for _, c in floor)
    return {
        "rows": n,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "parse_and_check_s": round(t_parse, 2),
        "parse_rows_per_s": round(n / t_parse),
        # Medians of the warm runs. CPU seconds (all threads) as well as wall time: on a shared
        # machine the wall figure measures the neighbours too.
        "import_s": round(t_import, 2),
        "import_rows_per_s": round(n / t_import),
        "import_cpu_s": round(cpu_import, 2),
        "import_rows_per_cpu_s": round(n / cpu_import),
        "import_runs_wall_cpu_s": [[round(w, 2), round(c, 2)] for w, c in ours],
        "floor_duckdb_load_s": round(t_floor, 2),
        "floor_rows_per_s": round(n / t_floor),
        "floor_cpu_s": round(cpu_floor, 2),
        "import_cpu_over_floor_cpu": round(cpu_import / cpu_floor, 2),
        "cold_import_s": round(t_cold, 2),
        "cold_import_rows_per_s": round(n / t_cold),
        "cold_import_cpu_s": round(cpu_cold, 2),
    }


def run(quick: bool = False, rows: int | None = None, national: int | None = None) -> dict:
    rows = rows or (QUICK_ROWS if quick else FULL_ROWS)
    national = national or (120_000 if quick else NATIONAL_ROWS)
    repeat = 3 if quick else 5
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="collab-bench-") as tmp_name:
        tmp = Path(tmp_name)
        store = tmp / "analytics.duckdb"
        start = time.perf_counter()
        table = generate_appointments(rows)
        t_gen = time.perf_counter() - start
        sync_practices(
            [
                {
                    "practice_ods": f"M{81000 + i}",
                    "practice_name": f"PRACTICE {i}",
                    "pcn_ods": f"U{10000 + i // PER_PCN}",
                    "pcn_name": f"PCN {i // PER_PCN}",
                    "sub_icb_code": "18C",
                    "collaborative": "ICS",
                }
                for i in range(PRACTICES)
            ],
            store=store,
        )
        start = time.perf_counter()
        export_collab_appointments_arrow(table, store=store)
        t_load = time.perf_counter() - start
        del table
        dashboards = bench_dashboards(store, repeat)
        importing = bench_import(tmp, national)
    worst_ratio = max(d["ratio_to_sql"] for d in dashboards.values())
    least_speedup = min(d["speedup_over_pandas"] for d in dashboards.values())
    slowest = max(d["metric_layer_ms"] for d in dashboards.values())
    return {
        "rows": rows,
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "duckdb_version": duckdb.__version__,
        "threads": duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0],
        "generate_s": round(t_gen, 2),
        "export_s": round(t_load, 2),
        "export_rows_per_s": round(rows / t_load),
        "dashboards": dashboards,
        "import_national_month": importing,
        "targets": {
            "every_dashboard_under_1s": slowest < 1000,
            "slowest_dashboard_ms": slowest,
            "at_most_1_5x_duckdb_sql": worst_ratio <= 1.5,
            "worst_ratio_to_sql": worst_ratio,
            "at_least_10x_pandas": least_speedup >= 10,
            "least_speedup_over_pandas": least_speedup,
            "import_over_500k_rows_per_s": importing["import_rows_per_s"] > 500_000,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help=f"appointment rows (default {FULL_ROWS:,})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    args = parser.parse_args()
    result = run(quick=args.quick, rows=args.rows)
    print(f"{result['rows']:,} appointment rows; export {result['export_rows_per_s']:,} rows/s")
    print(
        f"{'dashboard':40} {'layer ms':>9} {'sql ms':>8} {'pandas ms':>10} {'x sql':>6} {'pandas/x':>9}"
    )
    for name, d in result["dashboards"].items():
        print(
            f"{name:40} {d['metric_layer_ms']:>9} {d['duckdb_sql_ms']:>8} {d['pandas_ms']:>10} "
            f"{d['ratio_to_sql']:>6} {d['speedup_over_pandas']:>9}"
            + ("" if d["results_agree"] else "  RESULTS DIFFER")
        )
    imp = result["import_national_month"]
    print(
        f"import {imp['rows']:,}-row national month: {imp['import_rows_per_s']:,} rows/s "
        f"({imp['import_s']} s, {imp['import_cpu_s']} CPU s); unchecked DuckDB load "
        f"{imp['floor_rows_per_s']:,} rows/s ({imp['floor_cpu_s']} CPU s); fresh process "
        f"{imp['cold_import_rows_per_s']:,} rows/s ({imp['cold_import_s']} s)"
    )
    print(json.dumps(result["targets"], indent=2))


if __name__ == "__main__":
    main()
