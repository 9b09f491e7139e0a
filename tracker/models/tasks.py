"""The problem tree and the rectification task that tracks each leaf problem."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker import rules
from tracker.choices import (
    DONE_STATUSES,
    ChoiceLabels,
    MeasureState,
    ProblemKind,
    TaskStatus,
    TaskType,
    Withheld,
)


def local_today() -> datetime.date:
    """Today in the project's time zone (Asia/Shanghai), the day deadlines are judged by."""
    return timezone.localdate()


class Problem(models.Model):
    """A node of an inspection's problem tree: a category (方面), a problem or a sub-problem."""

    inspection = models.ForeignKey(
        "tracker.Inspection",
        verbose_name=_("巡视巡察"),
        # PROTECT here and below: a problem that tasks or history refer to never vanishes.
        on_delete=models.PROTECT,
        related_name="problems",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(
        _("类别"), max_length=16, choices=ProblemKind.choices, default=ProblemKind.PROBLEM
    )
    label = models.CharField(_("序号"), max_length=20, blank=True, help_text=_("如 (一)、1.、(3)"))
    order = models.PositiveIntegerField(_("顺序"), default=0)
    title = models.TextField(_("问题"))
    # NFKC-folded title without punctuation or spaces: two notices' "same problem" match on it.
    title_key = models.CharField(_("匹配键"), max_length=255, db_index=True, editable=False)
    detail = models.TextField(_("整改情况"), blank=True)
    withheld = models.CharField(
        _("不公开原因"),
        max_length=16,
        choices=Withheld.choices,
        blank=True,
        default=Withheld.PUBLIC,
        help_text=_("不公开的问题在通报中只计数,不列出"),
    )
    sources = models.ManyToManyField(
        "tracker.SourceNotice", verbose_name=_("来源通报"), blank=True, related_name="problems"
    )

    class Meta:
        verbose_name = _("问题")
        verbose_name_plural = _("问题")
        ordering = ["inspection", "order"]

    def __str__(self) -> str:
        return f"{self.label}{self.title}" if self.label else self.title

    def save(self, *args, **kwargs) -> None:
        from tracker.importer.parser import normalize_title

        self.title_key = normalize_title(self.title)[:255]
        super().save(*args, **kwargs)

    def ancestors(self) -> list[Problem]:
        """From the root down to the parent (a few rows: trees are two or three deep)."""
        chain: list[Problem] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


def urgency_rank() -> models.Case:
    """Open tasks with a deadline (0), open ones without (长期坚持 or none, 1), done ones (2).

    Independent of the day on purpose: within rank 0 the deadline order already puts overdue
    work first, so ``(urgency_rank(), deadline, id)`` is the list's urgency order and one index
    (``task_urgency``) serves it at any volume, with no sort of the whole table."""
    return models.Case(
        models.When(status__in=DONE_STATUSES, then=models.Value(2)),
        models.When(
            models.Q(deadline__isnull=True) | models.Q(task_type=TaskType.LONG_TERM),
            then=models.Value(1),
        ),
        default=models.Value(0),
    )


class TaskQuerySet(models.QuerySet):
    """Overdue, due within, no deadline and report due as querysets, for lists, dashboards and
    sweeps. The rules themselves are ``tracker.rules``; this only filters by them."""

    def open(self):
        return self.filter(rules.open_q())

    def overdue(self, today: datetime.date | None = None):
        """Deadline passed (in Asia/Shanghai) and not done; 长期坚持 is never overdue."""
        return self.filter(rules.overdue_q(today or local_today()))

    def no_deadline(self):
        return self.filter(rules.no_deadline_q())

    def due_within(self, days: int, today: datetime.date | None = None):
        """Open, not overdue, and due within ``days`` days from today (today included)."""
        return self.filter(rules.due_soon_q(today or local_today(), days))

    def report_due(self, today: datetime.date | None = None):
        """长期坚持 tasks whose periodic progress report is due."""
        return self.filter(rules.report_due_q(today or local_today()))


class Task(ChoiceLabels, models.Model):
    """The trackable rectification task for one leaf problem: owner, deadline, status, measures."""

    problem = models.OneToOneField(
        Problem, verbose_name=_("问题"), on_delete=models.PROTECT, related_name="task"
    )
    inspection = models.ForeignKey(
        "tracker.Inspection",
        verbose_name=_("巡视巡察"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    owner_unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name=_("责任主体"),
        on_delete=models.PROTECT,
        related_name="owned_tasks",
    )
    lead_unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name=_("牵头单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_tasks",
    )
    # The problem's category (方面), its top-level ancestor: the parent, or the grandparent when
    # deeper. Set once when the task is created (the problem tree of a problem with tasks is
    # read-only in the admin), so the dashboard groups and tallies by it without a join.
    # Derived, so not serialized: fixtures stay as they were, and loaddata's callers run
    # tracker.aggregates.rebuild(), which fills it.
    category = models.ForeignKey(
        Problem,
        verbose_name=_("问题类别"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=True,
        serialize=False,
    )
    responsible_units = models.ManyToManyField(
        "tracker.Unit", verbose_name=_("责任单位"), blank=True, related_name="responsible_tasks"
    )
    lead_leader_name = models.CharField(_("牵头领导"), max_length=100, blank=True)
    lead_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("牵头领导账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_tasks",
    )
    task_type = models.CharField(
        _("整改类型"), max_length=16, choices=TaskType.choices, default=TaskType.DEADLINE
    )
    status = models.CharField(
        _("整改状态"), max_length=24, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    deadline = models.DateField(_("整改时限"), null=True, blank=True)
    original_deadline = models.DateField(
        _("原定时限"), null=True, blank=True, help_text=_("延期后保留的最初时限")
    )
    # For 长期坚持: the day the next periodic progress report is due.
    report_due_on = models.DateField(_("下次报告日期"), null=True, blank=True)
    progress = models.TextField(_("进展情况"), blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    # 签收: a task given to a unit by a person (plan import, in-app creation, an owner change)
    # waits for the owner unit to acknowledge it: assigned_at set, acknowledged_at empty. Tasks
    # created by a notice import or maintenance (no user) have neither and never wait.
    assigned_at = models.DateTimeField(_("分派时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    # Optimistic concurrency: every change bumps it; a save based on an older version is refused.
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改任务")
        verbose_name_plural = _("整改任务")
        ordering = ["inspection_id", "problem__order"]
        indexes = [
            models.Index(fields=["owner_unit", "status"]),
            models.Index(fields=["inspection", "status"]),
            models.Index(fields=["status", "deadline"]),
            # Open work by deadline: overdue lists and the reminder sweep read only this.
            models.Index(
                fields=["deadline"],
                name="task_open_deadline",
                condition=~models.Q(status__in=["completed", "closed"]),
            ),
            # The task list's default order (urgency), read in index order page by page.
            models.Index(urgency_rank(), models.F("deadline"), models.F("id"), name="task_urgency"),
            # The same order within one inspection or one owner (filters and clerks' lists):
            # without the leading column PostgreSQL walks the whole urgency index to find them.
            models.Index(
                models.F("inspection"),
                urgency_rank(),
                models.F("deadline"),
                models.F("id"),
                name="task_inspection_urgency",
            ),
            models.Index(
                models.F("owner_unit"),
                urgency_rank(),
                models.F("deadline"),
                models.F("id"),
                name="task_owner_urgency",
            ),
            # Tasks waiting for 签收, by when they were given: the sweep's 待签收 tier and the
            # dashboard read only this (few rows at any volume).
            models.Index(
                fields=["assigned_at"],
                name="task_awaiting_ack",
                condition=models.Q(assigned_at__isnull=False, acknowledged_at__isnull=True),
            ),
            # Open 长期坚持 work by report date: the reminder sweep's "progress report due".
            models.Index(
                fields=["report_due_on"],
                name="task_open_report_due",
                condition=models.Q(task_type="long_term")
                & ~models.Q(status__in=["completed", "closed"]),
            ),
        ]

    def __str__(self) -> str:
        return str(self.problem)

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    # The predicates below are tracker.rules' (one definition, checked against its Q builders).

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return rules.is_overdue(self, today or local_today())

    def days_overdue(self, today: datetime.date | None = None) -> int:
        return rules.days_overdue(self, today or local_today())

    @property
    def has_no_deadline(self) -> bool:
        return rules.has_no_deadline(self)

    def is_report_due(self, today: datetime.date | None = None) -> bool:
        return rules.is_report_due(self, today or local_today())

    @property
    def awaits_acknowledgement(self) -> bool:
        """Given to its owner unit by a person and not signed for (签收) yet."""
        return self.assigned_at is not None and self.acknowledged_at is None


class Measure(models.Model):
    """One rectification measure of a task (一是…二是…), ticked off as it is done."""

    task = models.ForeignKey(
        Task, verbose_name=_("整改任务"), on_delete=models.CASCADE, related_name="measures"
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)
    text = models.TextField(_("措施"))
    done = models.BooleanField(_("已完成"), default=False)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # A measure that turned out not to apply counts as settled for close-out, with its reason.
    not_applicable = models.BooleanField(_("不适用"), default=False)
    na_reason = models.CharField(_("不适用理由"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("整改措施")
        verbose_name_plural = _("整改措施")
        ordering = ["task", "order"]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def state(self) -> str:
        """The MeasureState code history records for this measure."""
        if self.not_applicable:
            return MeasureState.NOT_APPLICABLE
        return MeasureState.DONE if self.done else MeasureState.OPEN

    @property
    def settled(self) -> bool:
        """Done, or not applicable with a reason: what a close-out request needs of it."""
        return self.done or (self.not_applicable and bool(self.na_reason.strip()))
