"""The consultation on the appointment page: the clinician of the appointment's service (the hub,
or enhanced access) writes the structured note of the shared record, linked to the appointment,
signs it and records the outcome. Every read and write is audited by the access function."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking import services
from collab.booking.models import Appointment, PracticeTask
from collab.booking.services import session_create
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PatientFactory,
    PcnFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    act_as,
    actor,
    hub_session,
)
from collab.ooh.tests.factories import ooh_clinician
from collab.organisations.models import Service
from collab.records.models import Consultation

pytestmark = pytest.mark.django_db

NOTE = {"history": "Cough for three weeks, no fever", "examination": "Speaking in full sentences, sats 97%",
        "assessment": "Post-viral cough", "plan": "Honey and lemon; no antibiotics",
        "safety_netting": "Call 111 if breathless or coughing blood"}


def _book(session, patient) -> Appointment:
    reception = RoleAssignmentFactory(organisation=patient.registered_practice)
    booked = services.appointment_book(actor=actor(reception), actor_org_kind="practice",
                                       slot_id=session.slots.first().pk, patient=patient, reason="Cough")
    return Appointment.objects.get(pk=booked.appointment_id)


@pytest.fixture
def hub():
    """A hub GP and an appointment in their session, for a patient of a member practice."""
    gp = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    patient = PatientFactory(registered_practice=PracticeFactory())
    return gp, _book(hub_session(clinician=gp.user), patient)


@pytest.fixture
def enhanced_access():
    """A GP acting in a PCN's enhanced access service, and an evening appointment in its slots."""
    pcn = PcnFactory()
    service = Service.objects.create(organisation=pcn, kind=Service.Kind.ENHANCED_ACCESS,
                                     name="Enhanced access (Hereford city)")
    gp = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP, service=service)
    evening = timezone.now().replace(hour=18, minute=30, second=0, microsecond=0) + dt.timedelta(days=1)
    session = session_create(service=service, clinician=gp.user, clinician_role=Role.GP, starts_at=evening,
                             ends_at=evening + dt.timedelta(minutes=90), slot_minutes=15, channel="telephone")
    patient = PatientFactory(registered_practice=PracticeFactory(parent=pcn))
    return gp, _book(session, patient)


def audit_since(before: int) -> list[tuple[str, str, str]]:
    return [(e.action, e.outcome, e.object_type) for e in AuditEvent.objects.order_by("sequence")[before:]]


def last_sequence() -> int:
    return AuditEvent.objects.count()


def consult(client, appointment, step: str, **data):
    return client.post(f"/hub/appointments/{appointment.pk}/consultation/", {"step": step, **NOTE, **data})


@pytest.mark.parametrize("where", ["hub", "enhanced_access"])
def test_the_clinician_writes_signs_and_completes_from_the_appointment_page(client, request, where):
    gp, appointment = request.getfixturevalue(where)
    act_as(client, gp)
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert "Start consultation" in page and 'id="consultation-form"' not in page
    client.post(f"/hub/appointments/{appointment.pk}/arrive/")
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert 'id="consultation-form"' in page and 'id="id_assessment"' in page and 'id="id_dmd_code"' in page

    # Saving starts the draft, linked to the appointment; each write is one allowed audit row.
    before = last_sequence()
    r = consult(client, appointment, "save")
    assert r.status_code == 302 and r["Location"].endswith("#consultation-note")
    c = Consultation.objects.get(appointment=appointment)
    assert (c.status, c.clinician_id, c.patient_id, c.assessment) == ("draft", gp.user_id, appointment.patient_id,
                                                                      NOTE["assessment"])
    assert (c.setting, c.service_id) == ({"hub": "hub", "enhanced_access": "enhanced_access"}[where], gp.service_id)
    assert audit_since(before) == [("record.write", "allowed", "consultation")] * 2

    before = last_sequence()
    consult(client, appointment, "problem", term="Post-viral cough", snomed_concept_id="")
    consult(client, appointment, "prescription", medication="Simple linctus", dosage="5ml three times a day",
            quantity="200ml", dmd_code="")
    # The note did not change, so only the problem and the prescription were written.
    assert audit_since(before) == [("record.write", "allowed", "problem"), ("record.write", "allowed", "prescription")]
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert "Post-viral cough" in page and "Simple linctus" in page

    before = last_sequence()
    r = consult(client, appointment, "finish", outcome="resolved_remotely", note="")
    assert r.status_code == 302
    c.refresh_from_db()
    appointment.refresh_from_db()
    assert c.is_signed and c.signed_by_id == gp.user_id
    assert (appointment.status, appointment.outcome) == ("fulfilled", "resolved_remotely")
    assert audit_since(before) == [("record.write", "allowed", "consultation.sign"),
                                   ("appointment.update", "allowed", "appointment")]

    before = last_sequence()
    r = client.get(r["Location"])
    page = r.content.decode()
    assert "Note signed. Consultation completed: Resolved remotely" in page
    assert "Post-viral cough" in page and 'id="consultation-form"' not in page
    # Reading the note on the appointment page is reading the record.
    assert audit_since(before) == [("patient.view", "allowed", "appointment"), ("record.view", "allowed", "appointment")]


