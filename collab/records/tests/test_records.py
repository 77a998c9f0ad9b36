"""The collaborative's record: notes are signed then immutable (the database refuses), corrections
are addenda, an out-of-hours review lands on the practice's task list with the note attached."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from collab.accounts.models import Role
from collab.booking.models import PracticeTask
from collab.core.models import AuditEvent
from collab.core.tests.factories import PatientFactory, RoleAssignmentFactory, actor
from collab.ooh.models import OohCase
from collab.ooh.tests.factories import OohCaseFactory, ooh_clinician
from collab.patients.access import AccessDenied
from collab.records import services
from collab.records.forms import NoteForm
from collab.records.models import Addendum, Consultation, Prescription, Problem
from collab.records.snomed import is_concept_id

pytestmark = pytest.mark.django_db
NOTES = {"history": "Chest pain 2 hours", "examination": "Obs normal", "assessment": "Musculoskeletal chest pain",
         "plan": "Paracetamol", "safety_netting": "999 if pain spreads or breathless"}


@pytest.fixture
def ooh():
    clinician = ooh_clinician()
    case = OohCaseFactory(service=clinician.service)
    return clinician, case


def start(clinician, case) -> Consultation:
    return services.consultation_start(actor=actor(clinician), actor_org_kind="collaborative", patient=case.patient,
                                       ooh_case=case)


def signed(clinician, case) -> Consultation:
    c = start(clinician, case)
    services.consultation_save(actor=actor(clinician), actor_org_kind="collaborative", consultation=c, notes=NOTES)
    services.problem_add(actor=actor(clinician), actor_org_kind="collaborative", consultation=c,
                         term="Chest wall pain", snomed_concept_id="")
    services.prescription_add(actor=actor(clinician), actor_org_kind="collaborative", consultation=c,
                              medication="Paracetamol 500mg tablets", dosage="2 four times a day", dmd_code="322236009")
    return services.consultation_sign(actor=actor(clinician), actor_org_kind="collaborative", consultation=c)


def test_sign_needs_assessment_plan_and_safety_netting(ooh):
    clinician, case = ooh
    c = start(clinician, case)
    with pytest.raises(services.RecordError, match="an assessment, a plan, safety-netting advice"):
        services.consultation_sign(actor=actor(clinician), actor_org_kind="collaborative", consultation=c)
    c = signed(clinician, case)
    assert c.is_signed and c.setting == "out_of_hours"
    case.refresh_from_db()
    assert case.status == OohCase.Status.COMPLETED


@pytest.mark.parametrize("field", services.NOTE_FIELDS)
def test_the_form_the_service_and_the_database_agree_on_what_a_signature_needs(ooh, field):
    """One rule, services.SIGNING_NEEDS, enforced three times: with only `field` left empty, the
    note form (naming the field), the service and the database each refuse a signature exactly
    when the rule lists that field. A field added to the rule, or a second list in the form, fails here."""
    clinician, case = ooh
    need = next((n for n in services.SIGNING_NEEDS if n.field == field), None)
    notes = {**NOTES, field: "  "}

    form = NoteForm(notes)
    assert form.is_valid()
    assert form.check_signable() is (need is None)
    assert form.errors.get(field) == ([need.to_do] if need else None)

    c = start(clinician, case)
    services.consultation_save(actor=actor(clinician), actor_org_kind="collaborative", consultation=c, notes=notes)
    if need is None:
        assert services.consultation_sign(actor=actor(clinician), actor_org_kind="collaborative",
                                          consultation=c).is_signed
        return
    with pytest.raises(services.RecordError) as refused:
        services.consultation_sign(actor=actor(clinician), actor_org_kind="collaborative", consultation=c)
    assert refused.value.message == "Before signing, record " + need.missing
    with pytest.raises(IntegrityError), transaction.atomic():
        Consultation.objects.filter(pk=c.pk).update(status="signed", signed_at=timezone.now(),
                                                    signed_by=clinician.user)


def test_signed_notes_are_immutable_in_the_database(ooh):
    clinician, case = ooh
    c = signed(clinician, case)
    for attempt in (
        lambda: Consultation.objects.filter(pk=c.pk).update(plan="changed"),
        lambda: connection.cursor().execute("DELETE FROM records_consultation WHERE id = %s", [c.pk]),
        lambda: Problem.objects.create(consultation=c, term="added later"),
        lambda: Problem.objects.filter(consultation=c).update(term="changed"),
        lambda: Prescription.objects.filter(consultation=c).delete(),
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            attempt()
    with pytest.raises(services.RecordError, match="addendum"):
        services.consultation_save(actor=actor(clinician), actor_org_kind="collaborative", consultation=c, notes={})
    a = services.addendum_add(actor=actor(clinician), actor_org_kind="collaborative", consultation=c,
                              text="Correction: paracetamol 1g")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Addendum.objects.filter(pk=a.pk).update(text="changed")
    c.refresh_from_db()
    assert c.plan == "Paracetamol"


def test_addenda_only_on_signed_notes_even_in_the_database(ooh):
    clinician, case = ooh
    c = start(clinician, case)
    with pytest.raises(services.RecordError):
        services.addendum_add(actor=actor(clinician), actor_org_kind="collaborative", consultation=c, text="x")
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Addendum.objects.create(consultation=c, text="x", author=clinician.user, author_role="gp",
                                created_at=c.started_at)


def test_only_the_author_edits_a_draft(ooh):
    clinician, case = ooh
    c = start(clinician, case)
    colleague = ooh_clinician(Role.ADVANCED_NURSE_PRACTITIONER)
    OohCaseFactory(service=colleague.service, patient=case.patient)
    with pytest.raises(services.RecordError, match="Only the clinician"):
        services.consultation_save(actor=actor(colleague), actor_org_kind="collaborative", consultation=c, notes=NOTES)


def test_codes_are_checked(ooh):
    clinician, case = ooh
    c = start(clinician, case)
    with pytest.raises(services.RecordError, match="SNOMED"):
        services.problem_add(actor=actor(clinician), actor_org_kind="collaborative", consultation=c,
                             term="Hypertension", snomed_concept_id="38341004")
    services.problem_add(actor=actor(clinician), actor_org_kind="collaborative", consultation=c,
                         term="Hypertension", snomed_concept_id="38341003")


@pytest.mark.parametrize(("value", "ok"), [
    ("38341003", True), ("871731000000106", True), ("42109611000001109", True), ("38341004", False),
    ("038341003", False), ("12345", False), ("３８３４１００３", False), ("1234567890123456789", False),
    ("38341013", False),  # check digit right for a different partition? no: a valid id has partition 00/10
])
def test_snomed_concept_ids(value, ok):
    assert is_concept_id(value) is ok


def test_review_lands_on_the_registered_practice_with_the_note_and_the_practice_closes_it(ooh, client):
    clinician, case = ooh
    c = signed(clinician, case)
    task = services.review_request(actor=actor(clinician), actor_org_kind="collaborative", consultation=c,
                                   urgent=True, description="Review chest pain tomorrow")
    assert (task.practice_id, task.kind, task.urgent, task.consultation_id) == (
        case.patient.registered_practice_id, PracticeTask.Kind.REVIEW, True, c.pk)
    gp = RoleAssignmentFactory(organisation=case.patient.registered_practice, role=Role.GP)
    client.force_login(gp.user)
    s = client.session
    s["collab_acting_assignment"], s["demo_persona"] = gp.pk, True
    s.save()
    gp.user.is_demo_persona = True
    gp.user.save()
    page = client.get("/hub/tasks/").content.decode()
    assert "Review chest pain tomorrow" in page and f"/records/consultations/{c.pk}/" in page
    note = client.get(f"/records/consultations/{c.pk}/")
    assert note.status_code == 200 and b"Musculoskeletal chest pain" in note.content
    client.post(f"/hub/tasks/{task.pk}/done/")
    task.refresh_from_db()
    assert task.status == "done"


def test_a_practice_cannot_read_another_practices_patients_note(ooh, client):
    clinician, case = ooh
    c = signed(clinician, case)
    other = RoleAssignmentFactory(role=Role.GP)
    client.force_login(other.user)
    s = client.session
    s["collab_acting_assignment"], s["demo_persona"] = other.pk, True
    s.save()
    other.user.is_demo_persona = True
    other.user.save()
    r = client.get(f"/records/consultations/{c.pk}/")
    assert r.status_code == 403 and b"Musculoskeletal" not in r.content
    assert AuditEvent.objects.filter(user_id=other.user_id, outcome="refused", action="record.view").count() == 1


def test_refused_writes_are_audited_and_change_nothing(ooh):
    clinician, case = ooh
    stranger = ooh_clinician()
    stranger_patient = PatientFactory()
    before = Consultation.objects.count()
    with pytest.raises(AccessDenied):
        services.consultation_start(actor=actor(stranger), actor_org_kind="collaborative", patient=stranger_patient)
    assert Consultation.objects.count() == before
    assert AuditEvent.objects.filter(patient_id=stranger_patient.pk, outcome="refused").count() == 1


def _hub_appointment_arrived():
    from collab.booking import services as booking
    from collab.booking.models import Appointment
    from collab.core.tests.factories import CollaborativeFactory, hub_session

    gp = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    patient = PatientFactory()
    reception = RoleAssignmentFactory(organisation=patient.registered_practice)
    booked = booking.appointment_book(actor=actor(reception), actor_org_kind="practice",
                                      slot_id=hub_session(clinician=gp.user).slots.first().pk, patient=patient,
                                      reason="Cough")
    appointment = Appointment.objects.get(pk=booked.appointment_id)
    booking.appointment_arrive(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    return gp, appointment


def test_an_appointments_note_is_linked_to_it_and_one_draft_per_clinician():
    gp, appointment = _hub_appointment_arrived()
    first = services.appointment_draft(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    again = services.appointment_draft(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    assert first.pk == again.pk and first.appointment_id == appointment.pk and first.setting == "hub"
    other = _hub_appointment_arrived()[1].patient  # the hub may see them too
    with pytest.raises(services.RecordError, match="another patient"):
        services.consultation_start(actor=actor(gp), actor_org_kind="collaborative", patient=other,
                                    appointment=appointment)


def test_completing_checks_everything_before_signing():
    from collab.booking import services as booking

    gp, appointment = _hub_appointment_arrived()
    c = services.appointment_draft(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment)
    services.consultation_save(actor=actor(gp), actor_org_kind="collaborative", consultation=c, notes=NOTES)
    signs = AuditEvent.objects.filter(object_type="consultation.sign")
    with pytest.raises(services.RecordError, match="Choose an outcome"):
        services.appointment_consultation_complete(actor=actor(gp), actor_org_kind="collaborative", consultation=c,
                                                   outcome="", outcome_note="")
    booking.appointment_cancel(actor=actor(gp), actor_org_kind="collaborative", appointment=appointment,
                               reason="Patient phoned to cancel")
    with pytest.raises(services.RecordError, match="already cancelled"):
        services.appointment_consultation_complete(actor=actor(gp), actor_org_kind="collaborative", consultation=c,
                                                   outcome="resolved_remotely", outcome_note="")
    c.refresh_from_db()
    assert c.status == "draft" and not signs.exists()
    # The cancelled appointment was the hub's only reason to look: no new note now.
    with pytest.raises(AccessDenied):
        services.consultation_start(actor=actor(gp), actor_org_kind="collaborative", patient=appointment.patient,
                                    appointment=appointment)
