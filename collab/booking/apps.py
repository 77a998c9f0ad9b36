from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "collab.booking"
    label = "booking"
    verbose_name = "The remote hub: sessions, slots, appointments and capacity"

    def ready(self):
        from collab.booking.selectors import appointment_relationship
        from collab.patients import relationships

        relationships.register("appointment", appointment_relationship)
