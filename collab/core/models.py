"""Auditing: the append-only record of every look at and change to patient data."""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One audited event. Rows are only ever inserted: database triggers refuse UPDATE and DELETE.

    The primary key is the sequence number: it only ever grows, on SQLite and PostgreSQL.
    Names (username, role, ODS code) are copied, not referenced, so the record survives
    changes to accounts and organisations.
    """

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        REFUSED = "refused", "Refused"

    sequence = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=64, blank=True)
    organisation_ods = models.CharField(max_length=12, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reason = models.CharField(max_length=255, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=8, default="web")

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=["allowed", "refused"]), name="audit_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.outcome} by {self.username}"
