"""`collab export-analytics`: refresh collab's own rows in the analytics store."""

from __future__ import annotations

import duckdb
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from collab.analytics.refresh import RefreshRunning, refresh_from_collab
from collab.analytics.store import CollabExportError, default_store_path


class Command(BaseCommand):
    help = (
        "Replace collab's own rows in the analytics store (appointments, out-of-hours cases, "
        "triage requests, practices) with those held now, in one transaction: all or nothing. "
        "Idempotent and cheap: run it as often as you like, for example every 10 minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", help="analytics DuckDB file (default: COLLAB_ANALYTICS_DB)")

    def handle(self, *args, store=None, **options):
        store = store or default_store_path()
        try:
            result = refresh_from_collab(trigger="command", store=store)
        except CollabExportError as exc:
            raise CommandError(f"refused, nothing exported: {exc}") from exc
        except (RefreshRunning, duckdb.IOException, duckdb.ConnectionException) as exc:
            raise CommandError(
                f"the analytics store is busy (another import or export is writing it), nothing "
                f"exported; try again in a minute: {exc}"
            ) from exc
        as_of = timezone.localtime(result.data_as_of)
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {result.appointments} appointments, {result.triage_requests} triage "
                f"requests and {result.practices} practices to {store} in "
                f"{result.seconds:.2f} s (collab data as of {as_of:%Y-%m-%d %H:%M:%S})"
            )
        )
