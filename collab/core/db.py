"""Database helpers for the few hot paths that write plain SQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def hot_path_cursor() -> Iterator:
    """A cursor for a hot path's plain SQL.

    On PostgreSQL: psycopg's own cursor, which binds parameters on the server, so psycopg prepares
    a statement after a few runs and PostgreSQL plans it once per connection instead of on every
    request (Django's default client-side binding re-sends and re-plans the SQL each time).
    Elsewhere: Django's cursor. Either way it runs on Django's connection, in its transaction.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    # As Django's own cursor() does: with CONN_HEALTH_CHECKS, a connection the database dropped
    # since the last request is replaced before use rather than failing this request.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor
