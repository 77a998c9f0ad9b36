"""England and Wales bank holidays for 2025 to 2027, as GOV.UK publishes them
(https://www.gov.uk/bank-holidays.json), so the clocks and routing know them from the first
deploy. Later years come from ``collab import-bank-holidays``. The dates are written out here,
not imported from app code, so this migration means the same thing forever."""

import datetime as dt

from django.db import migrations

DIVISION = "england-and-wales"
SEED = [
    ("2025-01-01", "New Year’s Day"), ("2025-04-18", "Good Friday"), ("2025-04-21", "Easter Monday"),
    ("2025-05-05", "Early May bank holiday"), ("2025-05-26", "Spring bank holiday"),
    ("2025-08-25", "Summer bank holiday"), ("2025-12-25", "Christmas Day"), ("2025-12-26", "Boxing Day"),
    ("2026-01-01", "New Year’s Day"), ("2026-04-03", "Good Friday"), ("2026-04-06", "Easter Monday"),
    ("2026-05-04", "Early May bank holiday"), ("2026-05-25", "Spring bank holiday"),
    ("2026-08-31", "Summer bank holiday"), ("2026-12-25", "Christmas Day"), ("2026-12-28", "Boxing Day"),
    ("2027-01-01", "New Year’s Day"), ("2027-03-26", "Good Friday"), ("2027-03-29", "Easter Monday"),
    ("2027-05-03", "Early May bank holiday"), ("2027-05-31", "Spring bank holiday"),
    ("2027-08-30", "Summer bank holiday"), ("2027-12-27", "Christmas Day"), ("2027-12-28", "Boxing Day"),
]


def seed(apps, schema_editor):
    BankHoliday = apps.get_model("triage", "BankHoliday")
    for day, title in SEED:
        BankHoliday.objects.update_or_create(date=dt.date.fromisoformat(day),
                                             defaults={"title": title, "division": DIVISION})


def unseed(apps, schema_editor):
    BankHoliday = apps.get_model("triage", "BankHoliday")
    BankHoliday.objects.filter(date__in=[dt.date.fromisoformat(d) for d, _ in SEED]).delete()


class Migration(migrations.Migration):
    dependencies = [("triage", "0002_bank_holiday")]

    operations = [migrations.RunPython(seed, unseed)]
