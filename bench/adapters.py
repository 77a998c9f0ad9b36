"""Adapters for benchmarks written as standalone scripts, so `python -m bench` runs them too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def triage_earliest_slot(quick: bool = False) -> dict:
    """bench/triage_earliest_slot.py in its own process (it sets up Django and its own database),
    on PostgreSQL, its target."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        env = {**os.environ, "DATABASE_URL": os.environ.get("BENCH_PG_URL",
                                                            "postgres://postgres@127.0.0.1:5432/postgres")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        subprocess.run([sys.executable, "-m", "bench.triage_earliest_slot", "--queries", "300" if quick else "2000",
                        "--json", str(out)], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        figures = json.loads(out.read_text())
    figures.pop("sql_plan", None)
    return figures
