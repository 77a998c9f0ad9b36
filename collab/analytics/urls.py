import importlib

from django.urls import path, re_path


def _lazy(module: str, name: str):
    """The view ``name`` of ``collab.analytics.<module>``, imported on its first request.

    The analytics views bring Ibis, DuckDB, pyarrow and Altair (about 100 MB and most of a
    second per process). Loaded with the URL configuration, every server process carried them,
    the API's included; this way only a process that serves an analytics page does.
    """

    def view(request, *args, **kwargs):
        return getattr(importlib.import_module(f"collab.analytics.{module}"), name)(request, *args, **kwargs)

    view.__name__ = view.__qualname__ = name
    return view


app_name = "analytics"
urlpatterns = [
    path("", _lazy("views", "index"), name="index"),
    path("spc/", _lazy("spc_view", "spc"), name="spc"),
    path("refresh/", _lazy("views", "refresh"), name="refresh"),
    path("<slug:slug>/", _lazy("views", "dashboard"), name="dashboard"),
    re_path(
        r"^(?P<slug>[-a-z]+)/(?P<panel>[-a-z]+)\.(?P<fmt>csv|xlsx)$", _lazy("views", "export"), name="export"
    ),
]
