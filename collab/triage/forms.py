from __future__ import annotations

from django import forms

from collab.booking.models import DeliveryChannel
from collab.organisations.models import Organisation, Service
from collab.patients.forms import NhsNumberField
from collab.triage.defaults import RED_FLAGS_111, RED_FLAGS_999
from collab.triage.models import (
    AdminType,
    PracticeCapacity,
    RequestKind,
    Route,
    RoutingRule,
    Source,
    Urgency,
)
from collab.triage.services import MAX_TEXT

DATE_ERRORS = {"invalid": "Enter a real date, for example 1980-03-21", "required": "Enter the date of birth"}
CHANNEL_CHOICES = [("", "No preference")] + [(c.value, c.label) for c in DeliveryChannel if c != DeliveryChannel.ONLINE]
TEXT_ERRORS = {"required": "Describe what you need help with",
               "max_length": f"The description must be {MAX_TEXT} characters or fewer"}


class RedFlagForm(forms.Form):
    flags = forms.MultipleChoiceField(choices=RED_FLAGS_999 + RED_FLAGS_111, required=False)
    none = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("flags") and not data.get("none"):
            raise forms.ValidationError("Select any symptoms you have, or select 'None of these'")
        if data.get("flags") and data.get("none"):
            raise forms.ValidationError("Select symptoms, or 'None of these', not both")
        return data


