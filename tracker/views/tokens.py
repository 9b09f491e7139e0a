"""接口令牌: a user's own API token, made and revoked on one small page.

The key is shown once, in the answer to the POST that made it (never stored in the session or
shown again, and not cached by the browser); afterwards the page says only since when the user
has one. Administrators manage every user's token in the admin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from tracker.api import tokens


@never_cache
@login_required
def api_token(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if tokens.revoke(request.user):
                messages.success(request, _("接口令牌已吊销,使用它的系统将无法再访问。"))
            return redirect("api_token")
        new_key = tokens.issue(request.user).key
    return render(
        request,
        "tracker/api_token.html",
        {
            "token": tokens.current(request.user),
            "new_key": new_key,
            "docs_url": reverse("api:docs"),
            "api_url": request.build_absolute_uri(reverse("api:task-list")),
        },
    )
