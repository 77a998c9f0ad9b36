"""The 8am rush: a production-like collab under booking load, against the raw database floor.

Stack: granian (WSGI, several workers, keep-alive) with COLLAB_ENV=production on a fresh
PostgreSQL database seeded with a large network (`collab seed-network`: 80 practices, 200 hub
clinicians, days of 5-minute slots). Load: wrk (C, LuaJIT; bench/rush.lua) in separate processes,
so the generator takes little CPU from the server; its CPU share is reported.

Phases
- book@16, book@64: booking only. Each client group books the next earliest slot in its lane and
  every RACE_EVERY-th request goes for the slot another group has just gone for (a 409 for one).
- mixed@64: slot search, booking and patient view at once (connections split 70/20/10).
- floor@16, floor@64: the same booking transaction, as the very statements the stack sends
  (collab/booking/sql.py: the patient look-up, then one statement claiming the slot and writing
  the appointment, usage and audit rows; a refusal read and audited), sent straight through
  psycopg (prepared, as the stack's are) by as many clients: what PostgreSQL alone allows here.

floor_ratio = stack bookings/s / floor bookings/s at the same number of clients.
Afterwards the database is checked for double bookings and for slots whose status disagrees
with their appointments (both must be 0).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# 2 processes x 4 threads measured best on 2 cores once a booking cost about 0.7 ms of server CPU
# (bench/RESULTS.md, "Server settings compared", alternated runs); 4 x 2 was best at 1.1 ms.
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
BLOCKING_THREADS = int(os.environ.get("BENCH_BLOCKING_THREADS", "4"))
GRANIAN_ARGS = os.environ.get("BENCH_GRANIAN_ARGS", "").split()  # e.g. "--runtime-mode st" to compare
RACE_EVERY = 10
# Past days of completed appointments (with usage and audit rows) before the rush: the tables a
# booking writes are never empty in a live hub, and a foreign-key check planned on an empty table
# scans it in full for as long as the connection lives (ADR 0006, decision 9).
HISTORY_DAYS = int(os.environ.get("BENCH_HISTORY_DAYS", "2"))
TARGETS = {
    "bookings_per_s_at_64": 1000,
    "p99_ms_at_64": 100,
    "p99_ms_at_16": 30,
    "floor_ratio_at_64": 0.25,
}


# ---------------------------------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


def _host_speed_ms() -> float:
    """CPU milliseconds a fixed pure-Python loop takes (median of 5): this virtual machine's speed
    moves by a quarter within minutes, so runs are compared with it beside them."""
    times = []
    for _ in range(5):
        t0, total = time.process_time(), 0
        for i in range(1_000_000):
            total += i * i
        times.append(time.process_time() - t0)
    return round(statistics.median(times) * 1000, 1)


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class MemorySampler(threading.Thread):
    """Peak resident memory of the server's process tree, sampled every 200 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.stop_event = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.2):
            self.peak_mb = max(self.peak_mb, _rss_mb(_tree(self.pid)))


# ---------------------------------------------------------------------------------------- the stack