class _RequestFields(forms.Form):
    kind = forms.ChoiceField(choices=RequestKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Choose whether this is a medical or an admin request"})
    admin_type = forms.ChoiceField(choices=[("", "Choose")] + list(AdminType.choices), required=False)
    description = forms.CharField(max_length=MAX_TEXT, widget=forms.Textarea, error_messages=TEXT_ERRORS)
    preferred_channel = forms.ChoiceField(choices=CHANNEL_CHOICES, required=False)
    contact_phone = forms.CharField(max_length=32, required=False,
                                    error_messages={"max_length": "Enter a phone number of 32 characters or fewer"})

    def clean(self):
        data = super().clean()
        if data.get("kind") == RequestKind.ADMIN and not data.get("admin_type"):
            self.add_error("admin_type", "Choose what the admin request is about")
        return data


class OnlineRequestForm(_RequestFields):
    on_behalf = forms.ChoiceField(choices=[("no", "Myself"), ("yes", "Someone else")], widget=forms.RadioSelect,
                                  error_messages={"required": "Say who the request is for"})
    requester_name = forms.CharField(max_length=100, required=False)
    requester_relationship = forms.CharField(max_length=100, required=False)
    practice = forms.ChoiceField(choices=[], error_messages={"required": "Choose the GP practice",
                                                             "invalid_choice": "Choose the GP practice"})
    nhs_number = NhsNumberField(error_messages={"required": "Enter the NHS number"})
    date_of_birth = forms.DateField(error_messages=DATE_ERRORS)
    contact_email = forms.EmailField(max_length=254, required=False,
                                     error_messages={"invalid": "Enter an email address like name@example.com"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        practices = Organisation.objects.filter(kind="practice", is_active=True).order_by("name")
        self.fields["practice"].choices = [("", "Choose a practice")] + [(p.ods_code, p.display_name) for p in practices]

    def clean(self):
        data = super().clean()
        if data.get("on_behalf") == "yes" and not (data.get("requester_name") or "").strip():
            self.add_error("requester_name", "Enter your name, as you are asking for someone else")
        if not data.get("contact_phone") and not data.get("contact_email"):
            self.add_error("contact_phone", "Give a phone number or email address so we can contact you")
        return data


class StaffRequestForm(_RequestFields):
    nhs_number = NhsNumberField()
    source = forms.ChoiceField(choices=[(Source.PHONE, "Phone call"), (Source.CLINICIAN, "Raised by a clinician")],
                               widget=forms.RadioSelect, error_messages={"required": "Say how the request came in"})
    cap_override_reason = forms.CharField(max_length=200, required=False)


class TriageForm(forms.Form):
    urgency = forms.ChoiceField(choices=Urgency.choices, widget=forms.RadioSelect, error_messages={"required": "Choose the urgency"})
    route = forms.ChoiceField(choices=Route.choices, error_messages={"required": "Choose the route"})
    reason = forms.CharField(max_length=MAX_TEXT, widget=forms.Textarea, error_messages={
        "required": "Give the reason for this triage decision", "max_length": f"Keep the reason to {MAX_TEXT} characters or fewer"})
    safety_netting = forms.CharField(max_length=MAX_TEXT, widget=forms.Textarea, error_messages={
        "required": "Record the safety-netting advice given",
        "max_length": f"Keep the advice to {MAX_TEXT} characters or fewer"})


class SendBackForm(forms.Form):
    send_back_reason = forms.CharField(max_length=500, error_messages={"required": "Say why this request needs triaging again"})


class CloseForm(forms.Form):
    outcome = forms.CharField(max_length=500, error_messages={"required": "Say how the request was dealt with"})


class BookForm(forms.Form):
    slot_id = forms.IntegerField(min_value=1, error_messages={"required": "Choose a slot"})


class CapacityForm(forms.Form):
    period = forms.ChoiceField(choices=PracticeCapacity.Period.choices)
    medical_cap = forms.IntegerField(min_value=0, max_value=10_000, required=False,
                                     error_messages={"invalid": "Enter a whole number, or leave it blank for no cap"})
    admin_cap = forms.IntegerField(min_value=0, max_value=10_000, required=False,
                                   error_messages={"invalid": "Enter a whole number, or leave it blank for no cap"})
    per_patient_per_day = forms.IntegerField(min_value=0, max_value=100, required=False,
                                             error_messages={"invalid": "Enter a whole number, or leave it blank for no cap"})
    override_hours = forms.IntegerField(min_value=0, max_value=72, required=False,
                                        error_messages={"invalid": "Enter a whole number of hours"})


SERVICE_KIND_CHOICES = [("", "None: A&E or 999")] + list(Service.Kind.choices)


class RuleForm(forms.Form):
    position = forms.IntegerField(min_value=0, max_value=32000, required=False)
    route = forms.ChoiceField(choices=[("", "Choose")] + list(Route.choices), required=False)
    request_kind = forms.ChoiceField(choices=[("", "Any")] + list(RequestKind.choices), required=False)
    urgencies = forms.CharField(max_length=60, required=False)
    practices = forms.CharField(max_length=500, required=False)
    min_age = forms.IntegerField(min_value=0, max_value=130, required=False)
    max_age = forms.IntegerField(min_value=0, max_value=130, required=False)
    weekdays = forms.CharField(max_length=7, required=False)
    from_time = forms.TimeField(required=False)
    until_time = forms.TimeField(required=False)
    months = forms.CharField(max_length=40, required=False)
    when_practice_full = forms.ChoiceField(choices=RoutingRule.PracticeFull.choices, required=False)
    service_kind = forms.ChoiceField(choices=SERVICE_KIND_CHOICES, required=False)
    note = forms.CharField(max_length=200, required=False)
    delete = forms.BooleanField(required=False)


RuleFormSet = forms.formset_factory(RuleForm, extra=2, max_num=200)


class TargetsForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, keys: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for key in keys:
            self.fields[f"target_{key}"] = forms.IntegerField(min_value=1, max_value=60 * 24 * 60, error_messages={
                "required": "Enter a target in minutes", "invalid": "Enter a whole number of minutes"})
            self.fields[f"working_{key}"] = forms.BooleanField(required=False)


class BankHolidayFileForm(forms.Form):
    """An upload of GOV.UK's bank-holidays.json (about 20 KB; anything over 1 MB is not it)."""

    MAX_BYTES = 1024 * 1024

    file = forms.FileField(
        error_messages={"required": "Choose GOV.UK's bank-holidays.json file",
                        "empty": "The chosen file is empty: choose GOV.UK's bank-holidays.json"})

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > self.MAX_BYTES:
            raise forms.ValidationError(
                f"The chosen file is {f.size // 1024} KB: GOV.UK's bank-holidays.json is under 1 MB")
        return f
