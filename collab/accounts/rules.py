"""Who may open which page: the acting role decides."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.shortcuts import redirect, render

from collab.accounts.models import CLINICAL_ROLES, Role

PRACTICE_STAFF = frozenset(
    {Role.GP, Role.ADVANCED_NURSE_PRACTITIONER, Role.PRACTICE_NURSE, Role.PHYSICIAN_ASSOCIATE,
     Role.CLINICAL_PHARMACIST, Role.CARE_NAVIGATOR, Role.PRACTICE_MANAGER}
)
HUB_CLINICIANS = frozenset(CLINICAL_ROLES)
HUB_STAFF = HUB_CLINICIANS | {Role.HUB_MANAGER}


def is_second_factor_satisfied(request) -> bool:
    user = request.user
    if user.is_verified():
        return True
    # A CIS2 sign-in is multi-factor, at least AAL2: oidc.complete signs nobody in unless the ID token's acr
    # is an accepted AAL2 or AAL3 class (settings.CIS2_SIGN_IN_ACCEPTED_ACR), so no second code is asked for.
    if request.session.get("auth_method") == "cis2":
        return True
    # Demo personas sign in with one click; they exist only outside production.
    return bool(user.is_demo_persona and not settings.PRODUCTION and request.session.get("demo_persona"))


def acting_at_practice(request) -> bool:
    return request.acting is not None and request.acting.organisation.kind == "practice"


def acting_at_hub(request) -> bool:
    return request.acting is not None and request.acting.organisation.kind == "collaborative"


# Linking CIS2 identities to accounts (see Cis2Identity.Meta): a permission, not a role.
LINK_CIS2_IDENTITY = "accounts.link_cis2_identity"


def _gate(request, allowed) -> object | None:
    """The common front of the page rules: signed in, second factor, a role chosen, then ``allowed``."""
    if not request.user.is_authenticated:
        return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
    if not is_second_factor_satisfied(request):
        return redirect("accounts:verify")
    if request.acting is None:
        return redirect(f"/account/role/?next={request.path}")
    if not allowed(request):
        return render(request, "core/forbidden.jinja", {"title": "You cannot open this page"}, status=403)
    return None


def _acting_where(request, where: str | None) -> bool:
    return (where is None or (where == "practice" and acting_at_practice(request))
            or (where == "hub" and acting_at_hub(request)))


def permission_required(permission: str, *, where: str | None = None):
    """Allow the view only to a signed-in, verified user who holds ``permission`` (whatever their role),
    acting at the kind of organisation ``where`` names. Deny by default."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            refused = _gate(request, lambda r: r.user.has_perm(permission) and _acting_where(r, where))
            return refused or view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_required(*roles: str, where: str | None = None):
    """Allow the view only to a signed-in, second-factor-verified user acting in one of ``roles``.

    ``where`` is ``practice`` or ``hub`` to also require the kind of organisation acted at.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            refused = _gate(request, lambda r: (not roles or r.acting.role in roles) and _acting_where(r, where))
            return refused or view(request, *args, **kwargs)

        return wrapped

    return decorator
