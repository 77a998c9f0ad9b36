from django.conf import settings
from django.urls import include, path

from collab.api.booking import appointment_create
from collab.api.urls import api

urlpatterns = [
    # The booking hot path first (the resolver tries patterns in order), ahead of the API's own
    # route for it (docs/adr/0006-booking-hot-path.md).
    path("fhir/Appointment", appointment_create, name="fhir-appointment-create"),
    path("fhir/", api.urls),
    path("", include("collab.core.urls")),
    path("account/", include("collab.accounts.urls")),
    path("patients/", include("collab.patients.urls")),
    path("hub/", include("collab.booking.urls")),
    path("triage/", include("collab.triage.urls")),
    path("analytics/", include("collab.analytics.urls")),
    path("privacy/", include("collab.privacy.urls")),
    path("records/", include("collab.records.urls")),
    path("ooh/", include("collab.ooh.urls")),
]
if "collab.nonprod" in settings.INSTALLED_APPS:
    urlpatterns.append(path("demo/", include("collab.nonprod.urls")))
