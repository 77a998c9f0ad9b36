"""`collab demo`: migrate, seed the Herefordshire demo (once), and serve it."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand
from rich.console import Console

from collab.nonprod.personas import COLLABORATIVE_ODS, PERSONAS
from collab.nonprod.seed import seed_demo
from collab.organisations.models import Organisation


class Command(BaseCommand):
    help = "Set up the demo database (Herefordshire collaborative, synthetic patients and hub activity) and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="Seed only; do not start the server")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Address to serve on (default 127.0.0.1:8000)")

    def handle(self, *args, no_serve: bool, addr: str, **options):
        console = Console(stderr=True)
        call_command("migrate", interactive=False, verbosity=0)
        if Organisation.objects.filter(ods_code=COLLABORATIVE_ODS).exists():
            console.print("Demo data already present: keeping it (delete var/collab.sqlite3 to start again).")
        else:
            with console.status("Seeding the demo") as status:
                figures = seed_demo(progress=lambda m: status.update(f"Seeding the demo: {m}"))
            console.print(
                f"Seeded {figures['practices']} practices in {figures['pcns']} PCNs, {figures['patients']} patients, "
                f"{figures['hub_clinicians']} hub clinicians, {figures['slots']} hub slots and "
                f"{figures['appointments']} appointments over {figures['days']} weekdays "
                f"(about {figures['appointments'] // max(figures['days'], 1)} a day)."
            )
            with console.status("Loading NHS England's 18C appointment history and collab's own appointments into analytics"):
                call_command("import_agp", shipped=True, no_progress=True, verbosity=0)
                call_command("export_analytics", verbosity=0)
        console.print("Demo personas (sign in with one click at /demo/):")
        for p in PERSONAS:
            console.print(f"  {p.username:18} {p.role:22} {p.ods}")
        if no_serve:
            return
        console.print(f"collab is running at http://{addr}/  (Ctrl+C to stop)")
        call_command("runserver", addr, use_reloader=False)
