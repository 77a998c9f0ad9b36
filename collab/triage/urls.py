from django.urls import include, path

from collab.triage import views
from collab.triage.intake import intake_api

# Pages live in the "triage" namespace; the intake API keeps its own ("triage_intake") at the top
# level so its generated docs can reverse their URLs. config/urls.py includes this module once.
pages = [
    # The public front door (no sign-in).
    path("start/", views.start, name="start"),
    path("request/", views.online_request, name="online_request"),
    path("request/sent/", views.sent, name="sent"),
    # Staff.
    path("queue/", views.queue, name="queue"),
    path("queue/list/", views.queue_list, name="queue_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:request_id>/", views.request_detail, name="request"),
    path("requests/<int:request_id>/triage/", views.triage, name="triage"),
    path("requests/<int:request_id>/send-back/", views.send_back, name="send_back"),
    path("requests/<int:request_id>/contact/", views.contact, name="contact"),
    path("requests/<int:request_id>/close/", views.close, name="close"),
    path("requests/<int:request_id>/book/", views.book, name="book"),
    path("capacity/", views.capacity, name="capacity"),
    path("rules/", views.rules, name="rules"),
    path("rules/edit/", views.rules_edit, name="rules_edit"),
    path("figures/", views.figures, name="figures"),
    path("bank-holidays/", views.bank_holidays, name="bank_holidays"),
    path("bank-holidays/import/", views.bank_holidays_upload, name="bank_holidays_upload"),
]
urlpatterns = [
    path("", include((pages, "triage"))),
    # NHS 111 and A&E streaming referrals (JSON, bearer token).
    path("intake/", intake_api.urls),
]
