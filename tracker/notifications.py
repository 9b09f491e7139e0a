"""Who hears of a change in the app: the people a history event concerns, other than whoever
made it. Called by ``tracker.actions.record_event`` for every event, so a notification is
written in the same transaction as the change (a refused or rolled-back change leaves none).

- close-out returned or approved: whoever asked for it (申请人);
- extension approved or refused: whoever asked for it;
- a task given to a unit (created by a person, or a new owner unit), or reopened (回头看), and a
  督办 document issued to the unit (once per document): the clerks and leads of the task's owner
  unit;
- the unit's reply to a 督办 document (once per document): the supervisor who issued it.
The unread count, the list and marking read are here too; the page is ``tracker.views.inbox``.
"""

from __future__ import annotations

from django.utils import timezone

from tracker.choices import EventKind, UnitRole
from tracker.models import Membership, Notification, TaskEvent

REQUESTER_KINDS = {
    EventKind.CLOSEOUT_RETURNED: "closeout",
    EventKind.CLOSEOUT_APPROVED: "closeout",
    EventKind.EXTENSION_APPROVED: "extension",
    EventKind.EXTENSION_REFUSED: "extension",
}
UNIT_KINDS = {EventKind.OWNER, EventKind.REOPENED, EventKind.CREATED, EventKind.LADDER}
ISSUER_KINDS = {EventKind.LADDER_REPLY}
KINDS = set(REQUESTER_KINDS) | UNIT_KINDS | ISSUER_KINDS


def recipients(event: TaskEvent) -> set[int]:
    """Ids of the users ``event`` concerns (never its actor)."""
    from tracker.models import CloseoutRequest, ExtensionRequest

    kind = event.kind
    ids: set[int] = set()
    if kind in REQUESTER_KINDS:
        model = CloseoutRequest if REQUESTER_KINDS[kind] == "closeout" else ExtensionRequest
        latest = (
            model.objects.filter(task_id=event.task_id)
            .order_by("-id")
            .values_list("requested_by_id", flat=True)
            .first()
        )
        if latest:
            ids.add(latest)
    elif kind in UNIT_KINDS:
        if kind == EventKind.CREATED and event.actor_id is None:
            return set()  # a notice import or maintenance: nobody is told of every new task
        if kind == EventKind.LADDER and not _first_of_document(event, _latest_document(event)):
            return set()  # one notification per document, not one per task it lists
        unit_id = event.task.owner_unit_id
        ids.update(
            Membership.objects.filter(
                unit_id=unit_id, role__in=(UnitRole.CLERK, UnitRole.LEAD), user__is_active=True
            ).values_list("user_id", flat=True)
        )
    elif kind in ISSUER_KINDS:
        document = _latest_document(event)
        if document is not None and _first_of_document(event, document):
            ids.add(document.issued_by_id)
    ids.discard(event.actor_id)
    ids.discard(None)
    return ids


def _latest_document(event: TaskEvent):
    from tracker.models import SupervisionDocument

    return SupervisionDocument.objects.filter(tasks=event.task_id).order_by("-pk").first()


def _first_of_document(event: TaskEvent, document) -> bool:
    """Whether ``event`` (a 督办文书 or 督办回复 event) is that of the first task of
    ``document``, the latest document about the task (its tasks are set before their events
    are written)."""
    if document is None:
        return True
    first = document.tasks.order_by("pk").values_list("pk", flat=True).first()
    return first == event.task_id


def notify(event: TaskEvent) -> None:
    """Write the notifications of ``event`` (nothing for kinds nobody is told of)."""
    if event.kind not in KINDS:
        return
    ids = recipients(event)
    if ids:
        Notification.objects.bulk_create(
            [Notification(user_id=pk, event=event) for pk in sorted(ids)], ignore_conflicts=True
        )


def unread_queryset(user):
    """The user's unread notifications (none for an anonymous user)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user, read_at__isnull=True).order_by()


def unread_count(user, cap: int | None = None) -> int:
    """The user's unread notifications, counting at most ``cap``."""
    if not user.is_authenticated:
        return 0
    qs = unread_queryset(user)
    return (qs[:cap] if cap else qs).count()


def inbox(user, limit: int = 100):
    """The user's latest notifications, their events labelled (one query for each)."""
    from tracker.models.history import label_events

    rows = list(
        Notification.objects.filter(user=user)
        .select_related(
            "event__actor", "event__task__problem", "event__task__inspection__organization"
        )
        .order_by("-id")[:limit]
    )
    label_events([n.event for n in rows])
    return rows


def mark_read(user, ids=None) -> int:
    """Mark the user's notifications (those ``ids``, or all) read; returns how many."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
