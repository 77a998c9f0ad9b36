from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "collab.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        from collab.patients import relationships

        relationships.register("registered_practice", relationships.registered_practice)
