"""200 concurrent booking requests at 20 free slots, over HTTP, against a real running server."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
from collections import Counter

import httpx
import pytest

from collab.api.fhir import NHS_NUMBER_SYSTEM

pytestmark = pytest.mark.server


def _free_slots(server, token: str, n: int) -> list[str]:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    end = start + dt.timedelta(days=13)
    r = httpx.get(
        f"{server.url}/fhir/Slot",
        params={"status": "free", "start": "ge" + start.isoformat(timespec="seconds"),
                "end": "le" + end.isoformat(timespec="seconds"), "_count": 500},
        headers={"Authorization": f"Bearer {token}"}, timeout=30,
    )
    assert r.status_code == 200, r.text
    ids = [e["resource"]["id"] for e in r.json()["entry"]]
    assert len(ids) >= n, f"demo has only {len(ids)} free slots in the next fortnight"
    return ids[-n:]  # the latest ones: other tests book the earliest


async def _fire(url: str, token: str, bodies: list[dict]) -> list[int]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        async def one(body):
            r = await client.post(f"{url}/fhir/Appointment", json=body,
                                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
            return r.status_code

        return await asyncio.gather(*(one(b) for b in bodies))


def test_200_concurrent_bookings_for_20_slots_give_exactly_20_created(server):
    token = server.token("rachel.reception")
    patients = [line.split("\t")[0] for line in server.db.collab("patients", "M81026").splitlines()]
    slots = _free_slots(server, token, 20)
    bodies = []
    for i in range(200):
        slot = slots[i % 20]
        bodies.append({
            "resourceType": "Appointment", "status": "booked", "description": "Contention test",
            "slot": [{"reference": f"Slot/{slot}"}],
            "participant": [{"actor": {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": patients[i % len(patients)]}}}],
        })
    # A thread of its own: Playwright's sync API may already run an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        statuses = pool.submit(asyncio.run, _fire(server.url, token, bodies)).result()
    counts = Counter(statuses)
    print(f"contention result: {dict(counts)}")
    assert counts == {201: 20, 409: 180}
    placeholders = ",".join("?" for _ in slots)
    rows = server.db.query(
        f"SELECT slot_id, COUNT(*) FROM booking_appointment WHERE status <> 'cancelled' AND slot_id IN ({placeholders}) "
        "GROUP BY slot_id", tuple(int(s) for s in slots))
    assert sorted(int(r[0]) for r in rows) == sorted(int(s) for s in slots)
    assert all(r[1] == 1 for r in rows)
    busy = server.db.query(f"SELECT COUNT(*) FROM booking_slot WHERE status = 'busy' AND id IN ({placeholders})",
                           tuple(int(s) for s in slots))
    assert busy[0][0] == 20
