"""Who may see and change what. Every view, export and download asks this module.

Rules:
- a clerk (经办人) or unit lead (分管领导) sees tasks where one of their units is the owner, the
  lead unit or a responsible unit, and may act on them;
- a supervisor (整改办) sees every task of the organizations or inspections they supervise (or
  all, with an all-organizations scope) and may review and act on them;
- an observer (纪检监督) sees like a supervisor and changes nothing;
- a superuser sees and changes everything.
Anything outside a user's scope is reported exactly like a missing object: ``Http404``.

404 or 403: a user who cannot *see* a task (or its evidence, or an export of it) gets 404, as if
it did not exist, for GET and POST alike. A user who can see it but may not make a change (an
observer posting a progress update, a clerk trying to approve a close-out) gets 403: the change
functions in ``tracker.actions`` ask this module and raise ``NotAllowed``, the views translate it.

One queryset per action, used by every list, the ledger, the review queue and the admin alike:
``tasks`` (see), ``editable_tasks`` (report progress, request close-out or extension),
``lead_review_tasks`` (first close-out review) and ``supervised_tasks`` (supervisor fields,
reviews, extensions, reopening). ``can_edit`` / ``can_lead_review`` / ``can_supervise`` answer the
same question for one loaded task without a query (a test holds each to its queryset).

Which rule each change in ``tracker.actions`` needs is in ``ACTION_RULES``; ``authorize`` is what
the actions call. A change without a user is refused unless it is made by a named system actor
(notice import, reminder sweep, maintenance) that ``SYSTEM_GRANTS`` allows to make it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

from django.db import connection, connections, router
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from tracker.choices import EventSource, ScopeRole, UnitRole
from tracker.models import Inspection, Membership, Problem, ScopeAssignment, Task
from tracker.rules import lead_review_q, lead_review_unit_id

# The rule each change needs: "edit" (unit members of the task, and its supervisors),
# "lead_review" (leads of the lead unit, and supervisors), "supervise" (supervisors and
# administrators), "admin" (administrators only: corrections outside the workflow).
ACTION_RULES: dict[str, str] = {
    "create_task": "supervise",
    "change_status": "edit",
    "record_note": "edit",
    "tick_measure": "edit",
    "mark_measure_not_applicable": "edit",
    "add_evidence": "edit",
    "update_progress": "edit",
    "request_closeout": "edit",
    "request_extension": "edit",
    "lead_review_closeout": "lead_review",
    "approve_closeout": "supervise",
    "approve_extension": "supervise",
    "refuse_extension": "supervise",
    "reopen": "supervise",
    "change_deadline": "supervise",
    "change_owner": "supervise",
    "change_lead_unit": "supervise",
    "change_responsible_units": "supervise",
    "change_lead_leader": "supervise",
    "change_type": "supervise",
    "change_report_due": "supervise",
    "add_measure": "supervise",
    "edit_measure": "supervise",
    "remove_measure": "supervise",
    "edit_problem": "supervise",
    # 反向核查: drawing a round (judged on its scope), assigning checkers, recording outcomes.
    "record_recheck": "supervise",
    "admin_set_status": "admin",
    # 督办: signing for a task (签收) is the unit's (and supervisors'); issuing a ladder document
    # is the supervisors'; replying is the addressed unit's members' (and supervisors', who may
    # record a reply received on paper), checked per task and against the document's unit.
    "acknowledge": "edit",
    "issue_ladder_document": "supervise",
    "reply_ladder_document": "edit",
}

# What each system actor (a change with no user) may do. Anything else without a user is refused.
SYSTEM_GRANTS: dict[str, frozenset[str]] = {
    # A published notice creates the tasks of new problems, moves statuses it reports and
    # fills deadlines that were unknown (tracker.importer.loader decides which, by its rules).
    EventSource.IMPORT: frozenset({"create_task", "change_status", "change_deadline"}),
    # The reminder sweep only puts reminders on timelines; it changes no task.
    EventSource.SWEEP: frozenset(),
    # Maintenance and demo data (manage.py load_demo, generate_demo, tests' set-up).
    EventSource.SYSTEM: frozenset(ACTION_RULES),
}


@dataclass
class Access:
    """A user's roles and scope, read once per request (two small queries)."""

    user: object

    @cached_property
    def _roles(self) -> tuple[list[tuple[int, str]], list[ScopeAssignment]]:
        """The user's memberships (unit, role) and scope assignments, read by one statement
        (``_roles_sql``): nearly every page needs both."""
        if not self.user.is_authenticated:
            return [], []
        db = router.db_for_read(ScopeAssignment)
        with connections[db].cursor() as cursor:
            cursor.execute(_roles_sql(), [self.user.pk, self.user.pk])
            rows = cursor.fetchall()
        names = [f.attname for f in ScopeAssignment._meta.concrete_fields]
        memberships = [(unit_id, role) for kind, _id, unit_id, role, *_rest in rows if kind == 0]
        scopes = [
            ScopeAssignment.from_db(
                db, names, (pk, self.user.pk, role, org, inspection, bool(every))
            )
            for kind, pk, _unit, role, org, inspection, every in rows
            if kind == 1
        ]
        return memberships, scopes

    @property
    def _memberships(self) -> list[tuple[int, str]]:
        return self._roles[0]

    @property
    def _scopes(self) -> list[ScopeAssignment]:
        return self._roles[1]

    @property
    def is_admin(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_superuser)

    @cached_property
    def unit_ids(self) -> set[int]:
        return {unit_id for unit_id, _role in self._memberships}

    @cached_property
    def lead_unit_ids(self) -> set[int]:
        return {unit_id for unit_id, role in self._memberships if role == UnitRole.LEAD}

    @property
    def is_supervisor(self) -> bool:
        return self.is_admin or any(s.role == ScopeRole.SUPERVISOR for s in self._scopes)

    @property
    def is_observer(self) -> bool:
        return any(s.role == ScopeRole.OBSERVER for s in self._scopes)

    @property
    def is_unit_member(self) -> bool:
        return bool(self._memberships)

    @property
    def may_see_dashboard(self) -> bool:
        """The dashboard and the ledger: anyone with a role (each sees their own scope)."""
        return self.is_admin or self.is_supervisor or self.is_observer or self.is_unit_member

    @property
    def may_upload_ledger(self) -> bool:
        """An edited ledger may be uploaded by those who change tasks (never observers); each
        row is still checked against what the user may change."""
        return self.is_admin or self.is_supervisor or self.is_unit_member

    @property
    def may_import_notices(self) -> bool:
        """Published notices create organizations, inspections and tasks: administrators and
        supervisors over all organizations import them (the changes are made by the notice's
        system actor)."""
        if self.is_admin:
            return True
        return any(s.role == ScopeRole.SUPERVISOR and s.all_organizations for s in self._scopes)

    def _scope_q(self, roles: tuple[str, ...], prefix: str = "") -> Q | None:
        """Q over tasks (or inspections with prefix) covered by the user's scopes in ``roles``.

        None when the user holds no such scope; a Q matching every row (``pk__isnull=False``,
        not the empty ``Q()``, which vanishes when OR-ed) for an all-organizations scope.
        """
        q = Q(pk__in=[])
        matched = False
        for scope in self._scopes:
            if scope.role not in roles:
                continue
            matched = True
            if scope.all_organizations:
                return Q(pk__isnull=False)
            if scope.organization_id:
                q |= Q(**{f"{prefix}organization_id": scope.organization_id})
            if scope.inspection_id:
                q |= Q(**{f"{prefix}pk" if not prefix else f"{prefix}id": scope.inspection_id})
        return q if matched else None

    @staticmethod
    def _unit_task_ids(unit_ids: set[int]) -> QuerySet:
        """Ids of the tasks one of the units owns, leads or carries as a responsible unit.

        One ``UNION`` of three index lookups rather than three ORed conditions: with the OR,
        PostgreSQL can only walk the task list's order index and test every row (0.4 s at a
        million tasks when the unit's tasks are not among the first ones)."""
        through = Task.responsible_units.through
        # order_by(): without it each part would join problems and sort by the model's order.
        return (
            Task.objects.filter(owner_unit_id__in=unit_ids)
            .order_by()
            .values("pk")
            .union(
                Task.objects.filter(lead_unit_id__in=unit_ids).order_by().values("pk"),
                through.objects.filter(unit_id__in=unit_ids).order_by().values("task_id"),
            )
        )

    def _unit_q(self, unit_ids: set[int]) -> Q:
        """Q over tasks: the units' tasks (``_unit_task_ids``)."""
        return Q(pk__in=self._unit_task_ids(unit_ids))

    def _within(self, qs: QuerySet[Task] | None, roles: tuple[str, ...], units: Q | None):
        """``qs`` narrowed to the tasks of the user's scopes in ``roles`` or matching ``units``
        (all of them for an administrator, none for an anonymous or inactive user)."""
        qs = Task.objects.all() if qs is None else qs
        if not self.user.is_authenticated or not self.user.is_active:
            return qs.none()
        if self.is_admin:
            return qs
        q = Q(pk__in=[])
        scope_q = self._scope_q(roles, prefix="inspection__")
        if scope_q is not None:
            q |= scope_q
        if units is not None:
            q |= units
        return qs.filter(q)

    def tasks(self, qs: QuerySet[Task] | None = None) -> QuerySet[Task]:
        """Every task this user may see."""
        # An administrator's are all: their memberships are not read.
        units = self._unit_q(self.unit_ids) if not self.is_admin and self.unit_ids else None
        return self._within(qs, (ScopeRole.SUPERVISOR, ScopeRole.OBSERVER), units)

    def editable_tasks(self, qs: QuerySet[Task] | None = None) -> QuerySet[Task]:
        """Tasks this user may report progress on: supervised ones and their units' ones
        (never an observer's: observing gives no unit and no supervisor scope)."""
        units = self._unit_q(self.unit_ids) if not self.is_admin and self.unit_ids else None
        return self._within(qs, (ScopeRole.SUPERVISOR,), units)

    def lead_review_tasks(self, qs: QuerySet[Task] | None = None) -> QuerySet[Task]:
        """Tasks whose first close-out review this user may give: supervised ones, and those
        whose lead unit (owner unit when none) the user leads."""
        units = lead_review_q(self.lead_unit_ids) if self.lead_unit_ids else None
        return self._within(qs, (ScopeRole.SUPERVISOR,), units)

    def supervised_tasks(self, qs: QuerySet[Task] | None = None) -> QuerySet[Task]:
        """Tasks this user reviews as a supervisor (close-outs, extensions, reopening)."""
        return self._within(qs, (ScopeRole.SUPERVISOR,), None)

    def tally_q(self) -> Q | None:
        """The user's scope as a Q over the dashboard tallies (TaskTally, TaskDayTally: both
        have an ``inspection``), or None when it cannot be said there: a unit member's tasks
        are those their units own, lead or carry as responsible units, and the tallies count by
        owner only. Administrators: everything; supervisors and observers: their organizations,
        inspections or everything (the same scopes as ``tasks()``)."""
        if not self.user.is_authenticated or not self.user.is_active:
            return Q(pk__in=[])
        if self.is_admin:
            return Q(pk__isnull=False)
        if self.unit_ids:
            return None
        scope_q = self._scope_q((ScopeRole.SUPERVISOR, ScopeRole.OBSERVER), prefix="inspection__")
        return Q(pk__in=[]) if scope_q is None else scope_q

    def inspections(self) -> QuerySet[Inspection]:
        """Inspections the user may see: supervised ones, and those holding the user's tasks."""
        if self.is_admin:
            return Inspection.objects.all()
        q = Q(pk__in=[])
        scope_q = self._scope_q((ScopeRole.SUPERVISOR, ScopeRole.OBSERVER))
        if scope_q is not None:
            q |= scope_q
        if self.unit_ids:
            # The inspections of the units' tasks: the same rule as tasks(), never an OR over
            # the task table (which PostgreSQL could only answer by scanning it).
            mine = Task.objects.filter(self._unit_q(self.unit_ids)).order_by()
            q |= Q(pk__in=mine.values("inspection_id"))
        return Inspection.objects.filter(q)

    def signature(self) -> tuple:
        """Everything this Access's querysets depend on (the user, their roles and scopes), as
        a hashable key: two requests with the same signature build the same SQL. An active
        administrator's reads neither memberships nor scopes (no query), as the rest here."""
        user = self.user
        if not user.is_authenticated:
            return ("anonymous",)
        if user.is_superuser and user.is_active:
            return ("admin", user.pk)
        return (
            "user",
            user.pk,
            user.is_active,
            user.is_superuser,
            tuple(sorted(self._memberships)),
            tuple(
                sorted(
                    (s.role, s.all_organizations, s.organization_id or 0, s.inspection_id or 0)
                    for s in self._scopes
                )
            ),
        )

    def inspections_key(self) -> tuple | None:
        """What ``inspections()`` depends on, as a hashable key, or None when it depends on
        task data (a unit member's: the inspections of their units' tasks). Two users with the
        same key see the same inspections (tracker.scope_choices keeps lists by it)."""
        if self.is_admin:
            return ("all",)
        if self.unit_ids:
            return None
        parts = set()
        for scope in self._scopes:
            if scope.role not in (ScopeRole.SUPERVISOR, ScopeRole.OBSERVER):
                continue
            if scope.all_organizations:
                return ("all",)
            parts.add((scope.organization_id, scope.inspection_id))
        return ("scopes", frozenset(parts))

    def problems(self) -> QuerySet[Problem]:
        """Problems the user may read: every node of the inspections they supervise or observe,
        and for a unit member the problems of their units' tasks with the categories above
        them (never the rest of an inspection they only hold tasks in)."""
        if not self.user.is_authenticated or not self.user.is_active:
            return Problem.objects.none()
        if self.is_admin:
            return Problem.objects.all()
        q = Q(pk__in=[])
        scope_q = self._scope_q((ScopeRole.SUPERVISOR, ScopeRole.OBSERVER), prefix="inspection__")
        if scope_q is not None:
            q |= scope_q
        if self.unit_ids:
            mine = Task.objects.filter(self._unit_q(self.unit_ids)).order_by()
            q |= Q(pk__in=mine.values("problem_id"))
            q |= Q(pk__in=mine.values("problem__parent_id"))
            q |= Q(pk__in=mine.values("problem__parent__parent_id"))
        return Problem.objects.filter(q)

    def supervised_inspections(self) -> QuerySet[Inspection]:
        """Inspections this user supervises (plans, published notices and reports): the same
        scopes as ``supervised_tasks``, whether or not the inspection has tasks yet."""
        if not self.user.is_authenticated or not self.user.is_active:
            return Inspection.objects.none()
        if self.is_admin:
            return Inspection.objects.all()
        scope_q = self._scope_q((ScopeRole.SUPERVISOR,))
        return Inspection.objects.none() if scope_q is None else Inspection.objects.filter(scope_q)

    def supervised_organizations(self):
        """Organizations this user may open inspections of: those a supervisor scope names
        (all for an all-organizations scope or an administrator)."""
        from tracker.models import Organization

        if not self.user.is_authenticated or not self.user.is_active:
            return Organization.objects.none()
        if self.is_admin:
            return Organization.objects.all()
        scopes = [s for s in self._scopes if s.role == ScopeRole.SUPERVISOR]
        if any(s.all_organizations for s in scopes):
            return Organization.objects.all()
        return Organization.objects.filter(
            pk__in=[s.organization_id for s in scopes if s.organization_id]
        )

    # -- 反向核查 rounds: the supervisors and observers of the round's scope see a round; its
    # supervisors change it. Unit members never see rounds (they hold other units' tasks).

    @property
    def may_see_rechecks(self) -> bool:
        return self.is_admin or self.is_supervisor or self.is_observer

    def _round_q(self, roles: tuple[str, ...]) -> Q | None:
        """Q over re-check rounds whose scope lies in one of the user's scopes in ``roles``: an
        organization round needs the organization (or all), an inspection round the inspection
        or its organization."""
        q = Q(pk__in=[])
        matched = False
        for scope in self._scopes:
            if scope.role not in roles:
                continue
            matched = True
            if scope.all_organizations:
                return Q(pk__isnull=False)
            if scope.organization_id:
                q |= Q(organization_id=scope.organization_id)
                q |= Q(inspection__organization_id=scope.organization_id)
            if scope.inspection_id:
                q |= Q(inspection_id=scope.inspection_id)
        return q if matched else None

    def _rounds(self, roles: tuple[str, ...]):
        from tracker.models import RecheckRound

        if not self.user.is_authenticated or not self.user.is_active:
            return RecheckRound.objects.none()
        if self.is_admin:
            return RecheckRound.objects.all()
        q = self._round_q(roles)
        return RecheckRound.objects.none() if q is None else RecheckRound.objects.filter(q)

    def recheck_rounds(self):
        """Rounds this user may see (supervisors and observers of the round's scope)."""
        return self._rounds((ScopeRole.SUPERVISOR, ScopeRole.OBSERVER))

    def supervised_recheck_rounds(self):
        """Rounds this user may change (assign checkers, record outcomes)."""
        return self._rounds((ScopeRole.SUPERVISOR,))

    def is_task_unit_member(self, task: Task) -> bool:
        """One of the user's units owns, leads or carries the task."""
        if not self.unit_ids:
            return False
        if task.owner_unit_id in self.unit_ids or task.lead_unit_id in self.unit_ids:
            return True
        return task.responsible_units.filter(pk__in=self.unit_ids).exists()

    def can_edit(self, task: Task) -> bool:
        """May report progress on, upload evidence to, and request close-out of this task.

        Observers never may; supervisors may on what they supervise; unit members on their units'.
        """
        return self.can_supervise(task) or self.is_task_unit_member(task)

    def can_supervise(self, task: Task) -> bool:
        """The task lies in one of the user's supervisor scopes: the same rule as
        ``supervised_tasks()``, read from the loaded task and scopes without a query."""
        if self.is_admin:
            return True
        for scope in self._scopes:
            if scope.role != ScopeRole.SUPERVISOR:
                continue
            if scope.all_organizations:
                return True
            if scope.inspection_id is not None and scope.inspection_id == task.inspection_id:
                return True
            if scope.organization_id and scope.organization_id == task.inspection.organization_id:
                return True
        return False

    def can_lead_review(self, task: Task) -> bool:
        """A lead of the task's lead unit (or owner unit when none) gives the first review."""
        if self.can_supervise(task):
            return True
        return lead_review_unit_id(task) in self.lead_unit_ids

    def may(self, rule: str, task: Task) -> bool:
        """The rule ``ACTION_RULES`` names, for one task."""
        if not self.user.is_authenticated or not self.user.is_active:
            return False
        if rule == "admin":
            return self.is_admin
        if rule == "supervise":
            return self.can_supervise(task)
        if rule == "lead_review":
            return self.can_lead_review(task)
        if rule == "edit":
            return self.can_edit(task)
        raise ValueError(f"unknown rule {rule!r}")


