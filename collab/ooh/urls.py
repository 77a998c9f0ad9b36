from django.urls import path

from collab.ooh import views

app_name = "ooh"
urlpatterns = [
    path("", views.case_list, name="cases"),
    path("cases/<int:case_id>/take/", views.case_take, name="take"),
]
