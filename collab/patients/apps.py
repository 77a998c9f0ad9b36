from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "collab.patients"
    label = "patients"
    verbose_name = "Patients"
