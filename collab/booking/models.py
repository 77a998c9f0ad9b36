"""The remote hub: clinicians' sessions make slots; practices book their patients into them.

The database, not the code, guarantees that a slot holds at most one live appointment: see the
partial unique constraint ``one_live_appointment_per_slot`` (docs/adr/0002-booking-guarantee.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from collab.accounts.models import Role


class DeliveryChannel(models.TextChoices):
    TELEPHONE = "telephone", "Telephone"
    VIDEO = "video", "Video"
    ONLINE = "online", "Online message"
    IN_PERSON = "in_person", "In person"


# FHIR UK Core / GP Connect delivery channel codes.
FHIR_DELIVERY_CHANNEL = {
    DeliveryChannel.TELEPHONE: "Telephone",
    DeliveryChannel.VIDEO: "Video",
    DeliveryChannel.ONLINE: "Video",  # GP Connect has no "online"; closest remote channel.
    DeliveryChannel.IN_PERSON: "In-person",
}

class SlotType(models.TextChoices):
    """What a slot is for: lets analytics show demand by kind of work (phlebotomy included)."""

    GENERAL = "general", "General consultation"
    PHLEBOTOMY = "phlebotomy", "Phlebotomy"
    LONG_TERM_CONDITION = "long_term_condition", "Long-term condition review"
    MEDICATION_REVIEW = "medication_review", "Medication review"


REMOTE_CHANNELS = frozenset({DeliveryChannel.TELEPHONE, DeliveryChannel.VIDEO, DeliveryChannel.ONLINE})


class HubSession(models.Model):
    """A clinician's session at a service (the FHIR Schedule). Its slots are made when it is created."""

    service = models.ForeignKey("organisations.Service", on_delete=models.PROTECT, related_name="sessions")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hub_sessions")
    clinician_role = models.CharField(max_length=32, choices=Role.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    slot_minutes = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=16, choices=DeliveryChannel.choices)
    slot_type = models.CharField(max_length=32, choices=SlotType.choices, default=SlotType.GENERAL)
    reserved_for = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    capacity_request = models.ForeignKey(
        "CapacityRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="session_starts_before_ends"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5, slot_minutes__lte=120), name="slot_minutes_range"),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} {self.starts_at:%Y-%m-%d %H:%M}"


class Slot(models.Model):
    class Status(models.TextChoices):
        FREE = "free", "Free"
        BUSY = "busy", "Booked"
        UNAVAILABLE = "busy-unavailable", "Unavailable"

    session = models.ForeignKey(HubSession, on_delete=models.CASCADE, related_name="slots")
    service = models.ForeignKey("organisations.Service", on_delete=models.PROTECT, related_name="slots")
    # No index of its own: slot_clinician_start (clinician, starts_at) serves it, and every booking
    # writes each of the slot's indexes (ADR 0006).
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=DeliveryChannel.choices)
    clinician_role = models.CharField(max_length=32, choices=Role.choices)
    slot_type = models.CharField(max_length=32, choices=SlotType.choices, default=SlotType.GENERAL)
    reserved_for = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.FREE)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="slot_status_start"),
            models.Index(fields=["clinician", "starts_at"], name="slot_clinician_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="slot_starts_before_ends"),
            models.CheckConstraint(
                condition=Q(status__in=["free", "busy", "busy-unavailable"]), name="slot_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Slot {self.pk} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_pooled(self) -> bool:
        return self.reserved_for_id is None


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        ARRIVED = "arrived", "Arrived"
        FULFILLED = "fulfilled", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NOSHOW = "noshow", "Did not attend"

    class Outcome(models.TextChoices):
        RESOLVED_REMOTELY = "resolved_remotely", "Resolved remotely"
        FACE_TO_FACE = "face_to_face", "Needs face-to-face at the practice"
        REFERRED = "referred", "Referred elsewhere"
        # In-person work such as phlebotomy: done, nothing to resolve or refer.
        SEEN_IN_PERSON = "seen_in_person", "Seen in person"

    LIVE_STATUSES = ("booked", "arrived", "fulfilled", "noshow")

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="hub_appointments")
    # No index of its own: appt_practice_status (practice, status) serves it (ADR 0006).
    practice = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    used_reserved_capacity = models.BooleanField(default=False)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    cancellation_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["slot__starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot"], condition=~Q(status="cancelled"), name="one_live_appointment_per_slot"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["booked", "arrived", "fulfilled", "cancelled", "noshow"]),
                name="appointment_status_valid",
            ),
            # A completed appointment has an outcome; nothing else does.
            models.CheckConstraint(
                condition=(Q(status="fulfilled") & ~Q(outcome="")) | (~Q(status="fulfilled") & Q(outcome="")),
                name="outcome_iff_fulfilled",
            ),
            models.CheckConstraint(
                condition=(Q(status="cancelled") & ~Q(cancellation_reason=""))
                | (~Q(status="cancelled") & Q(cancellation_reason="")),
                name="cancellation_reason_iff_cancelled",
            ),
        ]
        indexes = [models.Index(fields=["practice", "status"], name="appt_practice_status")]

    def __str__(self) -> str:
        return f"Appointment {self.pk}"


