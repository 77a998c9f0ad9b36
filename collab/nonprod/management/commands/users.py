"""`collab users`: the demo personas, one per line: username, role, organisation ODS code (tab-separated)."""

from django.core.management.base import BaseCommand

from collab.accounts.models import RoleAssignment


class Command(BaseCommand):
    help = "List the demo personas: username<TAB>role<TAB>organisation ODS code."

    def handle(self, *args, **options):
        rows = (
            RoleAssignment.objects.filter(user__is_demo_persona=True, is_active=True)
            .select_related("user", "organisation")
            .order_by("user__username", "organisation__ods_code")
        )
        for a in rows:
            self.stdout.write(f"{a.user.username}\t{a.role}\t{a.organisation.ods_code}")
