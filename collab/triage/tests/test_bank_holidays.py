"""Bank holidays: the practices are closed, so working-hours clocks stop and weekday rules see a Sunday.

The dates come from the seeding migration (England and Wales, 2025 to 2027) or from
``collab import-bank-holidays``; each test here fails if bank holidays are ignored again.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collab.core.tests.factories import actor
from collab.organisations.models import Service
from collab.triage import routing, selectors, services
from collab.triage.models import BankHoliday, Triage
from collab.triage.routing import LONDON
from collab.triage.tests.factories import details, hub_role, online, patient

pytestmark = pytest.mark.django_db

FRIDAY_BEFORE_SPRING_BANK_HOLIDAY = dt.datetime(2026, 5, 22, 10, 0, tzinfo=LONDON)  # Monday 25 May 2026 is one
SPRING_BANK_HOLIDAY = dt.datetime(2026, 5, 25, 11, 0, tzinfo=LONDON)
ORDINARY_MONDAY = dt.datetime(2026, 5, 18, 11, 0, tzinfo=LONDON)


def _triage_at(net, *, submitted: dt.datetime, urgency: str, route: str) -> Triage:
    request = services._create(source="phone", practice=net.practice, patient=patient(net), details=details(),
                               actor=services.PUBLIC, at=submitted)
    clinician = hub_role(net)
    return services._apply_triage(
        request=request, actor=actor(clinician), method=Triage.Method.CLINICIAN, urgency=urgency, route=route,
        reason="Needs a GP review", safety_netting="Call 111 if worse", at=submitted + dt.timedelta(minutes=30),
        user_id=clinician.user_id, organisation_id=clinician.organisation_id)


def test_the_england_and_wales_bank_holidays_for_2025_to_2027_are_seeded():
    seeded = set(BankHoliday.objects.filter(date__year__in=(2025, 2026, 2027)).values_list("date", flat=True))
    assert len(seeded) == 24
    assert {dt.date(2026, 12, 28), dt.date(2027, 3, 26), dt.date(2027, 12, 27), dt.date(2025, 8, 25)} <= seeded
    assert dt.date(2026, 12, 26) not in seeded  # Boxing Day 2026 is a Saturday: the holiday is Monday 28th


def test_a_routine_request_raised_before_a_bank_holiday_monday_is_due_after_it(net):
    triage = _triage_at(net, submitted=FRIDAY_BEFORE_SPRING_BANK_HOLIDAY, urgency="routine", route="hub")
    request = triage.request
    request.refresh_from_db()
    # Ten working days from Friday 10:00 skip the weekend and Monday 25 May: Monday 8 June, not Friday 5 June.
    assert request.respond_by == triage.respond_by == dt.datetime(2026, 6, 8, 10, 0, tzinfo=LONDON)


def test_the_awaiting_triage_clock_does_not_run_on_a_bank_holiday(net):
    request = services._create(source="phone", practice=net.practice, patient=patient(net), details=details(),
                               actor=services.PUBLIC, at=FRIDAY_BEFORE_SPRING_BANK_HOLIDAY)
    assert request.respond_by == dt.datetime(2026, 5, 26, 10, 0, tzinfo=LONDON)


def test_an_urgent_practice_request_on_a_bank_holiday_routes_as_on_a_sunday(net):
    holiday = _triage_at(net, submitted=SPRING_BANK_HOLIDAY, urgency="urgent", route="practice")
    assert holiday.rule_position == 31  # "Urgent practice work at weekends goes to out of hours"
    assert holiday.service.kind == Service.Kind.OUT_OF_HOURS
    ordinary = _triage_at(net, submitted=ORDINARY_MONDAY, urgency="urgent", route="practice")
    assert ordinary.rule_position == 50
    assert ordinary.service == net.practice_service


def test_the_form_is_closed_on_a_bank_holiday_and_the_day_counts_as_a_sunday():
    holidays = selectors.bank_holidays_around(SPRING_BANK_HOLIDAY)
    assert dt.date(2026, 5, 25) in holidays
    assert routing.day_of_week(dt.date(2026, 5, 25), holidays) == 6
    assert not routing.is_open(SPRING_BANK_HOLIDAY, holidays)
    assert routing.is_open(ORDINARY_MONDAY, holidays)
    assert not services.form_is_open(SPRING_BANK_HOLIDAY)


def test_one_bank_holiday_query_per_request(net):
    with CaptureQueriesContext(connection) as queries:
        online(net, patient(net), kind="admin", at=ORDINARY_MONDAY)  # form check, awaiting clock, routing by rule
    assert sum("triage_bankholiday" in q["sql"] for q in queries.captured_queries) == 1
