"""`collab export-analytics`: copy collab's own appointments into the analytics store."""

from django.core.management.base import BaseCommand

from collab.analytics.store import export_collab_appointments
from collab.booking.exports import analytics_rows


class Command(BaseCommand):
    help = "Replace collab's own appointments in the analytics store with those held now (all-or-nothing)."

    def handle(self, *args, **options):
        written = export_collab_appointments(analytics_rows())
        self.stdout.write(f"Exported {written} appointments to the analytics store")
