"""URLs of the tracker app (the workspace, dashboard and exports are added by their views)."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "tracker"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="task_list"),
]
