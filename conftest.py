"""Shared test set-up: the PostgreSQL-only split and factories."""

from __future__ import annotations

import os

import pytest


def database_is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config, items):
    # Tests marked `postgres` need PostgreSQL-only features: they run in CI's PostgreSQL pass,
    # which sets DATABASE_URL. This is the designed split, not a missing dependency.
    if database_is_postgres():
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only: runs in the DATABASE_URL=postgres:// pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


def pytest_configure(config):
    import logging

    # httpx logs every request URL at INFO; keep test output readable.
    logging.getLogger("httpx").setLevel(logging.WARNING)
