"""Hypothesis strategies for store rows and metric requests, and loaders for each backend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from collab.analytics import store
from collab.analytics.agp import LABELS
from collab.analytics.metrics import METRICS, SOURCES, available
from collab.analytics.store import SCHEMA, create_tables_sql

PRACTICES = ["M81012", "M81048", "M81026", "L85020", "L85061", "M81042"]
PCNS = ["U12199", "U65562", "U21951"]
SUB_ICBS = ["18C", "11X", "11M"]
START = dt.date(2025, 9, 1)

labels = {vocab: st.sampled_from(sorted(table)) for vocab, table in LABELS.items()}
months = st.integers(0, 3).map(lambda i: dt.date(2025, 9 + i, 1))
days = st.integers(0, 100).map(lambda i: START + dt.timedelta(days=i))
weights = st.integers(0, 10**9)


def _rows(table: str, **fields: st.SearchStrategy) -> st.SearchStrategy[list[dict[str, Any]]]:
    names = [c for c, _ in SCHEMA[table]]
    assert set(fields) == set(names), set(names) ^ set(fields)
    return st.lists(st.fixed_dictionaries(fields), max_size=25)


practice_month = _rows(
    "agp_practice_month",
    month=months,
    practice_ods=st.sampled_from(PRACTICES),
    pcn_ods=st.sampled_from(PCNS),
    sub_icb_code=st.sampled_from(SUB_ICBS),
    hcp_type=labels["hcp_type"],
    mode=labels["mode"],
    national_category=labels["national_category"],
    time_between_book_and_appt=labels["time_between_book_and_appt"],
    status=labels["status"],
    appointments=weights,
)
_geog = {
    "sub_icb_code": st.sampled_from(SUB_ICBS),
    "sub_icb_ons_code": st.just("E38000236"),
    "sub_icb_name": st.just("A SUB-ICB"),
    "icb_ons_code": st.just("E54000019"),
    "region_ons_code": st.just("E40000011"),
}
subicb_month = _rows(
    "agp_subicb_month",
    month=months,
    **_geog,
    icb_name=st.just("AN ICB"),
    region_name=st.just("Midlands"),
    status=labels["status"],
    hcp_type=labels["hcp_type"],
    mode=labels["mode"],
    time_between_book_and_appt=labels["time_between_book_and_appt"],
    appointments=weights,
)
day_duration = _rows(
    "agp_subicb_day_duration",
    date=days,
    **_geog,
    actual_duration=labels["actual_duration"],
    appointments=weights,
)
day_category = _rows(
    "agp_subicb_day_category",
    date=days,
    **_geog,
    service_setting=labels["service_setting"],
    context_type=labels["context_type"],
    national_category=labels["national_category"],
    appointments=weights,
)
collab_appointment = _rows(
    "collab_appointment",
    appointment_id=st.uuids().map(str),
    date=days,
    booked_date=st.none() | days,
    practice_ods=st.sampled_from(PRACTICES),
    pcn_ods=st.sampled_from(PCNS),
    service=st.sampled_from(["practice", "hub", "out_of_hours", "triage"]),
    slot_type=st.sampled_from(["general", "phlebotomy", "review"]),
    delivery_channel=st.sampled_from(["In-person", "Telephone", "Video", "Home visit"]),
    clinician_role=st.none() | st.sampled_from(["GP", "Practice nurse"]),
    appointment_status=st.sampled_from(["booked", "attended", "dna", "cancelled"]),
    outcome=st.none() | st.sampled_from(["resolved", "follow_up", "referred"]),
    capacity_reserved=st.booleans(),
    national_category=labels["national_category"],
    mode=labels["mode"],
    hcp_type=labels["hcp_type"],
    status=st.sampled_from(["Attended", "DNA", "Unknown", "Cancelled"]),
    time_between_book_and_appt=labels["time_between_book_and_appt"],
)
moments = st.integers(0, 100 * 24 * 60).map(
    lambda m: dt.datetime.combine(START, dt.time()) + dt.timedelta(minutes=m)
)
triage_labels = {
    "channel": list(store.TRIAGE_CHANNELS),
    "request_kind": list(store.TRIAGE_REQUEST_KINDS),
    "triage_status": list(store.TRIAGE_STATUSES),
    "urgency": [*store.TRIAGE_URGENCIES, store.NOT_TRIAGED],
    "route": [*store.TRIAGE_ROUTES, store.NOT_TRIAGED],
    "triage_service": [*store.TRIAGE_SERVICES, store.NO_SERVICE, store.NOT_TRIAGED],
    "triage_method": [*store.TRIAGE_METHODS, store.NOT_TRIAGED],
    "time_to_triage": [label for _, label in store.TIME_TO_TRIAGE] + [store.NOT_TRIAGED],
}
# Columns drawn independently: the engines must agree on any rows, consistent or not.
collab_triage_request = _rows(
    "collab_triage_request",
    request_id=st.uuids().map(str),
    date=days,
    submitted_at=moments,
    first_triaged_at=st.none() | moments,
    practice_ods=st.sampled_from(PRACTICES),
    pcn_ods=st.sampled_from(PCNS),
    **{k: st.sampled_from(v) for k, v in triage_labels.items()},
    overflowed=st.booleans(),
    send_backs=st.integers(0, 3),
    minutes_to_triage=st.none() | st.integers(0, 20000),
    triaged=st.booleans(),
    same_day=st.none() | st.booleans(),
    sent_back=st.booleans(),
)
org_practice = st.lists(
    st.fixed_dictionaries(
        {
            "practice_ods": st.sampled_from(PRACTICES),
            "practice_name": st.just("A PRACTICE"),
            "pcn_ods": st.sampled_from(PCNS),
            "pcn_name": st.just("A PCN"),
            "sub_icb_code": st.sampled_from(SUB_ICBS),
            "collaborative": st.sampled_from(["Herefordshire", "Somerset"]),
        }
    ),
    max_size=6,
    unique_by=lambda o: o["practice_ods"],
)

tables = st.fixed_dictionaries(
    {
        "agp_practice_month": practice_month,
        "agp_subicb_month": subicb_month,
        "agp_subicb_day_duration": day_duration,
        "agp_subicb_day_category": day_category,
        "collab_appointment": collab_appointment,
        "collab_triage_request": collab_triage_request,
        "org_practice": org_practice,
    }
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    source = draw(st.sampled_from(sorted(SOURCES)))
    s = SOURCES[source]
    usable = [n for n, m in sorted(METRICS.items()) if available(m, s)]
    metric = draw(st.sampled_from(usable))
    by = draw(st.lists(st.sampled_from(s.dimensions()), max_size=2, unique=True))
    date_from = draw(st.none() | days)
    date_to = draw(st.none() | days)
    filters = {}
    if draw(st.booleans()):
        dim = draw(st.sampled_from([d for d in s.dimensions() if d in s.columns]))
        filters[dim] = draw(_values_for(dim))
    return {
        "metric": metric,
        "by": by,
        "source": source,
        "date_from": date_from,
        "date_to": date_to,
        "filters": filters,
    }


def _values_for(dim: str) -> st.SearchStrategy[list]:
    pools = {
        "practice": PRACTICES,
        "pcn": PCNS,
        "sub_icb": SUB_ICBS,
        "service": ["practice", "hub", "out_of_hours", "triage"],
        "slot_type": ["general", "phlebotomy", "review"],
        "outcome": ["resolved", "follow_up", "referred"],
        "capacity_reserved": [True, False],
        "status": ["Attended", "DNA", "Unknown"],
        **triage_labels,
        "same_day": [True, False],
        "triaged": [True, False],
        "sent_back": [True, False],
        "overflowed": [True, False],
    }
    pool = pools.get(dim) or sorted(LABELS[dim])
    return st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)


_ARROW = {
    "DATE": pa.date32(),
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}


def arrow_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([(c, _ARROW[t]) for c, t in SCHEMA[name] if t in _ARROW])
    return pa.Table.from_pylist(rows, schema=schema)


def load_duckdb(con: Any, data: dict[str, list[dict[str, Any]]]) -> None:
    for ddl in create_tables_sql():
        con.execute(ddl)
    for name, rows in data.items():
        con.execute(f"DELETE FROM {name}")
        tbl = arrow_table(name, rows)
        cols = ", ".join(tbl.column_names)
        con.register("incoming", tbl)
        con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM incoming")
        con.unregister("incoming")


def load_postgres(conn: Any, data: dict[str, list[dict[str, Any]]]) -> None:
    """Replace the tables' rows in PostgreSQL (psycopg 3 connection)."""
    with conn.cursor() as cur:
        for ddl in create_tables_sql():
            cur.execute(ddl)
        for name, rows in data.items():
            cur.execute(f"TRUNCATE {name}")
            cols = [c for c, _ in SCHEMA[name] if any(c in r for r in rows)] or None
            if rows:
                with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row([r[c] for c in cols])
    conn.commit()
