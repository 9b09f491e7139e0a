"""Top-level URLs: the admin, authentication, language switching, the REST API and the tracker
app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tracker.views import tokens

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/token/", tokens.api_token, name="api_token"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("tracker.api.urls")),
    path("", include("tracker.urls")),
]

# Error pages in the app's style; 403 logs one line instead of Django's tracebacks.
handler404 = "tracker.views.errors.page_not_found"
handler403 = "tracker.views.errors.permission_denied"
handler500 = "tracker.views.errors.server_error"
