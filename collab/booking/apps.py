from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "collab.booking"
    label = "booking"
    verbose_name = "The remote hub: sessions, slots, appointments and capacity"
