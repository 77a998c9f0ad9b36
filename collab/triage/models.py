"""Triage once: one front door for the collaborative, one triage that travels with the request.

A request (online form, phone call, NHS 111 / A&E referral, practice clinician) waits in a
service's queue. One triage records urgency, route, reason and safety-netting; the routing rule
set in force (an immutable, numbered version) decides which service takes the route, and the
triage keeps the version that did. Sending a request back for re-triage needs a reason and is
counted. The database enforces the pairs and the one-triage-at-a-time rule.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Source(models.TextChoices):
    ONLINE = "online", "Online form"
    PHONE = "phone", "Phone call"
    NHS111 = "nhs111", "NHS 111"
    AE_STREAMING = "ae_streaming", "A&E streaming"
    CLINICIAN = "clinician", "Practice clinician"


class RequestKind(models.TextChoices):
    MEDICAL = "medical", "Medical"
    ADMIN = "admin", "Admin"


class AdminType(models.TextChoices):
    FIT_NOTE = "fit_note", "Fit note"
    PRESCRIPTION = "prescription", "Question about a prescription"
    TEST_RESULTS = "test_results", "Test results"
    LETTER = "letter", "Letter or form"
    OTHER = "other", "Something else"


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent: same day"
    SOON = "soon", "Soon: within 2 working days"
    ROUTINE = "routine", "Routine"


URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.SOON: 2, Urgency.ROUTINE: 3}
UNTRIAGED_RANK = 2  # An untriaged request queues with "soon" requests until a clinician says otherwise.


class Route(models.TextChoices):
    PRACTICE = "practice", "Registered practice"
    HUB = "hub", "Remote hub"
    PHARMACY = "pharmacy", "Community pharmacy"
    MSK = "msk", "First-contact physiotherapy (MSK)"
    SOCIAL_PRESCRIBING = "social_prescribing", "Social prescribing"
    CHILDRENS_RESPIRATORY = "childrens_respiratory", "Children's respiratory hub"
    ENHANCED_ACCESS = "enhanced_access", "Enhanced access"
    OUT_OF_HOURS = "out_of_hours", "Out of hours"
    EMERGENCY = "emergency", "Go to A&E or call 999"


class ReferringService(models.Model):
    """An outside service that refers patients through the intake API (NHS 111, A&E streaming).

    It authenticates with its own bearer token; only the token's SHA-256 digest is stored.
    """

    ods_code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=[(Source.NHS111, "NHS 111"), (Source.AE_STREAMING, "A&E streaming")])
    token_digest = models.CharField(max_length=64, blank=True, db_index=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"


class RedFlagScreen(models.Model):
    """One pass through the online form's red-flag screen. Kept even when no request follows:
    it is the record that someone was sent to 999 or 111."""

    class Outcome(models.TextChoices):
        PASSED = "passed", "No red flags: continued to the form"
        CALL_999 = "call_999", "Told to call 999"
        CALL_111 = "call_111", "Told to call 111 or use 111 online"

    screened_at = models.DateTimeField()
    flags = models.JSONField(default=list)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)

    class Meta:
        ordering = ["-screened_at"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=["passed", "call_999", "call_111"]), name="redflag_outcome_valid"),
        ]


class RuleSet(models.Model):
    """One immutable version of the collaborative's routing rules and response targets.

    Editing makes a new version; nothing updates an old one, and every triage keeps the version
    that routed it. ``targets`` maps each urgency (and ``awaiting_triage``) to
    ``{"minutes": int, "working_hours": bool}``.
    """

    collaborative = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    targets = models.JSONField()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["collaborative", "version"], name="one_ruleset_per_version"),
        ]

    def __str__(self) -> str:
        return f"Routing rules version {self.version}"


class RoutingRule(models.Model):
    """Which service takes a route, under which conditions. The first matching rule wins.

    Blank conditions match everything. ``service_kind`` blank means no service takes it (999 / A&E).
    """

    class PracticeFull(models.TextChoices):
        ANY = "", "Either"
        YES = "yes", "Practice full"
        NO = "no", "Practice has room"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField()
    route = models.CharField(max_length=32, choices=Route.choices)
    request_kind = models.CharField(max_length=8, choices=RequestKind.choices, blank=True)
    practices = models.CharField(max_length=500, blank=True, help_text="ODS codes separated by spaces")
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    weekdays = models.CharField(max_length=7, blank=True, help_text="0 = Monday ... 6 = Sunday, e.g. 01234")
    from_time = models.TimeField(null=True, blank=True)
    until_time = models.TimeField(null=True, blank=True)
    months = models.CharField(max_length=40, blank=True, help_text="Month numbers separated by spaces")
    when_practice_full = models.CharField(max_length=3, choices=PracticeFull.choices, blank=True)
    urgencies = models.CharField(max_length=60, blank=True, help_text="Urgencies separated by spaces")
    service_kind = models.CharField(max_length=32, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["rule_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "position"], name="one_rule_per_position"),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=models.F("max_age")),
                name="rule_ages_ordered",
            ),
            models.CheckConstraint(
                condition=(Q(from_time__isnull=True) & Q(until_time__isnull=True))
                | (Q(from_time__isnull=False) & Q(until_time__isnull=False)),
                name="rule_times_paired",
            ),
        ]


class PracticeCapacity(models.Model):
    """A practice's caps on online requests. Blank means no cap. While ``override_until`` is in the
    future the caps are lifted (the practice has chosen to take more)."""

    class Period(models.TextChoices):
        DAY = "day", "Per day"
        WEEK = "week", "Per week (Monday to Sunday)"

    practice = models.OneToOneField("organisations.Organisation", on_delete=models.PROTECT, related_name="triage_capacity")
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.DAY)
    medical_cap = models.PositiveIntegerField(null=True, blank=True)
    admin_cap = models.PositiveIntegerField(null=True, blank=True)
    per_patient_per_day = models.PositiveSmallIntegerField(null=True, blank=True)
    override_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(period__in=["day", "week"]), name="capacity_period_valid"),
        ]


class TriageRequest(models.Model):
    """A request for help, from any front door, and where it is now."""

    class Status(models.TextChoices):
        AWAITING_TRIAGE = "awaiting_triage", "Waiting for triage"
        WAITING = "waiting", "Triaged: waiting for the service"
        BOOKED = "booked", "Appointment booked"
        CLOSED = "closed", "Closed"

    reference = models.CharField(max_length=12, unique=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=8, choices=RequestKind.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="triage_requests")
    practice = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(db_index=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    referrer = models.ForeignKey(ReferringService, null=True, blank=True, on_delete=models.PROTECT, related_name="requests")
    external_reference = models.CharField(max_length=64, blank=True)
    red_flag_screen = models.ForeignKey(RedFlagScreen, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    on_behalf = models.BooleanField(default=False)
    requester_name = models.CharField(max_length=100, blank=True)
    requester_relationship = models.CharField(max_length=100, blank=True)
    description = models.TextField()
    admin_type = models.CharField(max_length=16, choices=AdminType.choices, blank=True)
    preferred_channel = models.CharField(max_length=16, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    contact_email = models.EmailField(blank=True)
    external_assessment = models.JSONField(null=True, blank=True)
    cap_override_reason = models.CharField(max_length=200, blank=True)

    intake_service = models.ForeignKey("organisations.Service", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("organisations.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="triage_queue")
    overflowed = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AWAITING_TRIAGE)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, blank=True)
    route = models.CharField(max_length=32, choices=Route.choices, blank=True)  # the current triage's, for queues and slot search
    urgency_rank = models.PositiveSmallIntegerField(default=UNTRIAGED_RANK)
    respond_by = models.DateTimeField()
    triaged_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey("booking.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["urgency_rank", "submitted_at"]
        indexes = [
            models.Index(fields=["service", "status", "urgency_rank", "submitted_at"], name="triage_queue_order"),
            models.Index(fields=["patient", "submitted_at"], name="triage_patient_recent"),
            models.Index(fields=["practice", "kind", "submitted_at"], name="triage_practice_caps"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["awaiting_triage", "waiting", "booked", "closed"]), name="triage_request_status_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=["medical", "admin"]), name="triage_request_kind_valid"),
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False) & ~Q(outcome=""))
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="triage_request_closed_paired",
            ),
            models.CheckConstraint(
                condition=Q(status="awaiting_triage") | Q(triaged_at__isnull=False), name="triage_request_triaged_paired"
            ),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(appointment__isnull=False), name="triage_request_booked_has_appointment"
            ),
            models.CheckConstraint(
                condition=Q(referrer__isnull=True) | Q(source__in=["nhs111", "ae_streaming"]), name="triage_request_referrer_source"
            ),
            models.CheckConstraint(condition=Q(on_behalf=False) | ~Q(requester_name=""), name="triage_request_on_behalf_named"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def current_triage(self) -> Triage | None:
        return self.triages.order_by("-number").first()


class Triage(models.Model):
    """One triage decision. Made once; a second exists only after a counted send-back."""

    class Method(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        REFERRER = "referrer", "Referring service's assessment"
        RULE = "rule", "Admin request routed by rule"

    request = models.ForeignKey(TriageRequest, on_delete=models.PROTECT, related_name="triages")
    number = models.PositiveSmallIntegerField()
    triaged_at = models.DateTimeField()
    method = models.CharField(max_length=16, choices=Method.choices)
    triaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32, blank=True)
    organisation = models.ForeignKey("organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    referrer = models.ForeignKey(ReferringService, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    route = models.CharField(max_length=32, choices=Route.choices)
    reason = models.TextField()
    safety_netting = models.TextField()
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="decisions")
    rule_position = models.PositiveSmallIntegerField()
    service = models.ForeignKey("organisations.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    respond_by = models.DateTimeField()

    class Meta:
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="one_triage_per_number"),
            models.CheckConstraint(
                condition=(Q(method="clinician") & Q(triaged_by__isnull=False) & Q(referrer__isnull=True))
                | (Q(method="referrer") & Q(triaged_by__isnull=True) & Q(referrer__isnull=False))
                | (Q(method="rule") & Q(triaged_by__isnull=True) & Q(referrer__isnull=True)),
                name="triage_who_matches_method",
            ),
            models.CheckConstraint(condition=~Q(reason="") & ~Q(safety_netting=""), name="triage_reason_and_safety_netting"),
            models.CheckConstraint(condition=Q(route="emergency") | Q(service__isnull=False), name="triage_service_unless_emergency"),
        ]


class SendBack(models.Model):
    """A request sent back for re-triage: always with a reason, always counted (the goal is none)."""

    request = models.ForeignKey(TriageRequest, on_delete=models.PROTECT, related_name="send_backs")
    triage = models.ForeignKey(Triage, on_delete=models.PROTECT, related_name="send_backs")
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["sent_at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="send_back_has_reason")]


class PatientMessage(models.Model):
    """A message sent to a patient through the notification adapter (NHS Notify shaped)."""

    class Purpose(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", "Request received"
        OUTCOME = "outcome", "Triage outcome"
        BOOKING = "booking", "Appointment booked"

    request = models.ForeignKey(TriageRequest, on_delete=models.PROTECT, related_name="messages")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    channel = models.CharField(max_length=8, choices=[("sms", "Text message"), ("email", "Email")])
    recipient = models.CharField(max_length=320)
    template_id = models.CharField(max_length=36)
    body = models.TextField()
    notify_id = models.CharField(max_length=36)
    status = models.CharField(max_length=24)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]


class BankHoliday(models.Model):
    """A day the practices are closed, from GOV.UK's list (``collab import-bank-holidays``).

    Working-hours clocks do not run on it, the online form is closed, and routing rules by
    weekday treat it as a Sunday (``routing.day_of_week``). Only England and Wales's are used.
    """

    ENGLAND_AND_WALES = "england-and-wales"

    date = models.DateField(unique=True)
    title = models.CharField(max_length=100)
    division = models.CharField(max_length=40, default=ENGLAND_AND_WALES)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%a %d %b %Y} {self.title}"
