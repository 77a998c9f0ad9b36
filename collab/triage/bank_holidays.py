"""Importing GOV.UK's bank holidays (https://www.gov.uk/bank-holidays.json).

The file holds three divisions (england-and-wales, scotland, northern-ireland), each
``{"division": ..., "events": [{"title", "date", "notes", "bunting"}, ...]}``. Only England and
Wales is imported: every collab practice is in England. The whole file is checked before anything
is written, and every fault is reported by where it is (``england-and-wales.events[3].date: not a
date``); then one transaction makes the stored England and Wales holidays between the file's
first and last date exactly the file's (a holiday moved or cancelled by proclamation goes).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from collab.core.audit import Actor, audit_record
from collab.triage.models import BankHoliday

DIVISION = BankHoliday.ENGLAND_AND_WALES
MAX_ERRORS = 20
TITLE_MAX = BankHoliday._meta.get_field("title").max_length


class BankHolidayImportError(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(self.shown))

    @property
    def shown(self) -> list[str]:
        """The faults to show a person: the first ``MAX_ERRORS``, then how many more."""
        more = len(self.errors) - MAX_ERRORS
        return self.errors[:MAX_ERRORS] + ([f"and {more} more faults"] if more > 0 else [])


@dataclass(frozen=True, slots=True)
class ImportResult:
    holidays: int
    added: int
    updated: int
    removed: int
    first: dt.date
    last: dt.date
    removed_holidays: tuple[str, ...] = ()  # "Mon 29 May 2028 Spring bank holiday": what went, for the person to check


def parse(data: object) -> dict[dt.date, str]:
    """England and Wales's holidays in a GOV.UK-shaped document, date -> title; every fault
    found is raised together."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise BankHolidayImportError(["top level: not an object (expected GOV.UK's bank-holidays.json)"])
    division = data.get(DIVISION)
    if division is None:
        raise BankHolidayImportError([f"{DIVISION}: missing (the file has {', '.join(map(str, data)) or 'nothing'})"])
    if not isinstance(division, dict):
        raise BankHolidayImportError([f"{DIVISION}: not an object"])
    if "division" in division and division["division"] != DIVISION:
        errors.append(f"{DIVISION}.division: {division['division']!r}, expected {DIVISION!r}")
    events = division.get("events")
    if not isinstance(events, list):
        raise BankHolidayImportError([*errors, f"{DIVISION}.events: {'missing' if events is None else 'not a list'}"])
    if not events:
        errors.append(f"{DIVISION}.events: empty")
    found: dict[dt.date, tuple[int, str]] = {}
    for i, event in enumerate(events):
        where = f"{DIVISION}.events[{i}]"
        if not isinstance(event, dict):
            errors.append(f"{where}: not an object")
            continue
        title, raw = event.get("title"), event.get("date")
        if not isinstance(title, str) or not title.strip():
            errors.append(f"{where}.title: {'missing' if title is None else 'not a non-empty string'}")
        elif len(title.strip()) > TITLE_MAX:
            errors.append(f"{where}.title: longer than {TITLE_MAX} characters")
        if raw is None:
            errors.append(f"{where}.date: missing")
            continue
        try:
            if not isinstance(raw, str) or len(raw) != 10:
                raise ValueError
            day = dt.date.fromisoformat(raw)
        except ValueError:
            errors.append(f"{where}.date: not a date ({raw!r}; expected YYYY-MM-DD)")
            continue
        if day in found:
            errors.append(f"{where}.date: {raw} is also {DIVISION}.events[{found[day][0]}]")
            continue
        found[day] = (i, title.strip() if isinstance(title, str) else "")
    if errors:
        raise BankHolidayImportError(errors)
    return {day: title for day, (_, title) in found.items()}


def read(path: str | Path) -> dict[dt.date, str]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BankHolidayImportError([f"{path}: cannot be read ({exc})"]) from exc
    return read_bytes(raw, name=str(path))


def read_bytes(raw: bytes, *, name: str) -> dict[dt.date, str]:
    """``parse`` for a file's bytes (a path read, or an upload): every fault names ``name``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BankHolidayImportError([f"{name}: not UTF-8 text (byte {exc.start})"]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BankHolidayImportError([f"{name}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"]) from exc
    return parse(data)


def bank_holidays_import(*, holidays: dict[dt.date, str], actor: Actor, source: str) -> ImportResult:
    """Store ``holidays`` (from ``parse``/``read``) in one transaction, audited."""
    first, last = min(holidays), max(holidays)
    with transaction.atomic():
        stored = {h.date: h for h in BankHoliday.objects.select_for_update().filter(date__gte=first, date__lte=last)}
        gone = [d for d, h in stored.items() if d not in holidays and h.division == DIVISION]
        BankHoliday.objects.filter(date__in=gone).delete()
        added = updated = 0
        for day, title in sorted(holidays.items()):
            row = stored.get(day)
            if row is None:
                BankHoliday.objects.create(date=day, title=title, division=DIVISION)
                added += 1
            elif (row.title, row.division) != (title, DIVISION):
                row.title, row.division = title, DIVISION
                row.save(update_fields=["title", "division"])
                updated += 1
        result = ImportResult(holidays=len(holidays), added=added, updated=updated, removed=len(gone),
                              first=first, last=last, removed_holidays=tuple(str(stored[d]) for d in sorted(gone)))
        audit_record(actor=actor, action="triage.bank_holidays.import", allowed=True, object_type="bank_holiday",
                     reason=f"{source}: {len(holidays)} {DIVISION} {first}..{last}; "
                            f"{added} added, {updated} updated, {len(gone)} removed")
    return result
