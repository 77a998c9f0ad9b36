"""The routing decision and the response clocks: pure functions, no database.

``route_decide`` takes a rule set's rules (as plain ``RuleSpec`` values) and the facts about one
request, and returns the first rule that matches. ``due_at`` adds a response target to a start
time, counting only opening hours (Monday to Friday 08:00-18:30, Europe/London) when asked.
Which day of the week a date counts as is decided in one place, ``day_of_week``: a bank holiday
(the caller passes the dates, see ``selectors.bank_holidays``) counts as a Sunday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
OPENS = dt.time(8, 0)
CLOSES = dt.time(18, 30)
SUNDAY = 6
NO_HOLIDAYS: frozenset[dt.date] = frozenset()


def day_of_week(day: dt.date, holidays: Collection[dt.date] = NO_HOLIDAYS) -> int:
    """0 (Monday) to 6 (Sunday), except that a bank holiday is a Sunday: the practices are closed,
    so working-hours clocks stop and rules by weekday route it as the weekend. The only place the
    clocks, the form's opening hours and the routing rules ask what kind of day it is."""
    return SUNDAY if day in holidays else day.weekday()


def is_working_day(day: dt.date, holidays: Collection[dt.date] = NO_HOLIDAYS) -> bool:
    return day_of_week(day, holidays) < 5


@dataclass(frozen=True, slots=True)
class RuleSpec:
    position: int
    route: str
    service_kind: str
    request_kind: str = ""
    practices: frozenset[str] = field(default_factory=frozenset)
    min_age: int | None = None
    max_age: int | None = None
    weekdays: frozenset[int] = field(default_factory=frozenset)
    from_time: dt.time | None = None
    until_time: dt.time | None = None
    months: frozenset[int] = field(default_factory=frozenset)
    when_practice_full: bool | None = None
    urgencies: frozenset[str] = field(default_factory=frozenset)
    note: str = ""


@dataclass(frozen=True, slots=True)
class RouteContext:
    route: str
    request_kind: str
    urgency: str
    practice_ods: str
    age: int
    at: dt.datetime  # timezone-aware; compared in Europe/London local time
    practice_full: bool
    holidays: frozenset[dt.date] = NO_HOLIDAYS  # bank holidays around ``at``: each routes as a Sunday


def _in_window(t: dt.time, start: dt.time, end: dt.time) -> bool:
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # the window wraps midnight, e.g. 18:30 to 08:00


def rule_matches(rule: RuleSpec, ctx: RouteContext) -> bool:
    local = ctx.at.astimezone(LONDON)
    return (
        rule.route == ctx.route
        and (not rule.request_kind or rule.request_kind == ctx.request_kind)
        and (not rule.urgencies or ctx.urgency in rule.urgencies)
        and (not rule.practices or ctx.practice_ods in rule.practices)
        and (rule.min_age is None or ctx.age >= rule.min_age)
        and (rule.max_age is None or ctx.age <= rule.max_age)
        and (not rule.weekdays or day_of_week(local.date(), ctx.holidays) in rule.weekdays)
        and (rule.from_time is None or rule.until_time is None or _in_window(local.time(), rule.from_time, rule.until_time))
        and (not rule.months or local.month in rule.months)
        and (rule.when_practice_full is None or rule.when_practice_full == ctx.practice_full)
    )


def route_decide(rules: Sequence[RuleSpec], ctx: RouteContext) -> RuleSpec | None:
    """The first rule, by position, that matches; None when no rule takes the route."""
    for rule in sorted(rules, key=lambda r: r.position):
        if rule_matches(rule, ctx):
            return rule
    return None


def is_open(at: dt.datetime, holidays: Collection[dt.date] = NO_HOLIDAYS) -> bool:
    """Whether the online form is open: weekdays 08:00-18:30 UK time, bank holidays excepted."""
    local = at.astimezone(LONDON)
    return is_working_day(local.date(), holidays) and OPENS <= local.time() < CLOSES


def due_at(start: dt.datetime, minutes: int, *, working_hours: bool,
           holidays: Collection[dt.date] = NO_HOLIDAYS) -> dt.datetime:
    """``start`` plus ``minutes``; with ``working_hours`` only weekday 08:00-18:30 minutes count,
    and none on a bank holiday."""
    if not working_hours:
        return start + dt.timedelta(minutes=minutes)
    remaining = dt.timedelta(minutes=minutes)
    cursor = start.astimezone(LONDON)
    while True:
        day = cursor.date()
        opens = dt.datetime.combine(day, OPENS, tzinfo=LONDON)
        closes = dt.datetime.combine(day, CLOSES, tzinfo=LONDON)
        if is_working_day(day, holidays) and cursor < closes:
            cursor = max(cursor, opens)
            if cursor + remaining <= closes:
                return cursor + remaining
            remaining -= closes - cursor
        cursor = dt.datetime.combine(day + dt.timedelta(days=1), OPENS, tzinfo=LONDON)


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def parse_codes(text: str) -> frozenset[str]:
    return frozenset(t for t in text.replace(",", " ").split() if t)


def parse_ints(text: str) -> frozenset[int]:
    return frozenset(int(t) for t in parse_codes(text))


def spec_from_row(row) -> RuleSpec:
    """A RoutingRule row (or anything with the same attributes) as a RuleSpec."""
    full = {"yes": True, "no": False}.get(row.when_practice_full)
    return RuleSpec(
        position=row.position, route=row.route, service_kind=row.service_kind, request_kind=row.request_kind,
        practices=frozenset(c.upper() for c in parse_codes(row.practices)), min_age=row.min_age, max_age=row.max_age,
        weekdays=frozenset(int(c) for c in row.weekdays), from_time=row.from_time, until_time=row.until_time,
        months=parse_ints(row.months), when_practice_full=full, urgencies=parse_codes(row.urgencies), note=row.note,
    )


def specs(rows: Iterable) -> list[RuleSpec]:
    return [spec_from_row(r) for r in rows]
