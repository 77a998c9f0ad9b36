"""The header navigation for the role a user is acting in."""

from __future__ import annotations

from django.urls import reverse

from collab.accounts.models import CLINICAL_ROLES, Role
from collab.accounts.rules import LINK_CIS2_IDENTITY


def navigation_for(acting) -> list[dict]:
    kind = acting.organisation.kind
    role = acting.role
    items = [{"text": "Home", "href": reverse("core:home")}]
    if kind == "practice":
        items += [
            {"text": "Book hub appointment", "href": reverse("booking:slot_search")},
            {"text": "Hub appointments", "href": reverse("booking:practice_appointments")},
            {"text": "Tasks", "href": reverse("booking:practice_tasks")},
            {"text": "Find a patient", "href": reverse("patients:find")},
        ]
        if role == Role.PRACTICE_MANAGER:
            items.append({"text": "Buy hub capacity", "href": reverse("booking:capacity_requests")})
        items += _triage_links(kind, role)
    elif kind == "collaborative" and getattr(acting.service, "kind", "") == "out_of_hours":
        if role in CLINICAL_ROLES:
            items.append({"text": "Out-of-hours cases", "href": reverse("ooh:cases")})
    elif kind == "collaborative":
        if role in CLINICAL_ROLES:
            items.append({"text": "My day list", "href": reverse("booking:day_list")})
        if role == Role.HUB_MANAGER:
            items += [
                {"text": "Capacity requests", "href": reverse("booking:capacity_requests")},
                {"text": "Hub use by practice", "href": reverse("booking:usage")},
                {"text": "Duty doctors", "href": reverse("booking:duty_rota")},
            ]
        if role == Role.PRIVACY_OFFICER:
            items.append({"text": "Record access", "href": reverse("privacy:index")})
        items += _triage_links(kind, role)
        # A permission some people hold whatever their role, not a role's.
        if acting.user.has_perm(LINK_CIS2_IDENTITY):
            items.append({"text": "CIS2 identities", "href": reverse("accounts:cis2_links")})
    if role in (Role.ANALYST, Role.HUB_MANAGER, Role.PRACTICE_MANAGER):
        items.append({"text": "Analytics", "href": reverse("analytics:index")})
    return items


def _triage_links(kind: str, role: str) -> list[dict]:
    links = []
    if role in CLINICAL_ROLES or role in (Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER, Role.HUB_MANAGER):
        links.append({"text": "Triage queue", "href": reverse("triage:queue")})
    if kind == "practice" and (role in CLINICAL_ROLES or role == Role.CARE_NAVIGATOR):
        links.append({"text": "Take a request", "href": reverse("triage:request_new")})
    if kind == "practice" and role == Role.PRACTICE_MANAGER:
        links.append({"text": "Online request caps", "href": reverse("triage:capacity")})
    if kind == "collaborative" and role == Role.HUB_MANAGER:
        links.append({"text": "Routing rules", "href": reverse("triage:rules")})
    if kind == "collaborative" and role in (Role.HUB_MANAGER, Role.ANALYST):
        links.append({"text": "Triage figures", "href": reverse("triage:figures")})
    return links
