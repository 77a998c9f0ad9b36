from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "collab.triage"
    label = "triage"
    verbose_name = "Triage once: the front door, one triage, routing, queues and clocks"

    def ready(self):
        from django.template import engines

        from collab.patients import relationships
        from collab.triage import selectors

        # The referral first: a service that received the patient by a triage's route names it so.
        relationships.register("referral", selectors.referral_relationship)
        relationships.register("triage", selectors.triage_relationship)
        # The hub clinician's appointment page shows the triage that led to the appointment
        # (booking's template includes triage/appointment_panel.jinja when it exists).
        engines["jinja2"].env.globals["triage_for_appointment"] = selectors.triage_for_appointment
