"""A Hypothesis state machine books, cancels, rebooks and views, and checks the invariants after every step.

Invariants: no slot has two live appointments; a slot is busy exactly when it has a live
appointment; every patient view writes exactly one audit row (allowed or refused); and the
services' answers agree with a plain model of the hub.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db.models import Count, Q
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from collab.accounts.models import Role, RoleAssignment, User
from collab.accounts.services import actor_from_assignment
from collab.booking import services
from collab.booking.models import Appointment, Slot
from collab.core.models import AuditEvent
from collab.organisations.models import Organisation, Service
from collab.patients.access import AccessDenied, Action, access_patient
from collab.patients.models import Patient
from collab.patients.nhs_number import with_check_digit

SLOTS = 4
PATIENTS = 3
_run = itertools.count(1)


def _nhs_numbers():
    for n in itertools.count(100_000):
        number = with_check_digit(f"999{n:06d}")
        if number:
            yield number


_numbers = _nhs_numbers()


class BookingMachine(RuleBasedStateMachine):
    """Each run builds its own small hub (a practice, a hub GP, a session of slots) in the test transaction."""

    @initialize()
    def build_hub(self):
        k = next(_run)
        collaborative = Organisation.objects.create(ods_code=f"SMC{k}", name="Collaborative", kind="collaborative")
        practice = Organisation.objects.create(ods_code=f"SMP{k}", name="Practice", kind="practice",
                                               parent=collaborative)
        hub = Service.objects.create(organisation=collaborative, kind=Service.Kind.REMOTE_HUB, name="Hub")
        reception = User.objects.create(username=f"sm.reception.{k}")
        gp = User.objects.create(username=f"sm.gp.{k}")
        self.practice_actor = actor_from_assignment(
            RoleAssignment.objects.create(user=reception, organisation=practice, role=Role.CARE_NAVIGATOR))
        self.hub_actor = actor_from_assignment(
            RoleAssignment.objects.create(user=gp, organisation=collaborative, role=Role.GP))
        starts = (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        session = services.session_create(service=hub, clinician=gp, clinician_role=Role.GP, starts_at=starts,
                                           ends_at=starts + dt.timedelta(minutes=15 * SLOTS), slot_minutes=15,
                                           channel="telephone")
        self.slot_ids = list(session.slots.order_by("starts_at").values_list("pk", flat=True))
        self.patients = [
            Patient.objects.create(nhs_number=next(_numbers), given_name="Test", family_name=f"Patient{i}",
                                   date_of_birth=dt.date(1970, 1, 1), registered_practice=practice)
            for i in range(PATIENTS)
        ]
        self.live: dict[int, int] = {}  # slot id -> live appointment id, as the model expects
        self.cancelled_slots: set[int] = set()

    # ------------------------------------------------------------------ rules

    @rule(slot=st.integers(0, SLOTS - 1), patient=st.integers(0, PATIENTS - 1))
    def book(self, slot, patient):
        slot_id = self.slot_ids[slot]
        self._book(slot_id, self.patients[patient])

    @rule(data=st.data())
    def rebook(self, data):
        """Book a slot whose appointment was cancelled: it must be free again."""
        freed = sorted(self.cancelled_slots - set(self.live))
        if not freed:
            return
        slot_id = data.draw(st.sampled_from(freed))
        self._book(slot_id, data.draw(st.sampled_from(self.patients)))

    @rule(data=st.data())
    def cancel(self, data):
        if not self.live:
            return
        slot_id = data.draw(st.sampled_from(sorted(self.live)))
        appointment = Appointment.objects.get(pk=self.live[slot_id])
        services.appointment_cancel(actor=self.practice_actor, actor_org_kind="practice", appointment=appointment,
                                    reason="Patient no longer needs it")
        del self.live[slot_id]
        self.cancelled_slots.add(slot_id)

    @rule(data=st.data())
    def cancel_twice(self, data):
        """Cancelling an already cancelled appointment is refused and changes nothing."""
        done = list(Appointment.objects.filter(slot_id__in=self.slot_ids, status="cancelled"))
        if not done:
            return
        appointment = data.draw(st.sampled_from(done))
        with pytest.raises(services.InvalidTransition):
            services.appointment_cancel(actor=self.practice_actor, actor_org_kind="practice",
                                        appointment=appointment, reason="Again")

    @rule(patient=st.integers(0, PATIENTS - 1), as_hub=st.booleans())
    def view(self, patient, as_hub):
        target = self.patients[patient]
        actor, kind = (self.hub_actor, "collaborative") if as_hub else (self.practice_actor, "practice")
        before = AuditEvent.objects.filter(patient_id=target.pk, action=Action.VIEW).count()
        # The hub's relationship is a current (not cancelled) hub appointment.
        expect_allowed = not as_hub or Appointment.objects.filter(patient=target).exclude(status="cancelled").exists()
        try:
            access_patient(actor=actor, actor_org_kind=kind, patient=target, action=Action.VIEW,
                           object_type="patient", object_id=target.pk)
            allowed = True
        except AccessDenied:
            allowed = False
        assert allowed == expect_allowed
        rows = AuditEvent.objects.filter(patient_id=target.pk, action=Action.VIEW).order_by("-sequence")
        assert rows.count() == before + 1, "a patient view must leave exactly one audit row"
        assert rows.first().outcome == ("allowed" if allowed else "refused")

    def _book(self, slot_id: int, patient: Patient):
        audit_before = AuditEvent.objects.filter(patient_id=patient.pk, action=Action.BOOK).count()
        try:
            booked = services.appointment_book(actor=self.practice_actor, actor_org_kind="practice", slot_id=slot_id,
                                               patient=patient, reason="State machine")
        except services.SlotUnavailable:
            assert slot_id in self.live, "a free slot was refused"
        else:
            assert slot_id not in self.live, "a busy slot was booked twice"
            self.live[slot_id] = booked.appointment_id
        assert AuditEvent.objects.filter(patient_id=patient.pk, action=Action.BOOK).count() == audit_before + 1

    # ------------------------------------------------------------------ invariants

    @invariant()
    def no_slot_has_two_live_appointments(self):
        if not hasattr(self, "slot_ids"):
            return
        doubles = (Appointment.objects.filter(slot_id__in=self.slot_ids).exclude(status="cancelled")
                   .values("slot_id").annotate(n=Count("id")).filter(n__gt=1))
        assert not doubles.exists()

    @invariant()
    def slot_status_agrees_with_appointments(self):
        if not hasattr(self, "slot_ids"):
            return
        for slot in Slot.objects.filter(pk__in=self.slot_ids).annotate(
                live=Count("appointments", filter=~Q(appointments__status="cancelled"))):
            assert slot.status == ("busy" if slot.live else "free"), f"slot {slot.pk} is {slot.status} with {slot.live} live"
            assert (slot.pk in self.live) == bool(slot.live)

    @invariant()
    def usage_ledger_balances(self):
        if not hasattr(self, "slot_ids"):
            return
        live = Appointment.objects.filter(slot_id__in=self.slot_ids).exclude(status="cancelled").count()
        total = sum(Appointment.objects.filter(slot_id__in=self.slot_ids).values_list("usage__delta", flat=True))
        assert total == live


def test_booking_state_machine(db):
    run_state_machine_as_test(
        BookingMachine,
        settings=settings(max_examples=40, stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
