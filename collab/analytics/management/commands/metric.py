"""`collab metric NAME --by DIM --from --to --source SOURCE`: a metric as CSV on stdout."""

from __future__ import annotations

import csv
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from collab.analytics.metrics import (
    DIMENSIONS,
    METRICS,
    SOURCES,
    MetricError,
    available,
    connect_duckdb,
    metric_rows,
)
from collab.analytics.store import default_store_path, open_store


def _date(name: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{name} {value!r} is not a date: use YYYY-MM-DD") from None


def _filters(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for text in values:
        dim, sep, rest = text.partition("=")
        if not sep or not rest:
            raise CommandError(f"--where {text!r}: use DIMENSION=VALUE[,VALUE...]")
        out.setdefault(dim.strip(), []).extend(v.strip() for v in rest.split(","))
    return out


class Command(BaseCommand):
    help = (
        "Print a metric as CSV. `collab metric --list` names the metrics, sources and dimensions."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="metric name")
        parser.add_argument(
            "--list", dest="list_only", action="store_true", help="list metrics and dimensions"
        )
        parser.add_argument("--by", default="", help="dimensions, comma separated")
        parser.add_argument("--from", dest="date_from", help="first date, YYYY-MM-DD (inclusive)")
        parser.add_argument("--to", dest="date_to", help="last date, YYYY-MM-DD (inclusive)")
        parser.add_argument(
            "--source", default="collab", help="collab, triage, agp, agp_subicb, ..."
        )
        parser.add_argument("--where", action="append", default=[], help="DIM=V1,V2 filter")
        parser.add_argument("--store", help="analytics DuckDB file (default: COLLAB_ANALYTICS_DB)")

    def handle(
        self,
        *args,
        name=None,
        list_only=False,
        by="",
        date_from=None,
        date_to=None,
        source="collab",
        where=(),
        store=None,
        **options,
    ):
        out = csv.writer(self.stdout, lineterminator="\n")
        if list_only:
            out.writerow(["kind", "name", "description", "sources"])
            for m in METRICS.values():
                having = [s.name for s in SOURCES.values() if available(m, s)]
                out.writerow(["metric", m.name, m.description, " ".join(having)])
            for s in SOURCES.values():
                out.writerow(["source", s.name, s.description, ""])
            for d, text in DIMENSIONS.items():
                having = [s.name for s in SOURCES.values() if d in s.dimensions()]
                out.writerow(["dimension", d, text, " ".join(having)])
            return
        if not name:
            raise CommandError("name a metric, or use --list")
        dims = [d.strip() for d in by.split(",") if d.strip()]
        start, end = _date("--from", date_from), _date("--to", date_to)
        if start and end and start > end:
            raise CommandError(f"--from {start} is after --to {end}")
        with open_store(store or default_store_path(), read_only=True) as con:
            try:
                rows = metric_rows(
                    connect_duckdb(con),
                    name,
                    dims,
                    source=source,
                    date_from=start,
                    date_to=end,
                    filters=_filters(where),
                )
            except MetricError as exc:
                raise CommandError(str(exc)) from exc
        columns = [
            *dims,
            *(["numerator", "denominator"] if METRICS[name].is_ratio else []),
            "value",
        ]
        out.writerow(columns)
        for r in rows:
            out.writerow(["" if r[c] is None else r[c] for c in columns])
