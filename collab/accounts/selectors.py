"""Reads about accounts: who has which CIS2 identity linked."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from collab.accounts.models import Cis2Identity, RoleAssignment, User

LINKS_CSV_HEADER = ["username", "name", "cis2_uuid", "linked_at", "linked_by", "roles"]


def users_for_cis2_linking(*, search: str = "", limit: int = 200) -> list[User]:
    """Active accounts with their CIS2 link (if any) and roles, by surname; ``search`` matches names,
    username or a whole CIS2 UUID."""
    users = (
        User.objects.filter(is_active=True)
        .select_related("cis2_identity", "cis2_identity__linked_by")
        .prefetch_related(Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.filter(is_active=True).select_related("organisation", "service"),
        ))
        .order_by("last_name", "first_name", "username")
    )
    search = search.strip()
    if search:
        users = users.filter(Q(username__icontains=search) | Q(first_name__icontains=search)
                             | Q(last_name__icontains=search) | Q(cis2_identity__sub="".join(search.split())))
    return list(users[:limit])


def cis2_links() -> QuerySet[Cis2Identity]:
    return Cis2Identity.objects.select_related("user", "linked_by").order_by("user__last_name", "user__username")


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: names come from people.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def cis2_links_csv_rows(links) -> list[list[str]]:
    rows = []
    for link in links:
        roles = "; ".join(f"{a.get_role_display()} at {a.organisation.display_name}"
                          for a in link.user.role_assignments.all() if a.is_active)
        linked_by = link.linked_by.username if link.linked_by_id else ""
        rows.append([_cell(link.user.username), _cell(link.user.get_full_name()), link.sub,
                     link.linked_at.isoformat(), _cell(linked_by), _cell(roles)])
    return rows
