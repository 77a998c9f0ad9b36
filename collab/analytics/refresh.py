"""Refresh collab's own rows in the analytics store from collab's database (the Django side).

One read of the database (one snapshot on PostgreSQL), then one DuckDB transaction that
replaces appointments, out-of-hours cases, triage requests and the practice list together and
logs the refresh: docs/adr/0007-analytics-freshness.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from collab.booking import exports as booking_exports
from collab.ooh import exports as ooh_exports
from collab.triage import exports as triage_exports

from .organisations import collab_practices
from .store import RefreshResult, refresh_collab

__all__ = ["RefreshRunning", "refresh_from_collab"]

# One refresh at a time in a process; DuckDB's file lock keeps other processes out.
_RUNNING = threading.Lock()


class RefreshRunning(RuntimeError):
    """Another refresh is writing the store in this process."""


@contextmanager
def _snapshot() -> Iterator[None]:
    """Read everything from one snapshot where the database offers one cheaply.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction (it blocks no writer). SQLite: each
    query reads its own snapshot; a transaction here would take the write lock (collab's SQLite
    transactions are IMMEDIATE) and hold up bookings for the length of the read.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        yield


def refresh_from_collab(
    *, trigger: str = "command", store: str | Path | None = None
) -> RefreshResult:
    """Copy collab's appointments (hub, practice, enhanced access, triage services, out of hours),
    triage requests and practices into the store, replacing what was there: all or nothing.

    Raises RefreshRunning if a refresh is already running in this process, CollabExportError
    (nothing written) if a row is refused, and DuckDB's IOException while another process holds
    the store."""
    if not _RUNNING.acquire(blocking=False):
        raise RefreshRunning("A refresh is already running")
    try:
        with _snapshot():
            data_as_of = timezone.now()
            appointments = [*booking_exports.analytics_rows(), *ooh_exports.analytics_rows()]
            triage_requests = list(triage_exports.analytics_rows())
            practices = collab_practices()
        return refresh_collab(
            appointments=appointments,
            triage_requests=triage_requests,
            practices=practices,
            data_as_of=data_as_of,
            trigger=trigger,
            store=store,
            started_at=data_as_of,
        )
    finally:
        _RUNNING.release()
