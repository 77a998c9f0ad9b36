from django import forms
from django.conf import settings

from collab.patients.nhs_number import InvalidNhsNumber, validate


class NhsNumberField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 14)
        kwargs.setdefault("error_messages", {"required": "Enter the patient's NHS number"})
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return validate(value, allow_test_range=settings.ALLOW_TEST_NHS_NUMBERS)
        except InvalidNhsNumber as e:
            raise forms.ValidationError(str(e)) from e


class FindPatientForm(forms.Form):
    nhs_number = NhsNumberField()


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        max_length=500, min_length=10,
        error_messages={"required": "Say why you need emergency access",
                        "min_length": "Say why you need emergency access (at least 10 characters)"},
    )
    password = forms.CharField(max_length=200, strip=False, required=False, widget=forms.PasswordInput)
    code = forms.CharField(max_length=6, required=False)
