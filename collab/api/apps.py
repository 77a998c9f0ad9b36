from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "collab.api"
    label = "api"
    verbose_name = "The NHS-facing HTTP API (FHIR R4)"
