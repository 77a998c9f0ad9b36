"""The bank holidays page: what routing knows, a warning before it runs out, and a hub manager's
upload of GOV.UK's file (checked whole, all or nothing, audited)."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from collab.accounts.models import Role
from collab.core.jinja import format_date
from collab.core.models import AuditEvent
from collab.core.tests.factories import act_as
from collab.triage import selectors
from collab.triage.bank_holidays import BankHolidayImportError, read_bytes
from collab.triage.forms import BankHolidayFileForm
from collab.triage.models import BankHoliday
from collab.triage.tests.factories import hub_role, patient, triaged
from collab.triage.tests.test_bank_holiday_import import EW_2028, _event, govuk_json

pytestmark = pytest.mark.django_db

PAGE = "/triage/bank-holidays/"
UPLOAD = "/triage/bank-holidays/import/"


def _upload(events, name="bank-holidays.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, govuk_json(events).encode(), content_type="application/json")


def _only(*days_from_today: int) -> list[dt.date]:
    """Replace the stored holidays with ones this many days from today (so no test depends on the date it runs)."""
    today = timezone.localdate()
    BankHoliday.objects.all().delete()
    dates = [today + dt.timedelta(days=d) for d in days_from_today]
    BankHoliday.objects.bulk_create(BankHoliday(date=d, title=f"Holiday {i}") for i, d in enumerate(dates))
    return dates


def test_the_calendar_warns_when_fewer_than_90_days_are_known_ahead():
    today = dt.date(2027, 1, 1)
    BankHoliday.objects.all().delete()
    assert selectors.bank_holiday_calendar(today=today) == {"upcoming": [], "known_until": None, "running_out": True}
    BankHoliday.objects.create(date=today - dt.timedelta(days=10), title="Past")
    BankHoliday.objects.create(date=today + dt.timedelta(days=89), title="Near")
    calendar = selectors.bank_holiday_calendar(today=today)
    assert [h.title for h in calendar["upcoming"]] == ["Near"]
    assert calendar["known_until"] == today + dt.timedelta(days=89) and calendar["running_out"]
    BankHoliday.objects.create(date=today + dt.timedelta(days=90), title="Far enough")
    calendar = selectors.bank_holiday_calendar(today=today)
    assert [h.title for h in calendar["upcoming"]] == ["Near", "Far enough"] and not calendar["running_out"]
    # Scotland's holidays are not England's.
    BankHoliday.objects.create(date=today + dt.timedelta(days=400), title="St Andrew’s Day", division="scotland")
    assert selectors.bank_holiday_calendar(today=today)["known_until"] == today + dt.timedelta(days=90)


def test_a_hub_gp_sees_the_coming_holidays_but_cannot_import(client, net):
    dates = _only(-3, 5, 200)
    act_as(client, hub_role(net, Role.GP))
    page = client.get(PAGE)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Holiday 1" in text and "Holiday 2" in text and "Holiday 0" not in text  # the past one is not coming up
    assert f"Known up to {format_date(dates[2])}" in text and "running out" not in text
    assert 'enctype="multipart/form-data"' not in text
    assert client.post(UPLOAD, {"file": _upload(EW_2028)}).status_code == 403
    assert sorted(BankHoliday.objects.values_list("date", flat=True)) == dates


def test_the_page_warns_a_hub_manager_before_the_known_holidays_run_out(client, net):
    dates = _only(5, 60)
    act_as(client, hub_role(net, Role.HUB_MANAGER))
    text = client.get(PAGE).content.decode()
    assert "Bank holidays are running out" in text
    assert f"collab knows bank holidays only up to {format_date(dates[1])}" in text
    assert "A hub manager should import" in text and 'enctype="multipart/form-data"' in text
    BankHoliday.objects.all().delete()
    assert "collab knows no bank holidays." in client.get(PAGE).content.decode()


def test_a_hub_manager_imports_govuks_file_and_the_import_is_audited(client, net):
    manager = hub_role(net, Role.HUB_MANAGER)
    act_as(client, manager)
    r = client.post(UPLOAD, {"file": _upload(EW_2028)})
    assert r.status_code == 302 and r["Location"] == PAGE
    stored = dict(BankHoliday.objects.filter(date__year=2028).values_list("date", "title"))
    assert stored == {dt.date.fromisoformat(e["date"]): e["title"] for e in EW_2028}
    assert not BankHoliday.objects.filter(date=dt.date(2028, 11, 30)).exists()  # Scotland's
    text = client.get(PAGE).content.decode()
    assert "Imported 8 bank holidays, 3 January 2028 to 26 December 2028: 8 added, 0 updated, 0 removed" in text
    audit = AuditEvent.objects.get(action="triage.bank_holidays.import")
    assert (audit.user_id, audit.role, audit.channel, audit.outcome) == (manager.user_id, Role.HUB_MANAGER, "web", "allowed")
    assert audit.reason.startswith("upload bank-holidays.json: 8 england-and-wales 2028-01-03..2028-12-26")
    # A holiday the next file drops within its dates goes, and the message says which
    r = client.post(UPLOAD, {"file": _upload([e for e in EW_2028 if e["date"] != "2028-05-29"])})
    assert r.status_code == 302
    assert ("7 bank holidays, 3 January 2028 to 26 December 2028: 0 added, 0 updated, 1 removed "
            "(Mon 29 May 2028 Spring bank holiday)") in client.get(PAGE).content.decode()


def test_an_upload_with_faults_lists_each_and_writes_nothing(client, net):
    act_as(client, hub_role(net, Role.HUB_MANAGER))
    events = [dict(e) for e in EW_2028]
    events[3]["date"] = "2028-02-30"
    del events[5]["title"]
    before = set(BankHoliday.objects.values_list("date", "title"))
    r = client.post(UPLOAD, {"file": _upload(events)})
    text = r.content.decode()
    assert r.status_code == 400 and text.count("nhsuk-error-summary__list") == 1
    assert "england-and-wales.events[3].date: not a date (&#39;2028-02-30&#39;; expected YYYY-MM-DD)" in text
    assert "england-and-wales.events[5].title: missing" in text
    assert "This file was refused: nothing was imported" in text and "<title>Error: Bank holidays" in text
    assert set(BankHoliday.objects.values_list("date", "title")) == before  # not even the good events
    assert not AuditEvent.objects.filter(action="triage.bank_holidays.import").exists()


def test_a_file_with_many_faults_lists_the_first_20_and_counts_the_rest(client, net):
    act_as(client, hub_role(net, Role.HUB_MANAGER))
    r = client.post(UPLOAD, {"file": _upload([_event("Bad", f"2028-13-{d:02d}") for d in range(1, 26)])})
    text = r.content.decode()
    assert r.status_code == 400
    assert "england-and-wales.events[19].date" in text and "england-and-wales.events[20].date" not in text
    assert "and 5 more faults" in text
    # The command line's refusal says the same
    assert str(BankHolidayImportError([f"fault {i}" for i in range(25)])).endswith("fault 19; and 5 more faults")


@pytest.mark.parametrize(("upload", "fault"), [
    (None, "Choose GOV.UK&#39;s bank-holidays.json file"),
    (SimpleUploadedFile("empty.json", b""), "The chosen file is empty"),
    (SimpleUploadedFile("big.json", b" " * (BankHolidayFileForm.MAX_BYTES + 1)), "The chosen file is 1024 KB"),
    (SimpleUploadedFile("page.html", b"<html>"), "page.html: not JSON (Expecting value at line 1 column 1)"),
    (SimpleUploadedFile("latin1.json", "{\"t\": \"caf\xe9\"}".encode("latin-1")), "latin1.json: not UTF-8 text (byte 10)"),
])
def test_an_upload_that_is_not_govuks_file_is_refused_by_name(client, net, upload, fault):
    act_as(client, hub_role(net, Role.HUB_MANAGER))
    count = BankHoliday.objects.count()
    r = client.post(UPLOAD, {"file": upload} if upload else {})
    assert r.status_code == 400 and fault in r.content.decode()
    assert BankHoliday.objects.count() == count


def test_a_file_saved_with_a_byte_order_mark_is_read():
    body = json.dumps({"england-and-wales": {"events": [_event("Christmas Day", "2028-12-25")]}})
    assert read_bytes(b"\xef\xbb\xbf" + body.encode(), name="f.json") == {dt.date(2028, 12, 25): "Christmas Day"}
    with pytest.raises(BankHolidayImportError, match="f.json: not JSON"):
        read_bytes(b"\xef\xbb\xbf", name="f.json")


def test_the_rules_page_links_to_the_bank_holidays(client, net):
    act_as(client, hub_role(net, Role.GP))
    assert f'href="{PAGE}"' in client.get("/triage/rules/").content.decode()  # before any rules are published
    triaged(net, patient(net))
    text = client.get("/triage/rules/").content.decode()
    assert f'href="{PAGE}"' in text and "not bank holidays" in text
