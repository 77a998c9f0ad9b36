"""`collab import-bank-holidays FILE`: England and Wales bank holidays from GOV.UK's bank-holidays.json."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from collab.core.audit import cli_actor
from collab.triage.bank_holidays import DIVISION, BankHolidayImportError, bank_holidays_import, read


class Command(BaseCommand):
    help = (
        "Import bank holidays from a copy of https://www.gov.uk/bank-holidays.json (England and Wales only). "
        "The file is checked whole first: any fault refuses it and nothing is written. Between the file's first "
        "and last date the stored holidays become exactly the file's. Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, file: str, **options):
        try:
            holidays = read(file)
        except BankHolidayImportError as exc:
            raise CommandError(f"refused, nothing imported: {exc}") from exc
        actor = cli_actor()
        r = bank_holidays_import(holidays=holidays, actor=actor, source=str(file)[:100])
        self.stdout.write(f"{DIVISION}: {r.holidays} bank holidays, {r.first:%d %b %Y} to {r.last:%d %b %Y}")
        self.stdout.write(self.style.SUCCESS(
            f"Imported {r.holidays} bank holidays: {r.added} added, {r.updated} updated, {r.removed} removed"))
        for gone in r.removed_holidays:
            self.stdout.write(f"Removed (not in the file): {gone}")
