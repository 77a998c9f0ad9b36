"""Triage requests leave for the analytics store in its vocabulary, in every state."""

import datetime as dt

import pytest
from django.utils import timezone

from collab.analytics import store
from collab.analytics.metrics import connect_duckdb, metric_rows
from collab.core.tests.factories import actor, hub_session
from collab.organisations.models import Service
from collab.triage import exports, selectors, services
from collab.triage.models import RequestKind, Route, Source, Triage, TriageRequest, Urgency
from collab.triage.tests.factories import by_phone, hub_role, online, patient, triaged

pytestmark = pytest.mark.django_db


def test_every_choice_has_its_label_in_the_analytics_store():
    assert set(exports.CHANNEL) == set(Source.values)
    assert tuple(exports.CHANNEL.values()) == store.TRIAGE_CHANNELS
    assert set(exports.KIND) == set(RequestKind.values)
    assert set(exports.KIND.values()) == set(store.TRIAGE_REQUEST_KINDS)
    assert set(exports.STATUS) == set(TriageRequest.Status.values)
    assert set(exports.STATUS.values()) == set(store.TRIAGE_STATUSES)
    assert set(exports.URGENCY) == set(Urgency.values)
    assert set(exports.URGENCY.values()) == set(store.TRIAGE_URGENCIES)
    assert set(exports.ROUTE) == set(Route.values)
    assert set(exports.ROUTE.values()) == set(store.TRIAGE_ROUTES)
    assert set(exports.SERVICE) == set(Service.Kind.values)
    assert set(exports.SERVICE.values()) == set(store.TRIAGE_SERVICES)
    assert set(exports.METHOD) == set(Triage.Method.values)
    assert set(exports.METHOD.values()) == set(store.TRIAGE_METHODS)


def test_requests_in_every_state_are_exported_and_counted_by_route(net, form_open, tmp_path):
    waiting = by_phone(net, patient(net))
    pharmacy = triaged(net, patient(net), route="pharmacy", urgency="soon")
    emergency = triaged(net, patient(net), route="emergency", urgency="emergency")
    admin = online(net, patient(net), kind=RequestKind.ADMIN)  # routed by rule, no clinician
    hub_gp = hub_role(net)
    # Not "urgent": urgent means today, and after 23:00 a slot an hour away is tomorrow.
    booked = triaged(net, patient(net), route="hub", urgency="soon", clinician=hub_gp)
    hub_session(start=timezone.now() + dt.timedelta(hours=1))
    services.triage_book(actor=actor(hub_gp), actor_org_kind="collaborative", request=booked,
                         slot_id=selectors.earliest_suitable_slot(request=booked).pk)
    sent_back = triaged(net, patient(net), route="hub", clinician=hub_gp)
    services.request_send_back(actor=actor(hub_gp), actor_org_kind="collaborative", request=sent_back,
                               reason="Needs examination")
    retriaged = triaged(net, patient(net), route="hub", clinician=hub_gp)
    services.request_send_back(actor=actor(hub_gp), actor_org_kind="collaborative", request=retriaged,
                               reason="Needs examination")
    services.triage_record(actor=actor(hub_gp), actor_org_kind="collaborative", request=retriaged, urgency="soon",
                           route="practice", reason="Examination", safety_netting="111 if worse")

    rows = {r["request_id"]: r for r in exports.analytics_rows()}
    assert len(rows) == TriageRequest.objects.count() == 7
    row = rows[str(waiting.pk)]
    assert (row["status"], row["route"], row["service"], row["method"], row["first_triaged_at"]) == (
        "Waiting for triage", None, None, None, None)
    assert row["channel"] == "Phone call" and row["practice_ods"] == net.practice.ods_code
    assert row["pcn_ods"] == net.pcn.ods_code and row["submitted_at"].tzinfo is None
    row = rows[str(pharmacy.pk)]
    assert (row["route"], row["service"], row["urgency"], row["method"]) == (
        "Community pharmacy", "Community pharmacy", "Soon", "Clinician")
    assert row["first_triaged_at"] >= row["submitted_at"]
    assert (rows[str(emergency.pk)]["route"], rows[str(emergency.pk)]["service"]) == ("A&E or 999", None)
    assert rows[str(emergency.pk)]["status"] == "Closed"
    assert (rows[str(admin.pk)]["method"], rows[str(admin.pk)]["channel"]) == ("Rule", "Online form")
    assert rows[str(booked.pk)]["status"] == "Booked"
    row = rows[str(sent_back.pk)]
    assert (row["status"], row["route"], row["send_backs"]) == ("Waiting for triage", None, 1)
    assert row["first_triaged_at"] is not None  # its first triage still counts
    row = rows[str(retriaged.pk)]
    assert (row["route"], row["send_backs"]) == ("Practice", 1)
    first = retriaged.triages.get(number=1).triaged_at
    assert row["first_triaged_at"] == timezone.localtime(first).replace(tzinfo=None)

    path = tmp_path / "a.duckdb"
    store.refresh_collab(appointments=[], triage_requests=list(rows.values()), data_as_of=timezone.now(),
                         store=path)
    with store.open_store(path, read_only=True) as con:
        by_route = metric_rows(connect_duckdb(con), "triage_requests", ["route"], source="triage")
        sent = metric_rows(connect_duckdb(con), "sent_back_share", source="triage")
    assert {r["route"]: r["value"] for r in by_route} == {
        "A&E or 999": 1, "Community pharmacy": 1, "Practice": 2, "Remote hub": 1, "Not triaged yet": 2,
    }
    assert sent == [{"numerator": 2, "denominator": 6, "value": 2 / 6}]
