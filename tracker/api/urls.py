"""The API's routes, mounted at /api/ (namespace ``api``)."""

from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from tracker.api import views

app_name = "api"

router = SimpleRouter()
router.register("tasks", views.TaskViewSet, basename="task")
router.register("inspections", views.InspectionViewSet, basename="inspection")
router.register("problems", views.ProblemViewSet, basename="problem")

urlpatterns = [
    *router.urls,
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs page is for people: log in first (then "Try it out" uses the session).
    path(
        "docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api:schema")),
        name="docs",
    ),
]
