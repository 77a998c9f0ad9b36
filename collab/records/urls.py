from django.urls import path

from collab.records import views

app_name = "records"
urlpatterns = [
    path("patients/<int:patient_id>/", views.patient_record, name="patient"),
    path("patients/<int:patient_id>/consult/", views.consultation_start, name="start"),
    path("consultations/<int:consultation_id>/", views.consultation, name="consultation"),
    path("consultations/<int:consultation_id>/note/", views.consultation_save, name="save"),
    path("consultations/<int:consultation_id>/problems/", views.problem_add, name="problem_add"),
    path("consultations/<int:consultation_id>/prescriptions/", views.prescription_add, name="prescription_add"),
    path("consultations/<int:consultation_id>/addenda/", views.addendum_add, name="addendum_add"),
    path("consultations/<int:consultation_id>/review/", views.review_request, name="review"),
]
