"""Sign in with a password and a second factor (TOTP); choose the role to act in; sign out."""

from __future__ import annotations

import base64
import csv
import io
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from collab.accounts import oidc, selectors, services
from collab.accounts.forms import Cis2LinkForm, CodeForm, RoleForm, SignInForm
from collab.accounts.middleware import ACTING, LAST_SEEN, SIGNED_IN_AT
from collab.accounts.models import User
from collab.accounts.rules import LINK_CIS2_IDENTITY, permission_required
from collab.core.audit import Actor, audit_record
from collab.core.forms import error_list, field_error
from collab.core.redirects import safe_redirect


def _safe_next(request, default: str = "/") -> str:
    return safe_redirect(request, request.POST.get("next") or request.GET.get("next") or default, default)


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:64]


def start_session(request, user, *, demo: bool = False) -> None:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SIGNED_IN_AT] = time.time()
    request.session[LAST_SEEN] = time.time()
    request.session["demo_persona"] = bool(demo)
    assignments = list(services.active_assignments(user))
    if len(assignments) == 1:
        request.session[ACTING] = assignments[0].pk


@require_http_methods(["GET", "POST"])
def sign_in(request):
    form = SignInForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        address = _client_address(request)
        if services.login_is_rate_limited(username=username, address=address):
            extra.append("Too many failed sign-in attempts. Wait 15 minutes and try again.")
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                services.login_failure_record(username=username, address=address)
                extra.append("The username or password is not right")
                status = 400
            else:
                services.login_failures_clear(username=username)
                start_session(request, user)
                return redirect(f"/account/verify/?next={_safe_next(request)}")
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "accounts/sign_in.jinja",
        {"title": "Sign in", "form": form, "errors": error_list(form, extra), "field_error": field_error,
         "next": _safe_next(request), "cis2_enabled": oidc.enabled()},
        status=status,
    )


def _device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=None).first()


