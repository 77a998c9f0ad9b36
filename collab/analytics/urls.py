from django.urls import path, re_path

from collab.analytics import spc_view, views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("spc/", spc_view.spc, name="spc"),
    path("refresh/", views.refresh, name="refresh"),
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    re_path(
        r"^(?P<slug>[-a-z]+)/(?P<panel>[-a-z]+)\.(?P<fmt>csv|xlsx)$", views.export, name="export"
    ),
]
