from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "collab.core"
    label = "core"
    verbose_name = "Core: auditing and shared helpers"
