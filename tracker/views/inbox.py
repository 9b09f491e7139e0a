"""The user's notifications (通知): the latest first, unread marked; opening one marks it read and
goes to its task (404 when the task is no longer in the user's scope, like any task URL)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tracker import notifications
from tracker.models import Notification
from tracker.permissions import get_task_for_user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        count = notifications.mark_read(request.user)
        messages.success(request, _("已将 %d 条通知标为已读。") % count)
        return redirect("tracker:notification_list")
    return render(
        request,
        "tracker/notifications.html",
        {"notifications": notifications.inbox(request.user)},
    )


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        note = Notification.objects.select_related("event").get(pk=pk, user=request.user)
    except Notification.DoesNotExist:
        raise Http404("No notification matches the given query.") from None
    notifications.mark_read(request.user, [note.pk])
    task = get_task_for_user(request, note.event.task_id)
    return redirect("tracker:task_detail", pk=task.pk)