def test_signing_names_each_missing_field_and_changes_nothing(client, hub):
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    before = last_sequence()
    r = client.post(f"/hub/appointments/{appointment.pk}/consultation/",
                    {"step": "finish", "history": "Typed before the mistake", "follow_up_needed": "on"})
    assert r.status_code == 400
    page = r.content.decode()
    for message in ["Enter the assessment before signing the note", "Enter the plan before signing the note",
                    "Enter the safety-netting advice before signing the note", "Say what follow-up is needed",
                    "Choose an outcome"]:
        assert message in page, message
    assert 'href="#id_assessment"' in page and 'href="#outcome"' in page
    assert "Typed before the mistake" in page  # nothing typed is lost
    assert not Consultation.objects.exists()
    appointment.refresh_from_db()
    assert appointment.status == "arrived"
    assert audit_since(before) == [("patient.view", "allowed", "appointment")]  # the page shown again


def test_a_face_to_face_outcome_needs_its_note_before_anything_is_signed(client, hub):
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    consult(client, appointment, "save")
    r = consult(client, appointment, "finish", outcome="face_to_face", note="")
    assert r.status_code == 400 and "Say what the practice needs to see the patient for" in r.content.decode()
    assert Consultation.objects.get(appointment=appointment).status == "draft"
    r = consult(client, appointment, "finish", outcome="face_to_face", note="Examine the chest")
    assert r.status_code == 302
    task = PracticeTask.objects.get(appointment=appointment)
    assert (task.practice_id, task.description) == (appointment.practice_id, "Examine the chest")
    assert Consultation.objects.get(appointment=appointment).is_signed


def test_problem_and_prescription_codes_are_checked_and_the_draft_kept(client, hub):
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    r = consult(client, appointment, "problem", term="", snomed_concept_id="")
    assert r.status_code == 400 and "Enter the problem" in r.content.decode()
    r = consult(client, appointment, "problem", term="Cough", snomed_concept_id="38341004")
    assert r.status_code == 400 and "The SNOMED CT concept id is not valid" in r.content.decode()
    r = consult(client, appointment, "prescription", medication="Linctus", dmd_code="12345")
    assert r.status_code == 400 and "The dm+d code is not valid" in r.content.decode()
    c = Consultation.objects.get(appointment=appointment)
    assert c.assessment == NOTE["assessment"] and not c.problems.exists() and not c.prescriptions.exists()


def test_a_clinician_with_no_relationship_is_refused_and_audited(client, hub):
    _, appointment = hub
    services.appointment_arrive(actor=actor(hub[0]), actor_org_kind="collaborative", appointment=appointment)
    stranger = ooh_clinician()  # out of hours: no case for this patient
    act_as(client, stranger)
    before = last_sequence()
    r = consult(client, appointment, "save")
    assert r.status_code == 403 and NOTE["assessment"].encode() not in r.content
    assert audit_since(before) == [("record.write", "refused", "consultation")]
    assert not Consultation.objects.exists()


def test_only_the_appointments_service_writes_its_note(client, enhanced_access):
    """A hub GP who may see the patient (a hub appointment too) does not consult on an enhanced
    access appointment: its note belongs to enhanced access."""
    ea_gp, appointment = enhanced_access
    services.appointment_arrive(actor=actor(ea_gp), actor_org_kind="collaborative", appointment=appointment)
    hub_gp = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    _book(hub_session(), appointment.patient)
    act_as(client, hub_gp)
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert 'id="consultation-form"' not in page and "Did not attend" not in page
    r = consult(client, appointment, "save")
    assert r.status_code == 400
    assert "only its clinicians, acting in that service, write its note" in r.content.decode()
    assert not Consultation.objects.exists()


