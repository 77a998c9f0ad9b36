"""The Jinja2 environment: NHS.UK frontend macros plus Django's url and static helpers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import nhsuk_frontend_jinja
from django.conf import settings
from django.contrib import messages
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader

from collab.core.navigation import navigation_for

LONDON = ZoneInfo("Europe/London")
NHSUK_TEMPLATES = Path(nhsuk_frontend_jinja.__file__).parent / "templates"


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value, LONDON) if value else value


def format_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    v = local(value)
    return f"{v.day} {v:%B %Y}, {v:%H:%M}"


def format_date(value: dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local(value).date()
    return f"{value.day} {value:%B %Y}"


def format_time(value: dt.datetime | None) -> str:
    return local(value).strftime("%H:%M") if value else ""


def format_nhs_number(value: str) -> str:
    return f"{value[:3]} {value[3:6]} {value[6:]}" if value and len(value) == 10 else value


def environment(**options) -> Environment:
    loader = options.pop("loader", None)
    loaders = [loader] if loader else []
    options.pop("undefined", None)
    options.pop("autoescape", None)
    env = Environment(
        autoescape=True,
        loader=ChoiceLoader([*loaders, FileSystemLoader(str(NHSUK_TEMPLATES))]),
        # The NHS.UK macros read optional nested parameters (params.service.text).
        undefined=ChainableUndefined,
        **options,
    )
    env.globals.update(
        {
            "url": url,
            "static": static,
            "now": timezone.now,
            "settings_env": settings.ENV,
            "navigation_for": navigation_for,
            "get_messages": messages.get_messages,
        }
    )
    env.filters.update(
        {
            "datetime": format_datetime,
            "date": format_date,
            "time": format_time,
            "nhs_number": format_nhs_number,
        }
    )
    return env
