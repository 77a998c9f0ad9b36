"""`collab cis2_administrators [--grant USER | --revoke USER]`: who may link CIS2 identities to accounts.

The permission is given from the server's command line, by whoever runs the deployment, because no
page administers accounts; each change is audited (channel "cli").
"""

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from collab.accounts.models import User
from collab.core.audit import audit_record, cli_actor


class Command(BaseCommand):
    help = "List, grant or revoke the permission to link NHS CIS2 identities to accounts."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--grant", metavar="USERNAME")
        which.add_argument("--revoke", metavar="USERNAME")

    def handle(self, *args, grant: str | None, revoke: str | None, **options):
        permission = Permission.objects.get(codename="link_cis2_identity", content_type__app_label="accounts")
        username = grant or revoke
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {username!r}")
            actor = cli_actor()
            with transaction.atomic():
                if grant:
                    user.user_permissions.add(permission)
                else:
                    user.user_permissions.remove(permission)
                audit_record(actor=actor, action="cis2_identity.administrator", allowed=True,
                             reason=f"{'granted to' if grant else 'revoked from'} {user.username}",
                             object_type="user", object_id=user.pk)
            self.stdout.write(f"{'Granted to' if grant else 'Revoked from'} {user.username}")
        holders = User.objects.filter(Q(user_permissions=permission) | Q(groups__permissions=permission),
                                      is_active=True).distinct().order_by("username")
        for user in holders:
            self.stdout.write(f"{user.username}\t{user.get_full_name()}")
