"""Out of hours: who is on shift, and the cases waiting for them (from NHS 111 and triage)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from collab.accounts.models import Role


class OohShift(models.Model):
    """A clinician on shift for the out-of-hours service, at a base or in the visiting car."""

    service = models.ForeignKey("organisations.Service", on_delete=models.PROTECT, related_name="ooh_shifts")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ooh_shifts")
    role = models.CharField(max_length=32, choices=Role.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    base = models.CharField(max_length=100)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="ooh_shift_starts_before_ends"),
        ]


class OohCase(models.Model):
    """A patient waiting for the out-of-hours service."""

    class Source(models.TextChoices):
        NHS_111 = "nhs111", "NHS 111"
        TRIAGE = "triage", "Collaborative triage"

    class Priority(models.TextChoices):
        # Disposition timeframes as NHS 111 passes them to out of hours.
        URGENT = "urgent", "Urgent: within 2 hours"
        LESS_URGENT = "less_urgent", "Less urgent: within 6 hours"
        ROUTINE = "routine", "Routine: within 12 hours"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        IN_CONSULTATION = "in_consultation", "In consultation"
        COMPLETED = "completed", "Completed"

    PRIORITY_ORDER = {"urgent": 0, "less_urgent": 1, "routine": 2}

    service = models.ForeignKey("organisations.Service", on_delete=models.PROTECT, related_name="ooh_cases")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="ooh_cases")
    source = models.CharField(max_length=16, choices=Source.choices)
    source_reference = models.CharField(max_length=64, blank=True)
    presenting_complaint = models.CharField(max_length=500)
    priority = models.CharField(max_length=16, choices=Priority.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    received_at = models.DateTimeField()
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["patient", "received_at"], name="ooh_case_patient_received")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["waiting", "in_consultation", "completed"]),
                                   name="ooh_case_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=["urgent", "less_urgent", "routine"]),
                                   name="ooh_case_priority_valid"),
            models.CheckConstraint(
                condition=(Q(status="completed") & Q(completed_at__isnull=False))
                | (~Q(status="completed") & Q(completed_at__isnull=True)),
                name="ooh_case_completed_paired",
            ),
        ]
