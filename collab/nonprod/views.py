from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from collab.accounts.models import User
from collab.accounts.views import start_session
from collab.nonprod.personas import PERSONAS


def personas(request):
    present = set(User.objects.filter(is_demo_persona=True).values_list("username", flat=True))
    return render(request, "nonprod/personas.jinja", {
        "title": "Try collab as a demo persona", "personas": [p for p in PERSONAS if p.username in present],
    })


@require_POST
def sign_in_as(request, username: str):
    user = get_object_or_404(User, username=username, is_demo_persona=True, is_active=True)
    start_session(request, user, demo=True)
    messages.info(request, f"Signed in as {user.get_full_name()} (demo persona).")
    return redirect("core:home")
