from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "collab.organisations"
    label = "organisations"
    verbose_name = "Organisations: collaborative, PCNs, practices and services"
