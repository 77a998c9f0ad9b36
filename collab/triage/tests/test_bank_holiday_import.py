"""`collab import-bank-holidays FILE`: GOV.UK's bank-holidays.json, England and Wales only, all or nothing."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collab.core.models import AuditEvent
from collab.triage import routing, selectors
from collab.triage.models import BankHoliday
from collab.triage.routing import LONDON

pytestmark = pytest.mark.django_db


def _event(title, date):
    return {"title": title, "date": date, "notes": "", "bunting": True}


def govuk_json(england_and_wales_events) -> str:
    """The shape of https://www.gov.uk/bank-holidays.json, with Scotland's and Northern Ireland's
    holidays beside England and Wales's (they must not be imported)."""
    return json.dumps({
        "england-and-wales": {"division": "england-and-wales", "events": england_and_wales_events},
        "scotland": {"division": "scotland", "events": [_event("2nd January", "2028-01-04"),
                                                        _event("St Andrew’s Day", "2028-11-30")]},
        "northern-ireland": {"division": "northern-ireland", "events": [_event("St Patrick’s Day", "2028-03-17")]},
    })


def govuk_file(tmp_path, england_and_wales_events, name="bank-holidays.json"):
    path = tmp_path / name
    path.write_text(govuk_json(england_and_wales_events), encoding="utf-8")
    return path


EW_2028 = [_event("New Year’s Day", "2028-01-03"), _event("Good Friday", "2028-04-14"),
           _event("Easter Monday", "2028-04-17"), _event("Early May bank holiday", "2028-05-01"),
           _event("Spring bank holiday", "2028-05-29"), _event("Summer bank holiday", "2028-08-28"),
           _event("Christmas Day", "2028-12-25"), _event("Boxing Day", "2028-12-26")]


def test_import_takes_england_and_wales_from_a_govuk_file_and_is_audited(tmp_path, capsys):
    path = govuk_file(tmp_path, EW_2028)
    call_command("import_bank_holidays", str(path))
    out = capsys.readouterr().out
    assert "Imported 8 bank holidays: 8 added, 0 updated, 0 removed" in out
    stored = dict(BankHoliday.objects.filter(date__year=2028).values_list("date", "title"))
    assert stored == {dt.date.fromisoformat(e["date"]): e["title"] for e in EW_2028}
    assert not BankHoliday.objects.filter(date__in=[dt.date(2028, 1, 4), dt.date(2028, 11, 30), dt.date(2028, 3, 17)]).exists()
    audit = AuditEvent.objects.get(action="triage.bank_holidays.import")
    assert audit.channel == "cli" and "8 added" in audit.reason
    # The clocks see it at once: Good Friday 2028 stops a working-hours clock.
    assert routing.due_at(dt.datetime(2028, 4, 13, 18, 0, tzinfo=LONDON), 60, working_hours=True,
                          holidays=selectors.bank_holidays_around(dt.datetime(2028, 4, 13, tzinfo=LONDON))) == \
        dt.datetime(2028, 4, 18, 8, 30, tzinfo=LONDON)
    # Importing it again changes nothing; a holiday the file drops within its dates goes.
    path = govuk_file(tmp_path, [e for e in EW_2028 if e["date"] != "2028-05-29"])
    call_command("import_bank_holidays", str(path))
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 1 removed" in out
    assert "Removed (not in the file): Mon 29 May 2028 Spring bank holiday" in out
    assert not BankHoliday.objects.filter(date=dt.date(2028, 5, 29)).exists()


def test_import_refuses_a_malformed_file_naming_each_fault_and_writes_nothing(tmp_path):
    events = [dict(e) for e in EW_2028]
    events[3]["date"] = "2028-02-30"
    del events[5]["title"]
    events[6]["date"] = "2028-01-03"
    path = govuk_file(tmp_path, events)
    before = set(BankHoliday.objects.values_list("date", "title"))
    with pytest.raises(CommandError) as refused:
        call_command("import_bank_holidays", str(path))
    message = str(refused.value)
    assert message.startswith("refused, nothing imported:")
    assert "england-and-wales.events[3].date: not a date ('2028-02-30'" in message
    assert "england-and-wales.events[5].title: missing" in message
    assert "england-and-wales.events[6].date: 2028-01-03 is also england-and-wales.events[0]" in message
    assert set(BankHoliday.objects.values_list("date", "title")) == before  # not even the good events
    assert not AuditEvent.objects.filter(action="triage.bank_holidays.import").exists()


@pytest.mark.parametrize(("content", "fault"), [
    ("{not json", "not JSON"),
    ("[]", "top level: not an object"),
    (json.dumps({"scotland": {"events": []}}), "england-and-wales: missing"),
    (json.dumps({"england-and-wales": {"events": {}}}), "england-and-wales.events: not a list"),
])
def test_import_refuses_files_that_are_not_govuk_shaped(tmp_path, content, fault):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=fault):
        call_command("import_bank_holidays", str(path))