def authorize(actor, action: str, task: Task | None) -> bool:
    """May ``actor`` (a ``tracker.actions.Actor``) make the change ``action`` on ``task``?

    A user is judged by their role and scope (``ACTION_RULES``), whatever page, upload or admin
    form the change came through. Without a user, only a system actor granted ``action`` may.
    ``task`` is None only for ``create_task``, judged on the new task's inspection.
    """
    rule = ACTION_RULES[action]
    if actor.user is None:
        return action in SYSTEM_GRANTS.get(actor.source, frozenset())
    access = actor.access if getattr(actor, "access", None) is not None else Access(actor.user)
    return access.may(rule, task)


@functools.cache
def _roles_sql() -> str:
    """Memberships (kind 0: unit, role) then scope assignments (kind 1: id, role,
    organization, inspection, all organizations) of one user, in the order each model's own
    query gave them (by id)."""
    m, s = Membership._meta, ScopeAssignment._meta
    names = [f.attname for f in s.concrete_fields]
    assert names == [
        "id",
        "user_id",
        "role",
        "organization_id",
        "inspection_id",
        "all_organizations",
    ]
    q = connection.ops.quote_name
    return (
        f"SELECT 0, {q('id')}, {q('unit_id')}, {q('role')}, NULL, NULL, NULL"  # noqa: S608
        f" FROM {q(m.db_table)} WHERE {q('user_id')} = %s"
        f" UNION ALL SELECT 1, {q('id')}, NULL, {q('role')}, {q('organization_id')},"
        f" {q('inspection_id')}, {q('all_organizations')}"
        f" FROM {q(s.db_table)} WHERE {q('user_id')} = %s ORDER BY 1, 2"
    )


