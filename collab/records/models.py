"""The collaborative's clinical record: consultations by the hub, out of hours, enhanced access
and triage clinicians. A note is signed and then immutable (the database refuses changes; see
migration 0002); corrections are addenda."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from collab.accounts.models import Role


class Consultation(models.Model):
    class Setting(models.TextChoices):
        HUB = "hub", "Remote hub"
        OUT_OF_HOURS = "out_of_hours", "Out of hours"
        ENHANCED_ACCESS = "enhanced_access", "Enhanced access"
        TRIAGE = "triage", "Triage"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consultations")
    setting = models.CharField(max_length=16, choices=Setting.choices)
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("organisations.Service", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations")
    clinician_role = models.CharField(max_length=32, choices=Role.choices)
    appointment = models.ForeignKey("booking.Appointment", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="consultations")
    ooh_case = models.ForeignKey("ooh.OohCase", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="consultations")
    history = models.TextField(blank=True)
    examination = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    safety_netting = models.TextField(blank=True)
    follow_up_needed = models.BooleanField(default=False)
    follow_up_note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    started_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["patient", "started_at"], name="consultation_patient_started")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["draft", "signed"]), name="consultation_status_valid"),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(signed_at__isnull=True) & Q(signed_by__isnull=True))
                | (Q(status="signed") & Q(signed_at__isnull=False) & Q(signed_by__isnull=False)),
                name="consultation_signed_paired",
            ),
            # A signed note says what was found, what was done and what to do if it gets worse.
            models.CheckConstraint(
                condition=Q(status="draft") | (~Q(assessment="") & ~Q(plan="") & ~Q(safety_netting="")),
                name="consultation_signed_is_complete",
            ),
            models.CheckConstraint(condition=Q(follow_up_needed=True) | Q(follow_up_note=""),
                                   name="consultation_follow_up_note_needs_follow_up"),
        ]

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class Problem(models.Model):
    """A problem recorded in a consultation, with an optional SNOMED CT concept."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="problems")
    term = models.CharField(max_length=255)
    snomed_concept_id = models.CharField(max_length=18, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(snomed_concept_id="") | Q(snomed_concept_id__regex=r"^[1-9][0-9]{5,17}$"),
                                   name="problem_sctid_digits"),
        ]


class Prescription(models.Model):
    """A prescription issued in a consultation: free text, with an optional dm+d code."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="prescriptions")
    medication = models.CharField(max_length=255)
    dosage = models.CharField(max_length=255, blank=True)
    quantity = models.CharField(max_length=64, blank=True)
    dmd_code = models.CharField(max_length=18, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(dmd_code="") | Q(dmd_code__regex=r"^[1-9][0-9]{5,17}$"),
                                   name="prescription_dmd_digits"),
        ]


class Addendum(models.Model):
    """A correction or addition to a signed note. Insert-only."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="addendum_not_empty")]
