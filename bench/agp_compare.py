"""The AGP importer of this tree against the importer of another git revision, alternating in one
process with DuckDB's unchecked load (the floor), on a generated national month.

    python -m bench.agp_compare [--against main] [--rows 1200000] [--repeat 7] [--cold 6]

Prints median rows/s, wall and CPU seconds for each, then (with ``--cold``) the same import in
fresh interpreters, alternating. Both importers read the same file into fresh stores; the
other revision's ``collab/analytics/agp.py`` and ``store.py`` are loaded from git as a package
of their own, so nothing else of it is needed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.analytics import _cpu, _floor_load, generate_national_month  # noqa: E402
from collab.analytics.store import import_agp_files  # noqa: E402


def _other_revision(revision: str, into: Path) -> Path:
    """The revision's importer as package ``agp_<hash>`` under ``into``; returns ``into``."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", revision],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()
    package = into / f"agp_{sha}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("agp.py", "store.py"):
        text = subprocess.run(
            ["git", "show", f"{sha}:collab/analytics/{name}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        (package / name).write_text(text)
    return package


def _median_row(name: str, n: int, runs: list[tuple[float, float]]) -> str:
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    detail = " ".join(f"{w:.2f}/{c:.2f}" for w, c in runs)
    return (
        f"{name:24} {n / wall:>11,.0f} rows/s  wall {wall:.2f} s  CPU {cpu:.2f} s  "
        f"({n / cpu:,.0f} rows per CPU s); runs wall/CPU {detail}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--rows", type=int, default=1_200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cold", type=int, default=0, help="fresh-interpreter runs of each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collab-agp-compare-") as tmp_name:
        tmp = Path(tmp_name)
        package = _other_revision(args.against, tmp / "other")
        sys.path.insert(0, str(package.parent))
        other = __import__(f"{package.name}.store", fromlist=["import_agp_files"])
        path = tmp / "national_month.csv"
        generate_national_month(path, args.rows)
        ours = f"this tree ({ROOT.name})"
        theirs = f"{args.against} ({package.name[4:]})"
        runs: dict[str, Callable[[Path], object]] = {
            theirs: lambda store: other.import_agp_files([path], store=store),
            ours: lambda store: import_agp_files([path], store=store),
            "floor (DuckDB, unchecked)": lambda store: _floor_load(path, store),
        }
        import_agp_files([path], store=tmp / "warm.duckdb")
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for i in range(args.repeat):
            for name in list(runs) if i % 2 == 0 else list(reversed(runs)):
                store = tmp / "store.duckdb"
                start, cpu = time.perf_counter(), _cpu()
                runs[name](store)
                times[name].append((time.perf_counter() - start, _cpu() - cpu))
                store.unlink()
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        for name, measured in times.items():
            print(_median_row(name, args.rows, measured))
        if not args.cold:
            return
        code = (
            "import sys; sys.path[:0] = sys.argv[1:3]; "
            "store = __import__(sys.argv[3], fromlist=['import_agp_files']); "
            "store.import_agp_files([sys.argv[4]], store=sys.argv[5])"
        )
        modules = {theirs: f"{package.name}.store", ours: "collab.analytics.store"}
        cold: dict[str, list[tuple[float, float]]] = {name: [] for name in modules}
        for i in range(args.cold):
            for name in list(modules) if i % 2 == 0 else list(reversed(modules)):
                store = tmp / "cold.duckdb"
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", code, str(ROOT), str(package.parent), modules[name]]
                    + [str(path), str(store)],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                cold[name].append((time.perf_counter() - start, cpu))
                store.unlink()
        print("fresh interpreter:")
        for name, measured in cold.items():
            print(_median_row(name, args.rows, measured))


if __name__ == "__main__":
    main()