@require_http_methods(["GET", "POST"])
def verify(request):
    """Second factor: enrol an authenticator app on first sign-in, then always ask for its code."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL_PATH)
    device = _device(request.user)
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        address = _client_address(request)
        if services.login_is_rate_limited(username=request.user.username, address=address):
            extra.append("Too many failed attempts. Wait 15 minutes and try again.")
            status = 429
        elif device.verify_token(form.cleaned_data["code"]):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            services.login_failures_clear(username=request.user.username)
            if request.session.get(ACTING) is None:
                return redirect(f"/account/role/?next={_safe_next(request)}")
            return redirect(_safe_next(request))
        else:
            services.login_failure_record(username=request.user.username, address=address)
            extra.append("The code is not right. Check your authenticator app and try again")
            status = 400
    elif request.method == "POST":
        status = 400
    qr_svg = None
    secret = None
    if not device.confirmed:
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        img = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
        buf = io.BytesIO()
        img.save(buf)
        qr_svg = "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()
    return render(
        request,
        "accounts/verify.jinja",
        {"title": "Enter your security code", "form": form, "errors": error_list(form, extra),
         "field_error": field_error, "enrolling": not device.confirmed, "secret": secret, "qr_svg": qr_svg,
         "next": _safe_next(request)},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def choose_role(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL_PATH)
    assignments = list(services.active_assignments(request.user))
    form = RoleForm(request.POST if request.method == "POST" else None)
    extra: list[str] = []
    if request.method == "POST" and form.is_valid():
        chosen = next((a for a in assignments if a.pk == form.cleaned_data["assignment"]), None)
        if chosen is None:
            extra.append("Choose one of your roles")
        else:
            request.session[ACTING] = chosen.pk
            messages.info(request, f"You are acting as {chosen.get_role_display()} at {chosen.organisation.display_name}.")
            return redirect(_safe_next(request))
    return render(
        request,
        "accounts/choose_role.jinja",
        {"title": "Choose the role you are acting in", "assignments": assignments, "form": form,
         "errors": error_list(form, extra), "next": _safe_next(request)},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def sign_out(request):
    if request.method == "POST":
        logout(request)
        messages.info(request, "You have signed out.")
        return redirect(settings.LOGIN_URL_PATH)
    return render(request, "accounts/sign_out.jinja", {"title": "Sign out"})


@require_http_methods(["GET"])
def cis2_start(request):
    """Send the browser to NHS CIS2 (authorization code flow with PKCE and a nonce)."""
    if not oidc.enabled():
        return render(request, "core/forbidden.jinja", {"title": "CIS2 sign-in is not set up here"}, status=404)
    try:
        return redirect(oidc.authorization_url(request.session, acr_values=settings.CIS2_SIGN_IN_ACR_VALUES,
                                               accepted_acr=settings.CIS2_SIGN_IN_ACCEPTED_ACR))
    except oidc.Cis2Refused as e:
        messages.error(request, e.message)
        return redirect(settings.LOGIN_URL_PATH)


@require_http_methods(["GET"])
def cis2_callback(request):
    if not oidc.enabled():
        return render(request, "core/forbidden.jinja", {"title": "CIS2 sign-in is not set up here"}, status=404)
    started = oidc.pending(request.session)
    if started and started.get("purpose") == oidc.REAUTHENTICATE:
        return _cis2_reauthenticated(request, started)
    try:
        done = oidc.complete(request.session, state=request.GET.get("state", ""), code=request.GET.get("code", ""),
                             error=request.GET.get("error", ""))
    except oidc.Cis2Refused as e:
        audit_record(actor=Actor(user_id=None, username="", role="", organisation_id=None, organisation_ods=""),
                     action="signin.cis2", allowed=False, reason=e.reason)
        weak = e.code == oidc.WEAK_ACR
        return render(request, "accounts/cis2_refused.jinja", {
            "title": "Your NHS CIS2 sign-in was not strong enough" if weak else "You cannot sign in",
            "message": e.message, "weak_acr": weak}, status=403)
    start_session(request, done.user)
    # The ID token's acr was a multi-factor class (AAL2 or AAL3, settings.CIS2_SIGN_IN_ACCEPTED_ACR), checked
    # by oidc.complete: the CIS2 sign-in is the second factor, so no collab security code is asked for.
    request.session["auth_method"] = "cis2"
    request.session[ACTING] = done.assignment.pk
    audit_record(actor=services.actor_from_assignment(done.assignment), action="signin.cis2", allowed=True,
                 reason=f"selected_roleid {done.selected_roleid}, acr {done.acr}")
    messages.info(request, f"Signed in with NHS CIS2 as {done.assignment.get_role_display()} at "
                           f"{done.assignment.organisation.display_name}.")
    return redirect("core:home")


def _cis2_reauthenticated(request, started: dict):
    """Back from CIS2 after ``oidc.reauthentication_url``: record the outcome and return to the page that asked.

    The authentication event is audited here; the page that asked decides what it opens (and audits that).
    """
    if not request.user.is_authenticated:
        request.session.pop(oidc.SESSION_KEY, None)
        audit_record(actor=Actor(user_id=None, username="", role="", organisation_id=None, organisation_ods=""),
                     action="reauth.cis2", allowed=False, reason="not signed in")
        return redirect(settings.LOGIN_URL_PATH)
    actor = (services.actor_from_assignment(request.acting) if request.acting is not None else
             Actor(user_id=request.user.pk, username=request.user.username, role="", organisation_id=None,
                   organisation_ods=""))
    context = started.get("context") or {}
    try:
        done = oidc.reauthenticate(request.session, user=request.user, state=request.GET.get("state", ""),
                                   code=request.GET.get("code", ""), error=request.GET.get("error", ""))
    except oidc.Cis2Refused as e:
        oidc.outcome_keep(request.session, user_id=request.user.pk, context=context, refused=e)
        audit_record(actor=actor, action="reauth.cis2", allowed=False, reason=e.reason,
                     object_type=str(context.get("purpose", ""))[:64])
    else:
        oidc.outcome_keep(request.session, user_id=request.user.pk, context=context, done=done)
        audit_record(actor=actor, action="reauth.cis2", allowed=True,
                     reason=f"sub {done.sub}, auth_time {done.auth_time}, acr {done.acr}",
                     object_type=str(context.get("purpose", ""))[:64])
    # Set by our own code, but a redirect target all the same: only somewhere on this site.
    return redirect(safe_redirect(request, str(started.get("return_to") or "/"), "/"))


# ---------------------------------------------------------------- linking CIS2 identities to accounts


@permission_required(LINK_CIS2_IDENTITY, where="hub")
@require_http_methods(["GET"])
def cis2_links(request):
    """Every active account, with the CIS2 identity linked to it (if any); search by name, username or UUID."""
    search = request.GET.get("q", "")[:100]
    users = selectors.users_for_cis2_linking(search=search)
    return render(request, "accounts/cis2_links.jinja", {
        "title": "NHS CIS2 identities", "users": users, "search": search, "limit": 200,
    })


@permission_required(LINK_CIS2_IDENTITY, where="hub")
@require_http_methods(["GET", "POST"])
def cis2_link(request, user_id: int):
    person = get_object_or_404(User.objects.select_related("cis2_identity"), pk=user_id, is_active=True)
    form = Cis2LinkForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.cis2_identity_link(actor=services.actor_from_assignment(request.acting), user=person,
                                            sub=form.cleaned_data["sub"])
            except services.Cis2LinkError as e:
                form.add_error(e.field or None, e.message)
            else:
                messages.info(request, f"{person} can now sign in with NHS CIS2.")
                return redirect("accounts:cis2_links")
    return render(request, "accounts/cis2_link.jinja", {
        "title": f"Link a CIS2 identity to {person}", "person": person, "form": form,
        "errors": error_list(form), "field_error": field_error, "back_href": "/account/cis2/identities/",
    }, status=status)


@permission_required(LINK_CIS2_IDENTITY, where="hub")
@require_http_methods(["GET", "POST"])
def cis2_unlink(request, user_id: int):
    person = get_object_or_404(User.objects.select_related("cis2_identity"), pk=user_id)
    extra: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            sub = services.cis2_identity_unlink(actor=services.actor_from_assignment(request.acting), user=person)
        except services.Cis2LinkError as e:
            extra.append(e.message)
            status = 400
        else:
            messages.info(request, f"{person} can no longer sign in with NHS CIS2 UUID {sub}.")
            return redirect("accounts:cis2_links")
    linked = getattr(person, "cis2_identity", None)
    return render(request, "accounts/cis2_unlink.jinja", {
        "title": f"Unlink {person}'s CIS2 identity", "person": person, "linked": linked,
        "errors": error_list(None, extra), "back_href": "/account/cis2/identities/",
    }, status=status)


@permission_required(LINK_CIS2_IDENTITY, where="hub")
@require_http_methods(["GET"])
def cis2_links_csv(request):
    links = list(selectors.cis2_links().prefetch_related("user__role_assignments__organisation"))
    audit_record(actor=services.actor_from_assignment(request.acting), action="cis2_identity.export", allowed=True,
                 reason=f"{len(links)} links")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cis2-identities.csv"'
    writer = csv.writer(response)
    writer.writerow(selectors.LINKS_CSV_HEADER)
    writer.writerows(selectors.cis2_links_csv_rows(links))
    return response
