from django.apps import AppConfig


class NonprodConfig(AppConfig):
    """Demo data and one-click personas. Never installed in production (see settings)."""

    name = "collab.nonprod"
    label = "nonprod"
    verbose_name = "Demo data and personas"
