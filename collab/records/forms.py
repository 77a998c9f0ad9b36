from django import forms

from collab.records.services import SIGNING_NEEDS


class NoteForm(forms.Form):
    history = forms.CharField(required=False, max_length=10000)
    examination = forms.CharField(required=False, max_length=10000)
    assessment = forms.CharField(required=False, max_length=10000)
    plan = forms.CharField(required=False, max_length=10000)
    safety_netting = forms.CharField(required=False, max_length=10000)
    follow_up_needed = forms.BooleanField(required=False)
    follow_up_note = forms.CharField(required=False, max_length=500)

    def check_signable(self) -> bool:
        """Name each field a signature still needs; call after is_valid(). The fields and their
        messages are the service's rule (services.SIGNING_NEEDS), so the two cannot drift."""
        data = getattr(self, "cleaned_data", {})
        for need in SIGNING_NEEDS:
            if need.field in data and not data[need.field].strip():
                self.add_error(need.field, need.to_do)
        if data.get("follow_up_needed") and not (data.get("follow_up_note") or "").strip():
            self.add_error("follow_up_note", "Say what follow-up is needed")
        return not self.errors


class ProblemForm(forms.Form):
    term = forms.CharField(max_length=255, error_messages={"required": "Enter the problem"})
    snomed_concept_id = forms.CharField(required=False, max_length=18)


class PrescriptionForm(forms.Form):
    medication = forms.CharField(max_length=255, error_messages={"required": "Enter the medication"})
    dosage = forms.CharField(required=False, max_length=255)
    quantity = forms.CharField(required=False, max_length=64)
    dmd_code = forms.CharField(required=False, max_length=18)


class AddendumForm(forms.Form):
    text = forms.CharField(max_length=10000, error_messages={"required": "Enter the addendum"})


class ReviewForm(forms.Form):
    urgency = forms.ChoiceField(choices=[("routine", "Routine"), ("urgent", "Urgent")],
                                error_messages={"required": "Choose routine or urgent"})
    description = forms.CharField(max_length=2000, error_messages={"required": "Say what the practice should review"})
