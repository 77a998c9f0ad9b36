"""Database helpers for the few hot paths that write plain SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from django.db import OperationalError, connection


@contextmanager
def hot_path_cursor() -> Iterator:
    """A cursor for a hot path's plain SQL.

    On PostgreSQL: psycopg's own cursor, which binds parameters on the server, so psycopg prepares
    a statement after a few runs (settings: ``prepare_threshold``) and PostgreSQL plans it once per
    connection instead of on every request (Django's default client-side binding re-sends and
    re-plans the SQL each time). Elsewhere: Django's cursor. Either way it runs on Django's
    connection, in its transaction.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    # As Django's own cursor() does: with CONN_HEALTH_CHECKS, a connection the database dropped
    # since the last request is replaced before use rather than failing this request. A no-op
    # once hot_path_read has proved the connection in this request.
    connection.close_if_health_check_failed()
    with _psycopg_cursor() as cursor:
        yield cursor


@contextmanager
def _psycopg_cursor() -> Iterator:
    """psycopg's own cursor on Django's (connected) connection, its errors turned into Django's."""
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def hot_path_read(sql: str, params: Sequence | Mapping) -> tuple | None:
    """The first row of a read-only statement (see hot_path_rows), or None."""
    rows = hot_path_rows(sql, params)
    return rows[0] if rows else None


def hot_path_rows(sql: str, params: Sequence | Mapping) -> list[tuple]:
    """The rows of a read-only statement, which doubles as the request's health check.

    Django's CONN_HEALTH_CHECKS spend a ``SELECT 1`` round trip on the first query of every
    request. A hot path that starts with a read does not need it: the read is sent on the
    connection as it is; if the database dropped that connection since the last request, the read
    fails, the connection is replaced and the read is sent once more (safe: it changes nothing).
    A read that succeeds marks the health check done, so what follows in the request runs without
    one. Inside a transaction nothing is retried: the transaction is lost with its connection.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    retry = not connection.in_atomic_block
    while True:
        try:
            with _psycopg_cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        except OperationalError:
            raw = connection.connection
            if not retry or (raw is not None and not raw.closed and not raw.broken):
                raise
            retry = False
            connection.close()
            continue
        connection.health_check_done = True
        return rows


def db_datetime(value) -> dt.datetime:
    """A datetime column read through a raw cursor: aware on PostgreSQL, UTC text on SQLite."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
