"""`collab import-agp FILE...`: import NHS England AGP files into the analytics store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from collab.analytics.agp import AgpImportError
from collab.analytics.organisations import sync_organisations
from collab.analytics.store import SHIPPED_AGP_FILES, default_store_path, import_agp_files


class Command(BaseCommand):
    help = (
        "Import Appointments in General Practice CSV files (practice-level crosstab, sub-ICB "
        "monthly, daily duration, daily national categories). All files are kept or none; "
        "re-importing a month replaces it for the sub-ICBs in the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", metavar="FILE")
        parser.add_argument(
            "--shipped",
            action="store_true",
            help="import the AGP files shipped with collab (18C history, for the demo)",
        )
        parser.add_argument("--store", help="analytics DuckDB file (default: COLLAB_ANALYTICS_DB)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, files, store=None, no_progress=False, shipped=False, **options):
        store = store or default_store_path()
        if shipped:
            files = [*files, *map(str, SHIPPED_AGP_FILES)]
        if not files:
            raise CommandError("name at least one AGP file, or use --shipped")
        console = Console(file=self.stderr._out, force_terminal=False)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            disable=no_progress,
        )
        with progress:
            task = progress.add_task("importing", total=len(files) * 2)

            def report(stage: str, done: int, total: int) -> None:
                progress.update(task, description=stage, completed=done, total=total)

            try:
                results = import_agp_files(files, store=store, progress=report)
            except AgpImportError as exc:
                raise CommandError(f"refused, nothing imported: {exc}") from exc
        practices = sync_organisations(store=store)
        for r in results:
            months = f"{min(r.months):%b %Y} to {max(r.months):%b %Y}"
            self.stdout.write(
                f"{r.file_name}: {r.kind}, {r.rows:,} rows, {r.appointments:,} appointments, "
                f"{months}, sub-ICB {', '.join(r.sub_icb_codes)}, {r.rows_per_second:,.0f} rows/s"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(results)} file(s) into {store}; {practices} practices joined"
            )
        )
