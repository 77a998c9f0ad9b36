"""Run the benchmarks, write bench/results.json (figures, date, commit, machine) and print a table."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import REGISTRY

RESULTS = Path(__file__).resolve().parent / "results.json"


def machine() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "system": platform.platform()}


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=RESULTS.parent).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                               cwd=RESULTS.parent).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _flat(figures: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += _flat(value, name + ".")
        elif not isinstance(value, list):
            rows.append((name, value))
    return rows


def print_table(console: Console, name: str, figures: dict) -> None:
    table = Table(title=f"bench: {name}", show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in _flat(figures.get("summary", figures)):
        table.add_row(key, f"{value:,.2f}" if isinstance(value, float) else str(value))
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(REGISTRY), help="Run one benchmark")
    parser.add_argument("--quick", action="store_true", help="Shorter runs (figures are rougher)")
    args = parser.parse_args(argv)
    console = Console()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("benchmarks", {})
    names = [args.only] if args.only else list(REGISTRY)
    ran = 0
    for name in names:
        module_name, _, function = REGISTRY[name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name != module_name:
                raise
            console.print(f"[yellow]bench {name}: skipped, {module_name} is not here yet[/yellow]")
            continue
        run = getattr(module, function or "run")
        console.print(f"[bold]bench {name}[/bold]: running{' (quick)' if args.quick else ''}...")
        started = time.monotonic()
        figures = run(quick=args.quick)
        results["benchmarks"][name] = {
            "figures": figures,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": commit(),
            "machine": machine(),
            "seconds": round(time.monotonic() - started, 1),
        }
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2, default=str) + "\n")
        tmp.replace(RESULTS)
        print_table(console, name, figures)
        ran += 1
    console.print(f"Wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0 if ran or not names else 1


if __name__ == "__main__":
    sys.exit(main())