def access_for(user_or_request) -> Access:
    """The user's Access. Given a request, it is read once per request and kept on it (the
    list, the task page and their forms all ask; roles do not change within a request)."""
    if isinstance(user_or_request, Access):
        return user_or_request
    if isinstance(user_or_request, HttpRequest):
        request = user_or_request
        access = getattr(request, "_rectify_access", None)
        if access is None or access.user is not request.user:
            access = request._rectify_access = Access(request.user)
        return access
    return Access(user_or_request)


def get_supervised_inspection(user_or_request, pk) -> Inspection:
    """The inspection if the user supervises it; otherwise 404, exactly as if it did not exist."""
    try:
        return (
            access_for(user_or_request)
            .supervised_inspections()
            .select_related("organization")
            .get(pk=pk)
        )
    except (Inspection.DoesNotExist, ValueError, TypeError):
        raise Http404("No inspection matches the given query.") from None


def get_recheck_round_for_user(user_or_request, pk):
    """The re-check round if the user may see it; otherwise 404, as if it did not exist."""
    from tracker.models import RecheckRound

    try:
        return (
            access_for(user_or_request)
            .recheck_rounds()
            .select_related("organization", "inspection__organization", "created_by")
            .get(pk=pk)
        )
    except (RecheckRound.DoesNotExist, ValueError, TypeError):
        raise Http404("No re-check round matches the given query.") from None