class AppointmentEvent(models.Model):
    """Who moved an appointment to which status, when: immutable history rows."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=16, choices=Appointment.Status.choices)
    occurred_at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]


class CapacityRequest(models.Model):
    """A practice asks to buy extra hub capacity; the hub manager decides."""

    class Reason(models.TextChoices):
        STAFF_SICKNESS = "staff_sickness", "Staff sickness"
        VACANCY = "vacancy", "Vacancy or staff leaving"
        LEAVE = "leave", "Planned leave"
        DEMAND = "demand", "Higher demand than usual"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    practice = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="capacity_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    first_date = models.DateField()
    last_date = models.DateField()
    slots_requested = models.PositiveIntegerField()
    channel = models.CharField(max_length=16, choices=DeliveryChannel.choices, blank=True)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    slots_reserved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(first_date__lte=models.F("last_date")), name="capacity_dates_ordered"),
            models.CheckConstraint(condition=Q(slots_requested__gte=1), name="capacity_at_least_one_slot"),
            models.CheckConstraint(
                condition=(Q(status="requested") & Q(decided_by__isnull=True) & Q(decided_at__isnull=True))
                | (~Q(status="requested") & Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="capacity_decision_paired",
            ),
        ]


class UsageEntry(models.Model):
    """The metering ledger: one row per use of hub capacity (+1) and per cancellation (-1)."""

    practice = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="usage")
    occurred_at = models.DateTimeField()
    slot_starts_at = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField()
    reserved = models.BooleanField()
    delta = models.SmallIntegerField()

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(delta__in=[1, -1]), name="usage_delta_unit")]


class PracticeTask(models.Model):
    """Work landing on a practice's list from the collaborative (e.g. a face-to-face follow-up)."""

    class Kind(models.TextChoices):
        FACE_TO_FACE = "face_to_face", "Face-to-face follow-up"
        REVIEW = "review", "Review requested"

    class Status(models.TextChoices):
        OPEN = "open", "To do"
        DONE = "done", "Done"

    practice = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="tasks")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="practice_tasks")
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    # The signed note behind the task (an out-of-hours review): the practice reads it on the task.
    consultation = models.ForeignKey(
        "records.Consultation", null=True, blank=True, on_delete=models.PROTECT, related_name="practice_tasks"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    urgent = models.BooleanField(default=False)
    description = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-urgent", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True) & Q(closed_by__isnull=True))
                | (Q(status="done") & Q(closed_at__isnull=False) & Q(closed_by__isnull=False)),
                name="task_closed_paired",
            ),
        ]


class DutyDoctor(models.Model):
    """Which hub clinician is duty doctor for which practice on a day, and how to reach them."""

    date = models.DateField()
    practice = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="duties")
    contact = models.CharField(max_length=100)

    class Meta:
        ordering = ["date", "practice__name"]
        constraints = [models.UniqueConstraint(fields=["date", "practice"], name="one_duty_doctor_per_practice_day")]
