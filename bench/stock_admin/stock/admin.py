"""The stock ModelAdmin: list_filter on status and owner unit, nothing tuned (full counts, the
owner-unit filter lists every unit, default pagination of 100)."""

from django.contrib import admin

from stock.models import Task, Unit


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner_unit", "task_type", "status", "deadline")
    list_filter = ("status", "owner_unit")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    search_fields = ("name",)