def get_task_for_user(user_or_request, pk: int, qs: QuerySet[Task] | None = None) -> Task:
    """The task if the user may see it; otherwise 404, exactly as if it did not exist."""
    try:
        return access_for(user_or_request).tasks(qs).get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404("No task matches the given query.") from None


def closeouts_to_review(access: Access):
    """Pending close-out requests this user reviews, oldest first: the lead-review stage for
    leads of the lead unit (owner unit when none); both stages for supervisors."""
    from tracker.choices import CloseoutStatus
    from tracker.models import CloseoutRequest

    qs = CloseoutRequest.objects.pending().select_related(
        "task__problem", "task__owner_unit", "task__inspection__organization", "requested_by"
    )
    q = Q(pk__in=[])
    every_task = access.is_admin and access.user.is_active
    if every_task:
        # Every task is an administrator's: no subquery over the task table (every page's
        # review badge asks), and no membership query for the lead-review stage.
        q = Q(pk__isnull=False)
    elif access.is_supervisor:
        q |= Q(task__in=access.supervised_tasks())
    if not every_task and access.lead_unit_ids:
        q |= Q(status=CloseoutStatus.PENDING_LEAD) & Q(task__in=access.lead_review_tasks())
    # Nobody reviews a request they made (separation of duties, as tracker.actions enforces).
    if access.user.is_authenticated:
        qs = qs.exclude(requested_by=access.user)
    return qs.filter(q).order_by("requested_at", "pk")


