from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "collab.analytics"
    label = "analytics"
    verbose_name = "Analytics: appointment data, metrics and SPC"
