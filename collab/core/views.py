from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import timezone

from collab.accounts.rules import is_second_factor_satisfied
from collab.booking import selectors as booking


def home(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL_PATH)
    if not is_second_factor_satisfied(request):
        return redirect("accounts:verify")
    if request.acting is None:
        return redirect("accounts:choose_role")
    org = request.acting.organisation
    today = timezone.localdate()
    context = {"title": "Home", "today": today, "org": org}
    if org.kind == "practice":
        context.update(
            duty=booking.duty_doctor_today(practice_id=org.pk, day=today),
            open_tasks=booking.practice_tasks_open(practice_id=org.pk).count(),
            upcoming=booking.appointments_for_practice(practice_id=org.pk).filter(status="booked").count(),
        )
    elif org.kind == "collaborative":
        context.update(
            remote=booking.hub_remote_resolution(),
            pending_requests=booking.capacity_requests_for(organisation=org).filter(status="requested").count(),
            day_count=booking.appointments_for_clinician_day(clinician_id=request.user.pk, day=today).count(),
        )
    return render(request, "core/home.jinja", context)


def help_page(request):
    return render(request, "core/help.jinja", {"title": "Help"})


def accessibility(request):
    return render(request, "core/accessibility.jinja", {"title": "Accessibility statement"})


def health(request):
    from django.http import JsonResponse

    return JsonResponse({"status": "ok"})