def extensions_to_review(access: Access):
    """Pending extension requests a supervisor decides, oldest first."""
    from tracker.models import ExtensionRequest

    if not access.is_supervisor:
        return ExtensionRequest.objects.none()
    qs = ExtensionRequest.objects.pending()
    if not (access.is_admin and access.user.is_active):  # all tasks: no subquery
        qs = qs.filter(task__in=access.supervised_tasks())
    return qs.select_related(
        "task__problem", "task__owner_unit", "task__inspection__organization", "requested_by"
    ).order_by("requested_at", "pk")


def supervision_documents(access: Access):
    """督办 documents a user may read: those about tasks they supervise, and those issued to one
    of their units (administrators: all). Observers and anyone else: none."""
    from tracker.models import SupervisionDocument

    qs = SupervisionDocument.objects.all()
    if not access.user.is_authenticated or not access.user.is_active:
        return qs.none()
    if access.is_admin:
        return qs
    q = Q(pk__in=[])
    if access.is_supervisor:
        through = SupervisionDocument.tasks.through
        q |= Q(
            pk__in=through.objects.filter(task__in=access.supervised_tasks()).values(
                "supervisiondocument_id"
            )
        )
    if access.unit_ids:
        q |= Q(unit_id__in=access.unit_ids)
    return qs.filter(q)


def get_document_for_user(user_or_request, pk):
    """The 督办 document if the user may read it; otherwise 404, exactly as if it did not exist."""
    from tracker.models import SupervisionDocument

    try:
        return (
            supervision_documents(access_for(user_or_request))
            .select_related("unit__organization", "organization", "issued_by", "replied_by")
            .get(pk=pk)
        )
    except (SupervisionDocument.DoesNotExist, ValueError, TypeError):
        raise Http404("No document matches the given query.") from None


def can_reply(access: Access, document) -> bool:
    """A member of the addressed unit, or a supervisor of its tasks, may record the reply."""
    if document.unit_id in access.unit_ids:
        return True
    return any(
        access.can_supervise(task)
        for task in document.tasks.select_related("inspection__organization")
    )
