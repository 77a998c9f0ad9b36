"""Benchmarks that print figures: `python -m bench [--only NAME]` (or `make bench [ONLY=NAME]`).

Each benchmark is a module exposing ``run(quick: bool = False) -> dict`` of figures. It measures its
own baseline in the same run, so figures are ratios as well as absolutes; tests never time things.
"""

# name -> module (with run) or "module:function". Imported lazily: a benchmark another branch
# has not landed yet is skipped.
REGISTRY = {
    "rush": "bench.rush",
    "analytics": "bench.analytics",
    "triage_earliest_slot": "bench.adapters:triage_earliest_slot",
}
