"""A small pure-Python engine for the metric layer: the oracle the Ibis engine is tested against.

It reads the same definitions (``METRICS``, ``SOURCES``) and plain rows shaped like the store's
tables, and is written for clarity, not speed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .metrics import Cond, Source, check_request

__all__ = ["compute"]


def _holds(row: Mapping[str, Any], c: Cond) -> bool:
    value = row[c.column]
    if c.negate:
        return value is not None and value not in c.values
    return value is not None and value in c.values


def _unified(raw: Mapping[str, Any], s: Source, org: Mapping[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {dim: raw[col] for dim, col in s.columns.items()}
    for dim, col in s.joined.items():
        row[dim] = org[col] if org else None
    row["date"] = raw[s.date]
    row["weight"] = raw[s.weight] if s.weight else 1
    row["day"] = row["date"]
    row["week"] = row["date"] - dt.timedelta(days=row["date"].weekday())
    row["month"] = row["date"].replace(day=1)
    row["source"] = s.name
    return row


def _sort_key(key: tuple) -> tuple:
    # NULLs sort last, as in SQL's default ascending order.
    return tuple((v is None, v if v is not None else 0) for v in key)


def compute(
    tables: Mapping[str, Iterable[Mapping[str, Any]]],
    metric: str,
    by: Sequence[str] = (),
    *,
    source: str = "collab",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    filters: Mapping[str, Sequence[Any]] | None = None,
) -> list[dict[str, Any]]:
    """The same result as ``metrics.metric_rows`` for the same rows."""
    filters = filters or {}
    m, s = check_request(metric, by, source, filters)
    orgs = {o["practice_ods"]: o for o in tables.get("org_practice", ())}
    sums: dict[tuple, list[int]] = {}
    for raw in tables.get(s.table, ()):
        if not all(_holds(raw, c) for c in s.keep):
            continue
        org = orgs.get(raw[s.columns["practice"]]) if s.joined else None
        row = _unified(raw, s, org)
        if date_from is not None and row["date"] < date_from:
            continue
        if date_to is not None and row["date"] > date_to:
            continue
        if any(row[dim] not in values for dim, values in filters.items()):
            continue
        acc = sums.setdefault(tuple(row[d] for d in by), [0, 0])
        if all(_holds(row, c) for c in m.numerator):
            acc[0] += row["weight"]
        if m.denominator is not None and all(_holds(row, c) for c in m.denominator):
            acc[1] += row["weight"]
    if not by and not sums:
        sums[()] = [0, 0]
    out = []
    for key in sorted(sums, key=_sort_key):
        num, den = sums[key]
        result: dict[str, Any] = dict(zip(by, key, strict=True))
        if m.is_ratio:
            result.update(numerator=num, denominator=den, value=num / den if den else None)
        else:
            result["value"] = num
        out.append(result)
    return out
