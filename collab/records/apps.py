from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "collab.records"
    label = "records"
    verbose_name = "The collaborative's clinical record"
