"""`collab seed-network`: a large synthetic network for load tests (bench/rush.py)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from rich.console import Console

from collab.nonprod.network import seed_network


class Command(BaseCommand):
    help = "Migrate an empty database and seed a large synthetic network (practices, hub clinicians, days of slots)."

    def add_arguments(self, parser):
        parser.add_argument("--practices", type=int, default=80)
        parser.add_argument("--clinicians", type=int, default=200)
        parser.add_argument("--patients-per-practice", type=int, default=50)
        parser.add_argument("--days", type=int, default=1, help="Days of slots, from tomorrow")
        parser.add_argument("--slot-minutes", type=int, default=5)
        parser.add_argument("--history-days", type=int, default=0,
                            help="Past days before today whose slots hold completed appointments, as in a running hub")
        parser.add_argument("--out", type=Path, help="Write tokens and patients (JSON) here for a load generator")

    def handle(self, *args, practices, clinicians, patients_per_practice, days, slot_minutes, history_days, out,
               **options):
        console = Console(stderr=True)
        call_command("migrate", interactive=False, verbosity=0)
        with console.status("Seeding the load network") as status:
            figures = seed_network(practices=practices, clinicians=clinicians, patients_per_practice=patients_per_practice,
                                   days=days, slot_minutes=slot_minutes, history_days=history_days,
                                   progress=lambda m: status.update(f"Seeding the load network: {m}"))
        if out is not None:
            out.write_text(json.dumps(figures))
            out.chmod(0o600)  # bearer tokens
        console.print(f"Seeded {figures['practices']} practices, {figures['clinicians']} hub clinicians, "
                      f"{figures['patients']} patients and {figures['slots']} slots over {figures['days']} days, "
                      f"after {figures['history_appointments']} appointments in {figures['history_days']} past days.")
