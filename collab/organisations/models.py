"""The tenancy boundary: the collaborative, its PCNs and practices, and the services they run."""

from __future__ import annotations

from django.db import models


class Organisation(models.Model):
    """A collaborative, PCN or practice, identified by its ODS code."""

    class Kind(models.TextChoices):
        COLLABORATIVE = "collaborative", "Collaborative"
        PCN = "pcn", "Primary care network"
        PRACTICE = "practice", "GP practice"

    ods_code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    list_size = models.PositiveIntegerField(null=True, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    town = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    sub_icb_code = models.CharField(max_length=8, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["collaborative", "pcn", "practice"]),
                name="organisation_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.ods_code})"

    @property
    def display_name(self) -> str:
        # ODS names are upper case; show them as people write them.
        return self.name.title().replace("Pcn", "PCN").replace("Hmg", "HMG").replace("Wbc", "WBC")

    @property
    def is_practice(self) -> bool:
        return self.kind == self.Kind.PRACTICE

    def collaborative(self) -> Organisation:
        org = self
        while org.parent_id is not None:
            org = org.parent
        return org


class Service(models.Model):
    """A service run by an organisation: the remote hub, a practice's own appointments, or one of the
    network services triage routes to (pharmacy, MSK, enhanced access...)."""

    class Kind(models.TextChoices):
        REMOTE_HUB = "remote_hub", "Remote hub"
        PRACTICE = "practice", "Practice"
        # Services a triaged request can be routed to (collab.triage); each runs sessions and slots
        # through booking like the hub does.
        COMMUNITY_PHARMACY = "community_pharmacy", "Community pharmacy"
        MSK_PHYSIO = "msk_physio", "First-contact physiotherapy (MSK)"
        SOCIAL_PRESCRIBING = "social_prescribing", "Social prescribing"
        CHILDRENS_RESPIRATORY = "childrens_respiratory", "Children's respiratory hub"
        ENHANCED_ACCESS = "enhanced_access", "Enhanced access"
        OUT_OF_HOURS = "out_of_hours", "Out of hours"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="services")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind"], name="one_service_kind_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """When a service is open on one day of the week (0 = Monday)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="weekday_range"),
            models.CheckConstraint(condition=models.Q(opens__lt=models.F("closes")), name="opens_before_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.service} day {self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"
