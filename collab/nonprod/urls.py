from django.urls import path

from collab.nonprod import views

app_name = "nonprod"
urlpatterns = [
    path("", views.personas, name="personas"),
    path("sign-in/<str:username>/", views.sign_in_as, name="sign_in_as"),
]
