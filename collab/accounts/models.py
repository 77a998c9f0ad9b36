"""Users, the roles they hold at organisations, API tokens and sign-in attempts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    """Professional roles. Each maps to a national RBAC job role (see RBAC_JOB_ROLES)."""

    GP = "gp", "GP"
    ADVANCED_NURSE_PRACTITIONER = "anp", "Advanced nurse practitioner"
    PRACTICE_NURSE = "practice_nurse", "Practice nurse"
    PHYSICIAN_ASSOCIATE = "physician_associate", "Physician associate"
    CLINICAL_PHARMACIST = "clinical_pharmacist", "Clinical pharmacist"
    CARE_NAVIGATOR = "care_navigator", "Care navigator / receptionist"
    PRACTICE_MANAGER = "practice_manager", "Practice manager"
    HUB_MANAGER = "hub_manager", "Hub manager"
    ANALYST = "analyst", "Analyst"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"


CLINICAL_ROLES = frozenset(
    {
        Role.GP,
        Role.ADVANCED_NURSE_PRACTITIONER,
        Role.PRACTICE_NURSE,
        Role.PHYSICIAN_ASSOCIATE,
        Role.CLINICAL_PHARMACIST,
    }
)

# National RBAC job role codes (NHS England, national RBAC database).
RBAC_JOB_ROLES = {
    Role.GP: "R8000",  # Clinical Practitioner Access Role
    Role.ADVANCED_NURSE_PRACTITIONER: "R8000",
    Role.PRACTICE_NURSE: "R8000",
    Role.PHYSICIAN_ASSOCIATE: "R8000",
    Role.CLINICAL_PHARMACIST: "R8000",
    Role.CARE_NAVIGATOR: "R8001",  # Nurse/admin access role as used for reception
    Role.PRACTICE_MANAGER: "R8008",  # Admin/Clinical Support Access Role
    Role.HUB_MANAGER: "R8008",
    Role.ANALYST: "R8008",
    Role.PRIVACY_OFFICER: "R0001",  # Privacy Officer
}


class User(AbstractUser):
    """A member of staff. Demo personas exist only outside production and sign in with one click."""

    is_demo_persona = models.BooleanField(default=False)
    phone = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class RoleAssignment(models.Model):
    """A role a user holds at one organisation. A user acts in exactly one of these at a time."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    # The service this role works in, where the organisation runs several (the collaborative runs
    # the hub and out of hours). Relationships are with a service: an out-of-hours case gives the
    # out-of-hours team a reason to look, not the hub. Empty means the organisation as a whole.
    service = models.ForeignKey(
        "organisations.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="role_assignments"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="unique_role_at_org"),
        ]
        ordering = ["organisation__name", "role"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} at {self.organisation}"

    @property
    def is_clinical(self) -> bool:
        return self.role in CLINICAL_ROLES


class ApiToken(models.Model):
    """A bearer token for the HTTP API. Only its SHA-256 digest is stored."""

    digest = models.CharField(max_length=64, unique=True)
    role_assignment = models.ForeignKey(RoleAssignment, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class LoginFailure(models.Model):
    """A failed sign-in, kept for rate limiting across server workers."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)


class Cis2Identity(models.Model):
    """Links a user to their NHS CIS2 identity (the ID token's ``sub``, their UUID).

    Linked by an administrator after checking who the person is; sign-in with CIS2 is refused
    for a ``sub`` that is linked to nobody. Who linked and unlinked, and when, is on the audit trail
    (``cis2_identity.link`` / ``cis2_identity.unlink``); ``linked_by`` repeats it for the list.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="cis2_identity")
    sub = models.CharField(max_length=128, unique=True)
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        # No role administers accounts: linking decides who may sign in as whom, so it is a permission
        # of its own, held by named people (collab cis2_administrators), used while acting at the
        # collaborative. It opens nothing else.
        permissions = [("link_cis2_identity", "Can link and unlink NHS CIS2 identities")]
