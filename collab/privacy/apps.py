from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "collab.privacy"
    label = "privacy"
    verbose_name = "Privacy oversight: who looked at which record and why; break-glass alerts"
