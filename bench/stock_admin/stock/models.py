"""A plain copy of rectify's task table: the same columns (``tracker_task``'s), the owner and
lead units as foreign keys to a plain unit table, the other references as plain id columns
(indexed, as the foreign keys' columns are in rectify), and rectify's three plain two-column
indexes. No expression indexes, no custom manager: what a first Django admin would have."""

from django.db import models


class Unit(models.Model):
    name = models.CharField(max_length=200)
    organization_id = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    problem_id = models.BigIntegerField(db_index=True)
    inspection_id = models.BigIntegerField(db_index=True)
    owner_unit = models.ForeignKey(Unit, models.PROTECT, related_name="owned_tasks")
    lead_unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="led_tasks"
    )
    lead_leader_name = models.CharField(max_length=100, blank=True)
    lead_leader_id = models.IntegerField(null=True, blank=True, db_index=True)
    task_type = models.CharField(max_length=16)
    status = models.CharField(
        max_length=24,
        choices=[
            ("not_started", "not started"),
            ("in_progress", "in progress"),
            ("basically_completed", "basically completed"),
            ("completed", "completed"),
            ("closed", "closed"),
        ],
    )
    deadline = models.DateField(null=True, blank=True)
    original_deadline = models.DateField(null=True, blank=True)
    report_due_on = models.DateField(null=True, blank=True)
    progress = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["owner_unit", "status"]),
            models.Index(fields=["inspection_id", "status"]),
            models.Index(fields=["status", "deadline"]),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}"


# The columns copied from rectify, in order (see the copy_from_rectify command).
TASK_COLUMNS = [
    "id",
    "problem_id",
    "inspection_id",
    "owner_unit_id",
    "lead_unit_id",
    "lead_leader_name",
    "lead_leader_id",
    "task_type",
    "status",
    "deadline",
    "original_deadline",
    "report_due_on",
    "progress",
    "status_changed_at",
    "closed_at",
    "version",
    "created_at",
    "updated_at",
]
