"""`collab patients ODS`: a practice's demo patients (NHS number, name), tab-separated."""

from django.core.management.base import BaseCommand, CommandError

from collab.organisations.models import Organisation
from collab.patients.models import Patient


class Command(BaseCommand):
    help = "List a practice's demo patients: NHS number<TAB>name."

    def add_arguments(self, parser):
        parser.add_argument("ods", help="The practice's ODS code, for example M81026")

    def handle(self, *args, ods: str, **options):
        practice = Organisation.objects.filter(ods_code=ods.strip().upper(), kind="practice").first()
        if practice is None:
            raise CommandError(f"No practice with ODS code {ods!r}. `collab users` shows the demo organisations.")
        for p in Patient.objects.filter(registered_practice=practice).order_by("family_name", "given_name", "id"):
            self.stdout.write(f"{p.nhs_number}\t{p.given_name} {p.family_name}")