def test_the_practice_reads_the_signed_note_on_the_appointment_and_the_manager_does_not(client, hub):
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    consult(client, appointment, "save")
    consult(client, appointment, "finish", outcome="resolved_remotely")
    navigator = RoleAssignmentFactory(organisation=appointment.practice, role=Role.CARE_NAVIGATOR)
    act_as(client, navigator)
    before = last_sequence()
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert NOTE["assessment"] in page and 'id="consultation-form"' not in page
    assert audit_since(before) == [("patient.view", "allowed", "appointment"), ("record.view", "allowed", "appointment")]
    manager = RoleAssignmentFactory(organisation=appointment.practice, role=Role.PRACTICE_MANAGER)
    act_as(client, manager)
    before = last_sequence()
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert NOTE["assessment"] not in page
    assert audit_since(before) == [("patient.view", "allowed", "appointment")]


def test_a_draft_is_read_back_into_the_form_and_its_reading_audited(client, hub):
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    consult(client, appointment, "save")
    before = last_sequence()
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert f">{NOTE['safety_netting']}</textarea>" in page and 'id="note-status">Draft' in page
    assert audit_since(before) == [("patient.view", "allowed", "appointment"), ("record.view", "allowed", "appointment")]


def test_a_signed_note_with_the_outcome_still_open_offers_the_outcome_alone(client, hub):
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    consult(client, appointment, "save")
    from collab.records import services as records

    records.consultation_sign(actor=actor(gp), actor_org_kind="collaborative",
                              consultation=Consultation.objects.get(appointment=appointment))
    page = client.get(f"/hub/appointments/{appointment.pk}/").content.decode()
    assert 'id="consultation-form"' not in page and "Your note is signed" in page
    r = client.post(f"/hub/appointments/{appointment.pk}/complete/", {"outcome": "referred", "note": ""})
    assert r.status_code == 302
    appointment.refresh_from_db()
    assert appointment.outcome == "referred"


def _shown(page: str) -> dict[str, str | None]:
    """What the consultation form shows outside the note: the outcome ticked, and each other field's value."""
    ticked = re.findall(r'<input[^>]*name="outcome"[^>]*>', page)
    values = {"outcome": next((re.search(r'value="([^"]*)"', i)[1] for i in ticked if " checked" in i), None)}
    values["note"] = re.search(r'<textarea[^>]*id="id_note"[^>]*>([^<]*)</textarea>', page)[1].strip()
    for name in ("term", "snomed_concept_id", "medication", "dosage", "quantity", "dmd_code"):
        tag = re.search(rf'<input[^>]*id="id_{name}"[^>]*>', page)[0]
        values[name] = (re.search(r'value="([^"]*)"', tag) or [None, ""])[1]
    return values


TYPED = {"outcome": "face_to_face", "note": "Listen to the chest", "term": "Wheeze", "snomed_concept_id": "56018004",
         "medication": "Simple linctus", "dosage": "5ml three times a day", "quantity": "200ml", "dmd_code": ""}


@pytest.mark.parametrize("step, used", [("problem", ("term", "snomed_concept_id")),
                                        ("prescription", ("medication", "dosage", "quantity", "dmd_code")),
                                        ("save", ())], ids=["add-problem", "add-prescription", "save-draft"])
def test_the_outcome_and_other_unsaved_fields_survive_a_reload_unsaved(client, hub, step, used):
    """"Add problem" (or "Add prescription", or "Save draft") saves the note and reloads the page: the
    outcome already chosen, its note for the practice, and a problem or prescription typed but not
    added are shown again as typed, once. None of them is saved, and nothing is signed."""
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    r = consult(client, appointment, step, **TYPED)
    assert r.status_code == 302
    page = client.get(r["Location"]).content.decode()
    assert _shown(page) == {**TYPED, **dict.fromkeys(used, "")}  # only what the step added is cleared

    c = Consultation.objects.get(appointment=appointment)
    appointment.refresh_from_db()
    assert (c.status, appointment.status, appointment.outcome, appointment.outcome_note) == ("draft", "arrived", "", "")
    assert c.problems.count() == (step == "problem") and c.prescriptions.count() == (step == "prescription")
    assert not PracticeTask.objects.exists()
    # Shown once: the next visit to the page starts the outcome afresh.
    assert _shown(client.get(f"/hub/appointments/{appointment.pk}/").content.decode())["outcome"] is None


def test_the_outcome_survives_a_refused_problem_too(client, hub):
    gp, appointment = hub
    act_as(client, gp)
    services.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    r = consult(client, appointment, "problem", **{**TYPED, "term": ""})
    page = r.content.decode()
    assert r.status_code == 400 and "Enter the problem" in page and "Choose an outcome" not in page
    assert _shown(page) == {**TYPED, "term": ""}
