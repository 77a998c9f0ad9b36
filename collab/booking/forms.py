from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from collab.accounts.models import CLINICAL_ROLES, Role
from collab.booking.models import Appointment, CapacityRequest, DeliveryChannel
from collab.booking.selectors import MAX_SEARCH_DAYS
from collab.patients.forms import NhsNumberField

DATE_ERRORS = {"invalid": "Enter a real date, for example 2026-12-01"}
CLINICIAN_ROLE_CHOICES = [("", "Any clinician")] + [(r.value, r.label) for r in Role if r in CLINICAL_ROLES]
CHANNEL_CHOICES = [("", "Any channel")] + list(DeliveryChannel.choices)


class SlotSearchForm(forms.Form):
    start = forms.DateField(required=False, error_messages=DATE_ERRORS)
    end = forms.DateField(required=False, error_messages=DATE_ERRORS)
    channel = forms.ChoiceField(choices=CHANNEL_CHOICES, required=False)
    clinician_role = forms.ChoiceField(choices=CLINICIAN_ROLE_CHOICES, required=False)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        start = data.get("start") or today
        end = data.get("end") or start + dt.timedelta(days=6)
        if "start" in self.errors or "end" in self.errors:
            return data
        if end < start:
            self.add_error("end", "The end date must be on or after the start date")
        elif (end - start).days >= MAX_SEARCH_DAYS:
            self.add_error("end", f"Search at most {MAX_SEARCH_DAYS} days at a time")
        data["start"], data["end"] = start, end
        return data


class BookForm(forms.Form):
    nhs_number = NhsNumberField()
    reason = forms.CharField(max_length=200, error_messages={
        "required": "Enter a short reason for the appointment",
        "max_length": "The reason must be 200 characters or fewer",
    })


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(choices=Appointment.Outcome.choices, error_messages={"required": "Choose an outcome"})
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Appointment.Outcome.FACE_TO_FACE and not (data.get("note") or "").strip():
            self.add_error("note", "Say what the practice needs to see the patient for")
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, error_messages={"required": "Enter a reason for cancelling"})


class CapacityRequestForm(forms.Form):
    first_date = forms.DateField(error_messages={**DATE_ERRORS, "required": "Enter the first date"})
    last_date = forms.DateField(error_messages={**DATE_ERRORS, "required": "Enter the last date"})
    slots_requested = forms.IntegerField(min_value=1, max_value=500, error_messages={
        "required": "Enter how many slots you need", "invalid": "Enter a whole number of slots",
        "min_value": "Ask for at least 1 slot", "max_value": "Ask for at most 500 slots"})
    channel = forms.ChoiceField(choices=CHANNEL_CHOICES, required=False)
    reason = forms.ChoiceField(choices=CapacityRequest.Reason.choices, error_messages={"required": "Choose a reason"})
    detail = forms.CharField(required=False, max_length=500, widget=forms.Textarea)

    def clean(self):
        data = super().clean()
        first, last = data.get("first_date"), data.get("last_date")
        if first and first < timezone.localdate():
            self.add_error("first_date", "The first date must be today or later")
        if first and last and last < first:
            self.add_error("last_date", "The last date must be on or after the first date")
        if first and last and (last - first).days > 31:
            self.add_error("last_date", "Request at most 31 days at a time")
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")],
                                 error_messages={"required": "Choose approve or decline"})
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "decline" and not (data.get("note") or "").strip():
            self.add_error("note", "Say why the request is declined")
        return data


class UsageForm(forms.Form):
    start = forms.DateField(required=False, error_messages=DATE_ERRORS)
    end = forms.DateField(required=False, error_messages=DATE_ERRORS)


class DutyForm(forms.Form):
    date = forms.DateField(error_messages={**DATE_ERRORS, "required": "Enter the date"})
    clinician = forms.IntegerField(error_messages={"required": "Choose the duty doctor"})
    practices = forms.MultipleChoiceField(choices=[], error_messages={"required": "Choose at least one practice"})
    contact = forms.CharField(max_length=100, error_messages={"required": "Say how practices can reach the duty doctor"})

    def __init__(self, *args, practice_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practices"].choices = practice_choices
