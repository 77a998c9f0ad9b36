from django.urls import path

from collab.booking import views

app_name = "booking"
urlpatterns = [
    path("slots/", views.slot_search, name="slot_search"),
    path("slots/<int:slot_id>/book/", views.book, name="book"),
    path("appointments/", views.practice_appointments, name="practice_appointments"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:appointment_id>/arrive/", views.appointment_arrive, name="arrive"),
    path("appointments/<int:appointment_id>/did-not-attend/", views.appointment_dna, name="dna"),
    path("appointments/<int:appointment_id>/complete/", views.appointment_complete, name="complete"),
    path("appointments/<int:appointment_id>/consultation/", views.appointment_consult, name="consult"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel, name="cancel"),
    path("day/", views.day_list, name="day_list"),
    path("capacity/", views.capacity_requests, name="capacity_requests"),
    path("capacity/<int:request_id>/", views.capacity_decide, name="capacity_decide"),
    path("usage/", views.usage, name="usage"),
    path("tasks/", views.practice_tasks, name="practice_tasks"),
    path("tasks/<int:task_id>/done/", views.practice_task_close, name="task_close"),
    path("duty/", views.duty_rota, name="duty_rota"),
]
