from django import forms


class ReviewForm(forms.Form):
    note = forms.CharField(max_length=500, error_messages={"required": "Record what you found"})
