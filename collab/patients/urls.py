from django.urls import path

from collab.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.find, name="find"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/break-glass/", views.break_glass, name="break_glass"),
    path("<int:patient_id>/break-glass/cis2/", views.break_glass_cis2, name="break_glass_cis2"),
]
