from django import forms


class SignInForm(forms.Form):
    username = forms.CharField(max_length=150, error_messages={"required": "Enter your username"})
    password = forms.CharField(
        max_length=200, strip=False, widget=forms.PasswordInput, error_messages={"required": "Enter your password"}
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^[0-9]{6}$",
        max_length=6,
        error_messages={"required": "Enter the 6-digit code", "invalid": "The code must be 6 digits"},
    )


class RoleForm(forms.Form):
    assignment = forms.IntegerField(error_messages={"required": "Choose the role you are acting in"})


class Cis2LinkForm(forms.Form):
    sub = forms.CharField(
        max_length=40,
        error_messages={"required": "Enter the CIS2 UUID", "max_length": "Enter the CIS2 UUID as 12 digits"},
    )
