"""URLs of the tracker app. Each area keeps its routes in its own section."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "tracker"

# --- workspace: task list, task page, progress, evidence, close-out, extensions, review queue
urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="task_list"),
]

# --- dashboard and ledger export/import
urlpatterns += []

# --- notice import (admin upload lives in the admin)
urlpatterns += []
