"""A real collab server (granian, several workers) on its own database, seeded with the demo.

These tests talk to it over HTTP (and Debian's chromium through Playwright), as users would.
The database is created fresh for the session: a SQLite file, or a new PostgreSQL database
when DATABASE_URL points at PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


class ServerDatabase:
    """Where the server's data lives, and a way to query it directly from the test."""

    def __init__(self, env: dict, sqlite_path: Path | None, pg_url: str | None):
        self.env, self.sqlite_path, self.pg_url = env, sqlite_path, pg_url

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.pg_url:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        import sqlite3

        conn = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def collab(self, *args: str) -> str:
        out = subprocess.run([str(BIN / "collab"), *args], env=self.env, check=True, capture_output=True, text=True)
        return out.stdout


def make_server_database(tmp_dir: Path) -> ServerDatabase:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["COLLAB_ENV"] = "local"
    env["COLLAB_DEBUG"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    env["COLLAB_ANALYTICS_DB"] = str(tmp_dir / "analytics.duckdb")
    env["COLLAB_TRIAGE_ALWAYS_OPEN"] = "1"  # the online form's hours are tested in-process
    url = os.environ.get("DATABASE_URL", "")
    pg_url = None
    sqlite_path = None
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"collab_sys_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_pg_admin_url(url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        pg_url = url.rsplit("/", 1)[0] + "/" + name
        env["DATABASE_URL"] = pg_url
    else:
        env.pop("DATABASE_URL", None)
        sqlite_path = tmp_dir / "server.sqlite3"
        env["COLLAB_SQLITE_PATH"] = str(sqlite_path)
    subprocess.run([str(BIN / "collab"), "demo", "--no-serve"], env=env, check=True, capture_output=True)
    return ServerDatabase(env, sqlite_path, pg_url)


def drop_server_database(db: ServerDatabase) -> None:
    if db.pg_url:
        import psycopg

        name = db.pg_url.rsplit("/", 1)[1]
        with psycopg.connect(_pg_admin_url(db.pg_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    def __init__(self, db: ServerDatabase, workers: int = 2, extra_args: tuple[str, ...] = ()):
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--blocking-threads", "4", "--no-ws", "--log-level", "warning",
             *self.extra_args, "collab.config.wsgi:application"],
            env=self.db.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("collab server exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                if httpx.get(self.url + "/health/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("collab server did not start within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def token(self, username: str, *extra: str) -> str:
        return self.db.collab("token", username, *extra).strip()


@pytest.fixture(scope="session")
def server_db(tmp_path_factory):
    db = make_server_database(tmp_path_factory.mktemp("server"))
    yield db
    drop_server_database(db)


@pytest.fixture(scope="session")
def server(server_db):
    s = Server(server_db)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is required: make test installs it (scripts/ensure-debian-package)"
    pw = sync_playwright().start()
    b = pw.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"],
    )
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url)
    p = context.new_page()
    p.set_default_timeout(15_000)
    yield p
    context.close()
