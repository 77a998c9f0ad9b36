from django.urls import path

from collab.privacy import views

app_name = "privacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("patients/<int:patient_id>/", views.patient, name="patient"),
    path("patients/<int:patient_id>/access.csv", views.patient_csv, name="patient_csv"),
    path("alerts/<int:grant_id>/review/", views.review, name="review"),
]
