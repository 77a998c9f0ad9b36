"""`collab referrer_token ODS`: print a new bearer token for a referring service (NHS 111, A&E)."""

from django.core.management.base import BaseCommand, CommandError

from collab.triage.models import ReferringService
from collab.triage.services import referrer_token_create


class Command(BaseCommand):
    help = "Print a new intake API token for a referring service; the previous token stops working."

    def add_arguments(self, parser):
        parser.add_argument("ods", help="The referring service's ODS code, for example RYA")

    def handle(self, *args, ods: str, **options):
        referrer = ReferringService.objects.filter(ods_code=ods.strip().upper(), is_active=True).first()
        if referrer is None:
            known = ", ".join(ReferringService.objects.values_list("ods_code", flat=True)) or "none"
            raise CommandError(f"No active referring service {ods!r} (known: {known}).")
        self.stdout.write(referrer_token_create(referrer=referrer))
