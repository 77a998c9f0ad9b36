from django.apps import AppConfig


class OohConfig(AppConfig):
    name = "collab.ooh"
    label = "ooh"
    verbose_name = "Out of hours: shifts, clinicians and the case list"

    def ready(self):
        from collab.ooh.selectors import ooh_case_relationship
        from collab.patients import relationships

        relationships.register("ooh_case", ooh_case_relationship)
