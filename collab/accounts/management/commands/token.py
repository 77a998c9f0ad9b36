"""`collab token USERNAME`: print a bearer token acting with that user's rights."""

from django.core.management.base import BaseCommand, CommandError

from collab.accounts.models import User
from collab.accounts.services import active_assignments, api_token_create


class Command(BaseCommand):
    help = "Print an API bearer token for a user (in their only role, or the one chosen with --ods/--role)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--ods", help="Organisation to act at, when the user has roles at several")
        parser.add_argument("--role", help="Role to act in, when the user has several")

    def handle(self, *args, username: str, ods: str | None, role: str | None, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}. `collab users` lists the demo personas.")
        assignments = [a for a in active_assignments(user)
                       if (ods is None or a.organisation.ods_code == ods.upper()) and (role is None or a.role == role)]
        if not assignments:
            raise CommandError(f"{username} has no matching role, so a token would give no access.")
        if len(assignments) > 1:
            choices = ", ".join(f"--ods {a.organisation.ods_code} --role {a.role}" for a in assignments)
            raise CommandError(f"{username} has several roles; choose one: {choices}")
        self.stdout.write(api_token_create(assignment=assignments[0]))