class Stack:
    def __init__(self, work: Path, *, days: int):
        self.work = work
        self.db_name = f"collab_rush_{uuid.uuid4().hex[:8]}"
        self.db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.db_name
        self.days = days
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COLLAB_"))}
        base["DATABASE_URL"] = self.db_url
        base["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), base.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.seed_env = {**base, "COLLAB_ENV": "local"}
        self.env = {
            **base,
            "COLLAB_ENV": "production",
            "COLLAB_SECRET_KEY": secrets.token_urlsafe(50),
            "COLLAB_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The seeded patients have test-range (999) NHS numbers.
            "COLLAB_ALLOW_TEST_NHS_NUMBERS": "1",
            "COLLAB_LOG_LEVEL": "WARNING",
        }

    def create(self) -> dict:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        out = self.work / "network.json"
        subprocess.run([str(BIN / "collab"), "seed-network", "--days", str(self.days),
                        "--history-days", str(HISTORY_DAYS), "--out", str(out)],
                       env=self.seed_env, check=True, capture_output=True)
        network = json.loads(out.read_text())
        (self.work / "tokens.txt").write_text("\n".join(network["tokens"]) + "\n")
        (self.work / "patients.txt").write_text("".join(f"{n} {i}\n" for n, i in network["patient_practice"]))
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        return network

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(WORKERS), "--blocking-threads", str(BLOCKING_THREADS), "--backlog", "2048",
             "--no-ws", "--log-level", "warning", *GRANIAN_ARGS, "collab.config.wsgi:application"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=HERE.parent,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                r = httpx.get(self.url + "/health/", headers={"X-Forwarded-Proto": "https"}, timeout=1)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def free_slots(self, n: int) -> list[int]:
        """The earliest ``n`` free slots: what earlier phases booked is no longer free."""
        return [r[0] for r in self.query(
            "SELECT id FROM booking_slot WHERE status = 'free' AND starts_at > now() "
            "ORDER BY starts_at, id LIMIT %s", (n,))]


# ---------------------------------------------------------------------------------------- wrk phases


def _wrk(stack: Stack, work: Path, *, op: str, clients: int, threads: int, seconds: float) -> subprocess.Popen:
    first_day = dt.date.today() + dt.timedelta(days=1)
    return subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s", "--latency",
         "-s", str(HERE / "rush.lua"), stack.url, "--", op, str(work), str(threads), str(RACE_EVERY),
         first_day.isoformat(), (first_day + dt.timedelta(days=1)).isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _parse(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    line = next((x for x in out.splitlines() if x.startswith("JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err[-1000:]} {out[-1000:]}")
    return json.loads(line[5:])


def _figures(r: dict) -> dict:
    seconds = r["duration_us"] / 1e6
    statuses = {int(k): v for k, v in r["statuses"].items()}
    ok = {"book": (201, 409), "search": (200,), "view": (200,)}[r["op"]]
    errors = sum(v for k, v in statuses.items() if k not in ok) + r["socket_errors"] + r["timeouts"]
    out = {
        "requests": r["requests"],
        "requests_per_s": round(r["requests"] / seconds, 1),
        "p50_ms": round(r["p50_ms"], 2), "p95_ms": round(r["p95_ms"], 2), "p99_ms": round(r["p99_ms"], 2),
        "max_ms": round(r["max_ms"], 2),
        "errors": errors,
        "statuses": statuses,
    }
    if r["op"] == "book":
        out["bookings"] = statuses.get(201, 0)
        out["bookings_per_s"] = round(statuses.get(201, 0) / seconds, 1)
        out["conflicts_409"] = statuses.get(409, 0)
    return out


class PostgresCpu:
    """CPU seconds used by the PostgreSQL backends serving the benchmark's database."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.start = self._per_pid()

    def _per_pid(self) -> dict[int, float]:
        pids = [r[0] for r in self.stack.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        return {p: _cpu_seconds([p]) for p in pids}

    def used(self) -> float:
        end = self._per_pid()
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in end.items())


class Phase:
    """Measures CPU of the server tree, PostgreSQL, the generator and the machine around a phase."""

    def __init__(self, stack: Stack):
        self.stack = stack

    def __enter__(self):
        self.pids = _tree(self.stack.proc.pid)
        self.server_cpu = _cpu_seconds(self.pids)
        self.pg = PostgresCpu(self.stack)
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.busy = _machine_busy()
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0
        cores = os.cpu_count() or 1
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        gen = (after.ru_utime + after.ru_stime) - (self.children.ru_utime + self.children.ru_stime)
        busy = _machine_busy()
        self.server_seconds = _cpu_seconds(_tree(self.stack.proc.pid)) - self.server_cpu
        self.pg_seconds = self.pg.used()
        self.cpu = {
            "generator_cpu_share": round(gen / (self.seconds * cores), 3),
            "server_cpu_share": round(self.server_seconds / (self.seconds * cores), 3),
            "postgres_cpu_share": round(self.pg_seconds / (self.seconds * cores), 3),
            "machine_busy_share": round((busy[0] - self.busy[0]) / max(1, busy[1] - self.busy[1]), 3),
        }


def book_phase(stack: Stack, work: Path, *, clients: int, seconds: float) -> dict:
    slots = stack.free_slots(40_000)
    (work / "slots.txt").write_text("\n".join(map(str, slots)) + "\n")
    threads = 2
    with Phase(stack) as ph:
        result = _figures(_parse(_wrk(stack, work, op="book", clients=clients, threads=threads, seconds=seconds)))
    result.update(ph.cpu, clients=clients, seconds=round(ph.seconds, 1))
    # CPU the server spent per request: a figure that other load on the machine barely moves.
    result["server_cpu_ms_per_request"] = round(ph.server_seconds * 1000 / max(1, result["requests"]), 3)
    result["postgres_cpu_ms_per_request"] = round(ph.pg_seconds * 1000 / max(1, result["requests"]), 3)
    return result


def mixed_phase(stack: Stack, work: Path, *, clients: int, seconds: float) -> dict:
    slots = stack.free_slots(40_000)
    (work / "slots.txt").write_text("\n".join(map(str, slots)) + "\n")
    split = {"search": round(clients * 0.7), "book": round(clients * 0.2)}
    split["view"] = clients - split["search"] - split["book"]
    with Phase(stack) as ph:
        procs = {op: _wrk(stack, work, op=op, clients=c, threads=1, seconds=seconds) for op, c in split.items()}
        results = {op: _figures(_parse(p)) for op, p in procs.items()}
    total = sum(r["requests"] for r in results.values())
    return {
        "clients": clients,
        "connections": split,
        "requests_per_s": round(sum(r["requests_per_s"] for r in results.values()), 1),
        "mix": {op: round(r["requests"] / total, 3) for op, r in results.items()},
        "bookings_per_s": results["book"]["bookings_per_s"],
        "errors": sum(r["errors"] for r in results.values()),
        "operations": results,
        **ph.cpu,
    }


# ---------------------------------------------------------------------------------------- the floor

def _floor_client(args) -> dict:
    """One process of floor clients: ``n`` threads, each with its own connection and lane."""
    db_url, lanes, first_lane, slots, patients, seconds, start_at, n_threads = args
    import psycopg

    from collab.booking.sql import BOOK_IN_ONE_STATEMENT_SQL, PATIENT_FOR_BOOKING_SQL
    from collab.core.sql import AUDIT_INSERT_SQL

    results = []

    def client(lane: int):
        conn = psycopg.connect(db_url, autocommit=True)
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        lat, ok, conflict, errors = [], 0, 0, 0
        k = 0
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        backend_cpu = _cpu_seconds([backend])
        while time.time() < end:
            n = k * lanes + lane
            if k > 0 and k % RACE_EVERY == 0:
                n = (k - 1) * lanes + (lane + 1) % lanes
            k += 1
            slot_id = slots[n % len(slots)]
            nhs = patients[(n * 7919) % len(patients)]
            t0 = time.perf_counter()
            try:
                now = dt.datetime.now(dt.UTC)
                patient_id, practice_id, ods = conn.execute(PATIENT_FOR_BOOKING_SQL, (nhs,)).fetchone()
                booked = conn.execute(BOOK_IN_ONE_STATEMENT_SQL, {
                    "busy": "busy", "free": "free", "booked": "booked", "slot_id": slot_id,
                    "patient_id": patient_id, "practice_id": practice_id, "booked_by_id": 1, "reason": "Rush hour",
                    "now": now, "occurred_at": now, "user_id": 1, "username": "floor", "role": "care_navigator",
                    "organisation_ods": ods, "audit_patient_id": patient_id, "action": "appointment.book",
                    "outcome": "allowed", "audit_reason": "registered practice", "object_type": "appointment",
                    "channel": "api"}).fetchone()
                if booked is None or booked[0] is None:  # refused: the statement returned the slot's state
                    conn.execute(AUDIT_INSERT_SQL, (now, 1, "floor", "care_navigator", ods, patient_id,
                                                    "appointment.book", "refused", "The slot is no longer free",
                                                    "slot", str(slot_id), "api")).fetchone()
                    conflict += 1
                else:
                    ok += 1
            except psycopg.Error:
                errors += 1
            lat.append(time.perf_counter() - t0)
        backend_cpu = _cpu_seconds([backend]) - backend_cpu
        conn.close()
        results.append((lat, ok, conflict, errors, backend_cpu))

    threads = [threading.Thread(target=client, args=(first_lane + i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = [x for r in results for x in r[0]]
    return {"lat": lat, "ok": sum(r[1] for r in results), "conflict": sum(r[2] for r in results),
            "errors": sum(r[3] for r in results), "pg_seconds": sum(r[4] for r in results)}


def floor_phase(stack: Stack, work: Path, *, clients: int, seconds: float) -> dict:
    slots = stack.free_slots(60_000)
    patients = [line.split()[0] for line in (work / "patients.txt").read_text().splitlines()]
    procs = min(4, clients)
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    start_at = time.time() + 1.0
    busy0 = _machine_busy()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with ProcessPoolExecutor(procs) as pool:
        jobs = []
        first = 0
        for n in per:
            jobs.append(pool.submit(_floor_client, (stack.db_url, clients, first, slots, patients, seconds, start_at, n)))
            first += n
        parts = [j.result() for j in jobs]
    pg_seconds = sum(p["pg_seconds"] for p in parts)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_seconds = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    busy1 = _machine_busy()
    lat = sorted(x for p in parts for x in p["lat"])
    ok = sum(p["ok"] for p in parts)

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else 0.0

    return {
        "clients": clients,
        "bookings": ok,
        "bookings_per_s": round(ok / seconds, 1),
        "requests_per_s": round(len(lat) / seconds, 1),
        "conflicts": sum(p["conflict"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else 0.0,
        "client_cpu_ms_per_request": round(client_seconds * 1000 / max(1, len(lat)), 3),
        "postgres_cpu_ms_per_request": round(pg_seconds * 1000 / max(1, len(lat)), 3),
        "machine_busy_share": round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]), 3),
    }


# ---------------------------------------------------------------------------------------- checks


def integrity(stack: Stack) -> dict:
    doubles = stack.query(
        "SELECT COUNT(*) FROM (SELECT slot_id FROM booking_appointment WHERE status <> 'cancelled' "
        "GROUP BY slot_id HAVING COUNT(*) > 1) d")[0][0]
    busy_without = stack.query(
        "SELECT COUNT(*) FROM booking_slot s WHERE s.status = 'busy' AND NOT EXISTS (SELECT 1 FROM booking_appointment a "
        "WHERE a.slot_id = s.id AND a.status <> 'cancelled')")[0][0]
    live_on_free = stack.query(
        "SELECT COUNT(*) FROM booking_appointment a JOIN booking_slot s ON s.id = a.slot_id "
        "WHERE a.status <> 'cancelled' AND s.status = 'free'")[0][0]
    without_usage = stack.query(
        "SELECT COUNT(*) FROM booking_appointment a WHERE NOT EXISTS (SELECT 1 FROM booking_usageentry u "
        "WHERE u.appointment_id = a.id AND u.delta = 1)")[0][0]
    without_audit = stack.query(
        "SELECT COUNT(*) FROM booking_appointment a WHERE a.booked_by_id <> 1 AND NOT EXISTS (SELECT 1 FROM core_auditevent e "
        "WHERE e.action = 'appointment.book' AND e.outcome = 'allowed' AND e.object_type = 'appointment' "
        "AND e.object_id = a.id::text)")[0][0]
    appointments = stack.query("SELECT COUNT(*) FROM booking_appointment")[0][0]
    return {"appointments": appointments, "double_bookings": doubles, "busy_slots_without_appointment": busy_without,
            "live_appointments_on_free_slots": live_on_free, "appointments_without_usage": without_usage,
            "stack_appointments_without_audit": without_audit}


# ---------------------------------------------------------------------------------------- run


def _say(name: str, figures: dict) -> None:
    keep = ("bookings_per_s", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "conflicts_409",
            "generator_cpu_share", "server_cpu_share", "server_cpu_ms_per_request", "postgres_cpu_ms_per_request",
            "client_cpu_ms_per_request", "machine_busy_share")
    print(f"  {name}: " + ", ".join(f"{k}={figures[k]}" for k in keep if k in figures), file=sys.stderr, flush=True)


def run(quick: bool = False) -> dict:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is needed: apt-get install -y wrk")
    seconds = 5 if quick else 10
    work = Path(tempfile.mkdtemp(prefix="collab-rush-"))
    # Other work on the machine skews every figure: wait (BENCH_QUIET_WAIT seconds at most) for
    # it to fall below a quarter of the CPU, and report what it was.
    wait_until = time.monotonic() + float(os.environ.get("BENCH_QUIET_WAIT", "0"))
    while True:
        b0 = _machine_busy()
        time.sleep(2)
        b1 = _machine_busy()
        background = round((b1[0] - b0[0]) / max(1, b1[1] - b0[1]), 3)
        if background < 0.25 or time.monotonic() > wait_until:
            break
    print(f"  background machine busy share before the run: {background}", file=sys.stderr, flush=True)
    speed_before = _host_speed_ms()
    stack = Stack(work, days=2 if quick else 6)
    try:
        network = stack.create()
        pg_settings = dict(stack.query(
            "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'autovacuum', 'synchronous_commit',"
            " 'shared_buffers', 'wal_sync_method', 'commit_delay') ORDER BY name"))
        stack.start()
        sampler = MemorySampler(stack.proc.pid)
        sampler.start()
        book_phase(stack, work, clients=16, seconds=3)  # warm-up: connections, caches
        book16 = book_phase(stack, work, clients=16, seconds=seconds)
        _say("book@16", book16)
        book64 = book_phase(stack, work, clients=64, seconds=seconds)
        _say("book@64", book64)
        mixed = mixed_phase(stack, work, clients=64, seconds=seconds)
        _say("mixed@64", mixed)
        for op, figures in mixed["operations"].items():
            _say(f"  {op}", figures)
        sampler.stop_event.set()
        sampler.join()
        floor16 = floor_phase(stack, work, clients=16, seconds=seconds)
        _say("floor@16", floor16)
        floor64 = floor_phase(stack, work, clients=64, seconds=seconds)
        _say("floor@64", floor64)
        checks = integrity(stack)
        speed_after = _host_speed_ms()
    finally:
        stack.stop()
        stack.drop()
        shutil.rmtree(work, ignore_errors=True)
    ratio16 = round(book16["bookings_per_s"] / floor16["bookings_per_s"], 3) if floor16["bookings_per_s"] else 0.0
    ratio64 = round(book64["bookings_per_s"] / floor64["bookings_per_s"], 3) if floor64["bookings_per_s"] else 0.0
    errors = book16["errors"] + book64["errors"] + mixed["errors"]
    # What the CPU each booking request costs would allow if the benchmark had the machine to
    # itself: a projection, for runs that other work on the machine starved (background share).
    cores = os.cpu_count() or 1
    stack_ms = book64["server_cpu_ms_per_request"] + book64["postgres_cpu_ms_per_request"]
    floor_ms = floor64["client_cpu_ms_per_request"] + floor64["postgres_cpu_ms_per_request"]
    success = book64["bookings"] / max(1, book64["requests"])
    projection = {
        "projected_idle_bookings_per_s_64": round(cores * 1000 / stack_ms * success, 1) if stack_ms else 0.0,
        "projected_idle_floor_ratio_64": round(floor_ms / stack_ms, 3) if stack_ms else 0.0,
    }
    met = {
        "bookings_per_s_at_64": book64["bookings_per_s"] >= TARGETS["bookings_per_s_at_64"],
        "p99_ms_at_64": book64["p99_ms"] < TARGETS["p99_ms_at_64"],
        "p99_ms_at_16": book16["p99_ms"] < TARGETS["p99_ms_at_16"],
        "floor_ratio_at_64": ratio64 >= TARGETS["floor_ratio_at_64"],
        "no_errors": errors == 0,
        "no_double_bookings": checks["double_bookings"] == 0,
    }
    return {
        "summary": {
            "bookings_per_s_16": book16["bookings_per_s"],
            "bookings_per_s_64": book64["bookings_per_s"],
            "book_p50_p95_p99_ms_16": f"{book16['p50_ms']} / {book16['p95_ms']} / {book16['p99_ms']}",
            "book_p50_p95_p99_ms_64": f"{book64['p50_ms']} / {book64['p95_ms']} / {book64['p99_ms']}",
            "floor_bookings_per_s_16": floor16["bookings_per_s"],
            "floor_bookings_per_s_64": floor64["bookings_per_s"],
            "floor_ratio_16": ratio16,
            "floor_ratio_64": ratio64,
            "mixed_requests_per_s": mixed["requests_per_s"],
            "mixed_p99_ms_search_book_view": " / ".join(
                str(mixed["operations"][op]["p99_ms"]) for op in ("search", "book", "view")),
            "errors": errors,
            "double_bookings": checks["double_bookings"],
            "server_peak_rss_mb": round(sampler.peak_mb, 1),
            "server_cpu_ms_per_booking_request_64": book64["server_cpu_ms_per_request"],
            "postgres_cpu_ms_per_booking_request_64": book64["postgres_cpu_ms_per_request"],
            "floor_cpu_ms_per_request_64": round(floor64["client_cpu_ms_per_request"]
                                                 + floor64["postgres_cpu_ms_per_request"], 3),
            **projection,
            "background_busy_share": background,
            "host_speed_ms_before_after": f"{speed_before} / {speed_after}",
            "generator_cpu_share_64": book64["generator_cpu_share"],
            "targets_met": f"{sum(met.values())}/{len(met)}",
        },
        "stack": {"server": "granian wsgi", "workers": WORKERS, "blocking_threads": BLOCKING_THREADS,
                  "granian_args": " ".join(GRANIAN_ARGS),
                  "settings": "COLLAB_ENV=production", "database": "PostgreSQL", "postgresql": pg_settings},
        "network": {k: network[k] for k in ("practices", "clinicians", "patients", "slots", "days", "history_days",
                                            "history_appointments")},
        "race_every": RACE_EVERY,
        "book_16": book16,
        "book_64": book64,
        "mixed_64": mixed,
        "floor_16": floor16,
        "floor_64": floor64,
        "floor_ratio": {"16": ratio16, "64": ratio64},
        "integrity": checks,
        "targets": TARGETS,
        "targets_met": met,
    }
