"""Patients, keyed by NHS number and registered with one practice."""

from __future__ import annotations

import datetime as dt

from django.db import models


class Patient(models.Model):
    nhs_number = models.CharField(max_length=10, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    registered_practice = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="registered_patients"
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nhs_number__regex=r"^[0-9]{10}$"), name="nhs_number_ten_ascii_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name.upper()}"

    def age_on(self, day: dt.date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class BreakGlassGrant(models.Model):
    """Emergency access to one patient's record without a legitimate relationship.

    Granted for a short time to one user in one role at one organisation, after a reason and a
    re-authentication. Each grant is an alert for the privacy officers until one of them reviews it.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="break_glass_grants")
    role = models.CharField(max_length=32)
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("organisations.Service", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.CharField(max_length=500)
    reauthentication = models.CharField(max_length=64)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["patient", "user", "expires_at"], name="break_glass_lookup")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="break_glass_reason_required"),
            models.CheckConstraint(condition=models.Q(granted_at__lt=models.F("expires_at")),
                                   name="break_glass_expires_after_grant"),
            models.CheckConstraint(
                condition=(models.Q(reviewed_at__isnull=True) & models.Q(reviewed_by__isnull=True))
                | (models.Q(reviewed_at__isnull=False) & models.Q(reviewed_by__isnull=False)),
                name="break_glass_review_paired",
            ),
        ]
