"""Crash safety: bookings under load while a worker, then the whole server, then (PostgreSQL) every
database connection is killed. Nothing that was confirmed is lost; nothing refused is kept.

Each slot is tried exactly once, so each answer says what the database must hold:
- 201: the appointment is there, complete (slot busy, usage +1, allowed audit row);
- any other HTTP status: no appointment on that slot at all;
- no answer (connection refused or cut): the client cannot know; whatever is there is complete.
Afterwards: no slot has two live appointments, no slot's status disagrees with its appointments,
and no appointment lacks its usage or audit row (nothing half written).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from collab.api.fhir import NHS_NUMBER_SYSTEM
from tests.system.conftest import Server

pytestmark = pytest.mark.server

CLIENTS = 8
PAUSE = 0.1  # between a client's bookings: about 80 a second in all, so the slots last the whole test
NO_ANSWER = -1


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _kill_tree(pid: int) -> None:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    for p in seen:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Load:
    """CLIENTS threads booking one slot each, in turn, until stopped; every answer is recorded."""

    def __init__(self, url: str, token: str, slots: list[int], patients: list[str]):
        self.url, self.token, self.patients = url, token, patients
        self.queue = list(reversed(slots))
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.outcomes: dict[int, tuple[int, str]] = {}  # slot id -> (status or NO_ANSWER, appointment id)
        self.threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(CLIENTS)]

    def _client(self, i: int) -> None:
        with httpx.Client(timeout=15) as client:
            while not self.stop.is_set():
                with self.lock:
                    if not self.queue:
                        return
                    slot = self.queue.pop()
                body = {"resourceType": "Appointment", "status": "booked", "description": "Crash test",
                        "slot": [{"reference": f"Slot/{slot}"}],
                        "participant": [{"actor": {"identifier": {
                            "system": NHS_NUMBER_SYSTEM, "value": self.patients[slot % len(self.patients)]}}}]}
                try:
                    r = client.post(f"{self.url}/fhir/Appointment", json=body,
                                    headers={"Authorization": f"Bearer {self.token}"})
                    appointment = r.json().get("id", "") if r.status_code == 201 else ""
                    self.outcomes[slot] = (r.status_code, appointment)
                    time.sleep(PAUSE)
                except httpx.HTTPError:
                    self.outcomes[slot] = (NO_ANSWER, "")
                    time.sleep(0.3)  # the server is down: wait, as a client would

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def count(self, status: int) -> int:
        return sum(1 for s, _ in self.outcomes.values() if s == status)


def _drop_database_connections(db) -> int:
    import psycopg

    name = db.pg_url.rsplit("/", 1)[1]
    with psycopg.connect(db.pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                            "AND pid <> pg_backend_pid()", (name,)).fetchall()
    return len(rows)


def test_no_confirmed_booking_is_lost_when_processes_and_connections_die(server_db):
    db = server_db
    token = db.collab("token", "rachel.reception").strip()
    patients = [line.split("\t")[0] for line in db.collab("patients", "M81026").splitlines()]
    # Free pooled slots far from the ones other tests book (they take the earliest and the latest).
    slots = [r[0] for r in db.query(
        "SELECT id FROM booking_slot WHERE status = 'free' AND reserved_for_id IS NULL AND starts_at > ? "
        "ORDER BY starts_at DESC, id LIMIT 1500 OFFSET 100", (_in_a_day(db),))]
    assert len(slots) >= 600, "the demo has too few free slots for this test"
    crash_server = Server(db, workers=2, extra_args=("--respawn-failed-workers",))
    crash_server.start()
    load = Load(crash_server.url, token, slots, patients)
    try:
        load.start()
        time.sleep(1.5)
        workers = _children(crash_server.proc.pid)
        assert workers, "granian should run worker processes"
        os.kill(workers[0], signal.SIGKILL)  # one worker dies mid-load
        time.sleep(2.0)
        _kill_tree(crash_server.proc.pid)  # then the whole server
        crash_server.proc.wait(timeout=10)
        time.sleep(0.5)
        crash_server.start()  # restart on the same port
        time.sleep(1.5)
        if db.pg_url:
            assert _drop_database_connections(db) >= 1  # every server connection to PostgreSQL is cut
            time.sleep(1.5)
        assert load.queue, "the load ran out of slots before the last crash"
    finally:
        load.finish()
        crash_server.stop()

    created = {slot: appointment for slot, (status, appointment) in load.outcomes.items() if status == 201}
    refused = [slot for slot, (status, _) in load.outcomes.items() if status not in (201, NO_ANSWER)]
    print(f"crash safety: {len(load.outcomes)} attempts, {len(created)} created, {len(refused)} refused, "
          f"{load.count(NO_ANSWER)} unanswered; statuses {sorted({s for s, _ in load.outcomes.values()})}")
    assert len(created) > 50, "too few bookings went through to prove anything"

    tried = list(load.outcomes)
    marks = ",".join("?" for _ in tried)
    live = {slot: str(appointment) for slot, appointment in db.query(
        f"SELECT slot_id, id FROM booking_appointment WHERE status <> 'cancelled' AND slot_id IN ({marks})",  # noqa: S608
        tuple(tried))}
    # Every 201 is in the database, as the appointment the client was told about.
    assert {slot: live.get(slot) for slot in created} == created
    # No refused booking left anything behind.
    assert [slot for slot in refused if slot in live] == []
    _assert_nothing_half_written(db)


def _in_a_day(db):
    import datetime as dt

    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    return soon if db.pg_url else soon.strftime("%Y-%m-%d %H:%M:%S")


def _assert_nothing_half_written(db) -> None:
    one = lambda sql: db.query(sql)[0][0]  # noqa: E731
    assert one("SELECT COUNT(*) FROM (SELECT slot_id FROM booking_appointment WHERE status <> 'cancelled' "
               "GROUP BY slot_id HAVING COUNT(*) > 1) d") == 0, "a slot is double-booked"
    assert one("SELECT COUNT(*) FROM booking_slot s WHERE s.status = 'busy' AND NOT EXISTS (SELECT 1 FROM "
               "booking_appointment a WHERE a.slot_id = s.id AND a.status <> 'cancelled')") == 0, "busy slot, no appointment"
    assert one("SELECT COUNT(*) FROM booking_appointment a JOIN booking_slot s ON s.id = a.slot_id "
               "WHERE a.status <> 'cancelled' AND s.status <> 'busy'") == 0, "live appointment on a free slot"
    assert one("SELECT COUNT(*) FROM booking_appointment a WHERE NOT EXISTS (SELECT 1 FROM booking_usageentry u "
               "WHERE u.appointment_id = a.id AND u.delta = 1)") == 0, "appointment without its usage row"
    assert one("SELECT COUNT(*) FROM booking_appointment a WHERE a.reason = 'Crash test' AND NOT EXISTS (SELECT 1 "
               "FROM core_auditevent e WHERE e.action = 'appointment.book' AND e.outcome = 'allowed' AND "
               "e.object_type = 'appointment' AND e.object_id = CAST(a.id AS TEXT))") == 0, "booking without its audit row"
