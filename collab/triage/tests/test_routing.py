"""The routing decision and response clocks: pure functions, one test per route in the default rules."""

import datetime as dt

import pytest

from collab.organisations.models import Service
from collab.triage import routing
from collab.triage.defaults import DEFAULT_RULES
from collab.triage.models import Route
from collab.triage.routing import LONDON, RouteContext, due_at, is_open, route_decide

K = Service.Kind


class Row:
    def __init__(self, **kw):
        defaults = {"request_kind": "", "practices": "", "min_age": None, "max_age": None, "weekdays": "", "from_time": None,
                    "until_time": None, "months": "", "when_practice_full": "", "urgencies": "", "note": ""}
        self.__dict__.update({**defaults, **kw})


RULES = routing.specs(Row(**r) for r in DEFAULT_RULES)
WEDNESDAY_10 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)
JULY_WEDNESDAY_10 = dt.datetime(2026, 7, 15, 10, 0, tzinfo=LONDON)


def decide(route, *, kind="medical", urgency="soon", age=40, at=WEDNESDAY_10, full=False, ods="M81026"):
    rule = route_decide(RULES, RouteContext(route=route, request_kind=kind, urgency=urgency, practice_ods=ods, age=age,
                                            at=at, practice_full=full))
    assert rule is not None
    return rule.service_kind


@pytest.mark.parametrize(("route", "expected"), [
    (Route.PRACTICE, K.PRACTICE),
    (Route.HUB, K.REMOTE_HUB),
    (Route.PHARMACY, K.COMMUNITY_PHARMACY),
    (Route.MSK, K.MSK_PHYSIO),
    (Route.SOCIAL_PRESCRIBING, K.SOCIAL_PRESCRIBING),
    (Route.ENHANCED_ACCESS, K.ENHANCED_ACCESS),
    (Route.OUT_OF_HOURS, K.OUT_OF_HOURS),
    (Route.EMERGENCY, ""),
])
def test_each_route_goes_to_its_service_on_a_weekday_morning(route, expected):
    assert decide(route) == expected


def test_every_route_has_a_default_rule():
    assert {r.route for r in RULES} == set(Route.values)


def test_childrens_respiratory_hub_takes_under_16s_in_winter_only():
    assert decide(Route.CHILDRENS_RESPIRATORY, age=4) == K.CHILDRENS_RESPIRATORY
    assert decide(Route.CHILDRENS_RESPIRATORY, age=15) == K.CHILDRENS_RESPIRATORY
    assert decide(Route.CHILDRENS_RESPIRATORY, age=16) == K.REMOTE_HUB
    assert decide(Route.CHILDRENS_RESPIRATORY, age=4, at=JULY_WEDNESDAY_10) == K.REMOTE_HUB


def test_msk_physio_sees_16_and_over_children_go_to_their_practice():
    assert decide(Route.MSK, age=16) == K.MSK_PHYSIO
    assert decide(Route.MSK, age=12) == K.PRACTICE


def test_full_practice_sends_medical_work_to_the_hub_but_keeps_admin():
    assert decide(Route.PRACTICE, full=True) == K.REMOTE_HUB
    assert decide(Route.PRACTICE, full=True, kind="admin") == K.PRACTICE


def test_urgent_practice_work_out_of_hours_goes_to_out_of_hours():
    evening = dt.datetime(2026, 11, 25, 19, 0, tzinfo=LONDON)
    early = dt.datetime(2026, 11, 26, 7, 59, tzinfo=LONDON)
    saturday = dt.datetime(2026, 11, 28, 11, 0, tzinfo=LONDON)
    assert decide(Route.PRACTICE, urgency="urgent", at=evening) == K.OUT_OF_HOURS
    assert decide(Route.PRACTICE, urgency="urgent", at=early) == K.OUT_OF_HOURS
    assert decide(Route.PRACTICE, urgency="urgent", at=saturday) == K.OUT_OF_HOURS
    assert decide(Route.PRACTICE, urgency="routine", at=evening) == K.PRACTICE
    assert decide(Route.PRACTICE, urgency="urgent", at=dt.datetime(2026, 11, 25, 18, 29, tzinfo=LONDON)) == K.PRACTICE


def test_rule_conditions_on_practice_and_first_match_wins():
    rules = [routing.RuleSpec(position=5, route="hub", service_kind="enhanced_access", practices=frozenset({"M81012"})),
             *RULES]
    ctx = dict(route="hub", request_kind="medical", urgency="soon", age=30, at=WEDNESDAY_10, practice_full=False)
    assert route_decide(rules, RouteContext(practice_ods="M81012", **ctx)).service_kind == "enhanced_access"
    assert route_decide(rules, RouteContext(practice_ods="M81026", **ctx)).service_kind == "remote_hub"
    assert route_decide([], RouteContext(practice_ods="M81026", **ctx)) is None


def test_local_time_rules_follow_british_summer_time():
    # 17:45 UTC in July is 18:45 in London: out of hours.
    at = dt.datetime(2026, 7, 15, 17, 45, tzinfo=dt.UTC)
    assert decide(Route.PRACTICE, urgency="urgent", at=at) == K.OUT_OF_HOURS
    assert not is_open(at)
    assert is_open(dt.datetime(2026, 12, 15, 17, 45, tzinfo=dt.UTC))


def test_form_opening_hours():
    assert is_open(dt.datetime(2026, 11, 25, 8, 0, tzinfo=LONDON))
    assert not is_open(dt.datetime(2026, 11, 25, 7, 59, tzinfo=LONDON))
    assert not is_open(dt.datetime(2026, 11, 25, 18, 30, tzinfo=LONDON))
    assert not is_open(dt.datetime(2026, 11, 28, 10, 0, tzinfo=LONDON))


def test_due_at_counts_only_opening_hours_when_asked():
    assert due_at(WEDNESDAY_10, 120, working_hours=False) == WEDNESDAY_10 + dt.timedelta(hours=2)
    assert due_at(WEDNESDAY_10, 120, working_hours=True) == WEDNESDAY_10 + dt.timedelta(hours=2)
    # 17:30 + 2 working hours: 1 hour today, 1 hour from 08:00 tomorrow.
    late = dt.datetime(2026, 11, 25, 17, 30, tzinfo=LONDON)
    assert due_at(late, 120, working_hours=True) == dt.datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)
    # Friday 18:00 + 60 working minutes: 30 today, 30 on Monday.
    friday = dt.datetime(2026, 11, 27, 18, 0, tzinfo=LONDON)
    assert due_at(friday, 60, working_hours=True) == dt.datetime(2026, 11, 30, 8, 30, tzinfo=LONDON)
    # Saturday: the clock starts on Monday at 08:00.
    assert due_at(dt.datetime(2026, 11, 28, 12, 0, tzinfo=LONDON), 630, working_hours=True) == \
        dt.datetime(2026, 11, 30, 18, 30, tzinfo=LONDON)
    # Across the clocks going back (25 October 2026): still counted in UK local time.
    assert due_at(dt.datetime(2026, 10, 23, 18, 0, tzinfo=LONDON), 60, working_hours=True) == \
        dt.datetime(2026, 10, 26, 8, 30, tzinfo=LONDON)
