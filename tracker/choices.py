"""Enumerations of the rectification domain, with their Chinese labels."""

import functools

from django.db import models
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _


@functools.cache
def _labels_of(field) -> dict:
    return dict(field.flatchoices)


class ChoiceLabels:
    """``get_FOO_display()`` from a label table built once per field. Django's own rebuilds the
    field's whole table on every call, hashing each lazy label (one translation lookup per
    choice): 140 µs for an event's kind (33 choices), paid for each row a page shows. The
    label is still translated into the active language when it is shown."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            label = _labels_of(field).get(value, value)
        except TypeError:  # an unhashable value (none of this app's fields has one)
            return super()._get_FIELD_display(field)
        return force_str(label, strings_only=True)


class Level(models.TextChoices):
    CENTRAL = "central", _("中央")
    PROVINCIAL = "provincial", _("省委")
    CITY = "city", _("市委")
    COUNTY = "county", _("县委")
    DISTRICT = "district", _("区委")
    OTHER = "other", _("其他")


# How a notice spells a level, mapped to the code stored.
LEVEL_WORDS = {
    "中央": Level.CENTRAL,
    "省委": Level.PROVINCIAL,
    "市委": Level.CITY,
    "县委": Level.COUNTY,
    "区委": Level.DISTRICT,
}


class InspectionKind(models.TextChoices):
    REGULAR = "regular", _("常规")
    SPECIAL = "special", _("专项")
    AD_HOC = "ad_hoc", _("机动")
    RETURN_VISIT = "return_visit", _("回头看")


KIND_WORDS = {
    "常规": InspectionKind.REGULAR,
    "专项": InspectionKind.SPECIAL,
    "机动": InspectionKind.AD_HOC,
    "回头看": InspectionKind.RETURN_VISIT,
}


class DatePrecision(models.TextChoices):
    DAY = "day", _("日")
    MONTH = "month", _("月")


class ProblemKind(models.TextChoices):
    CATEGORY = "category", _("方面")
    PROBLEM = "problem", _("问题")


class Withheld(models.TextChoices):
    """Why a problem is counted but not printed in a published notice."""

    PUBLIC = "", _("公开")
    SECRET = "secret", _("涉密")
    PRIVACY = "privacy", _("涉及个人隐私")
    CASE = "case", _("在办案件")


class TaskType(models.TextChoices):
    IMMEDIATE = "immediate", _("立行立改")
    DEADLINE = "deadline", _("限期整改")
    LONG_TERM = "long_term", _("长期坚持")


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未启动")
    IN_PROGRESS = "in_progress", _("整改中")
    BASICALLY_COMPLETED = "basically_completed", _("基本完成")
    COMPLETED = "completed", _("已完成")
    CLOSED = "closed", _("已销号")


# Statuses that count as done: never overdue, counted in the completion rate.
DONE_STATUSES = (TaskStatus.COMPLETED, TaskStatus.CLOSED)

# What a notice's status word (folded by the parser) means for a task.
NOTICE_STATUS_TO_TASK = {
    "completed": TaskStatus.COMPLETED,
    "basically_completed": TaskStatus.BASICALLY_COMPLETED,
    "not_completed": TaskStatus.IN_PROGRESS,
    "long_term": TaskStatus.IN_PROGRESS,
}


class EventKind(models.TextChoices):
    CREATED = "created", _("创建")
    STATUS = "status", _("状态变更")
    DEADLINE = "deadline", _("时限变更")
    OWNER = "owner", _("责任主体变更")
    LEAD_UNIT = "lead_unit", _("牵头单位变更")
    RESPONSIBLE_UNITS = "responsible_units", _("责任单位变更")
    LEAD_LEADER = "lead_leader", _("牵头领导变更")
    TYPE = "type", _("整改类型变更")
    REPORT_DUE = "report_due", _("报告日期变更")
    NOTE = "note", _("进展")
    MEASURE = "measure", _("措施勾选")
    MEASURE_ADDED = "measure_added", _("措施新增")
    MEASURE_EDITED = "measure_edited", _("措施修改")
    MEASURE_REMOVED = "measure_removed", _("措施删除")
    EVIDENCE = "evidence", _("佐证材料")
    CLOSEOUT_REQUESTED = "closeout_requested", _("申请销号")
    CLOSEOUT_LEAD_APPROVED = "closeout_lead_approved", _("牵头单位审核通过")
    CLOSEOUT_APPROVED = "closeout_approved", _("整改办审核通过")
    CLOSEOUT_RETURNED = "closeout_returned", _("退回")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_APPROVED = "extension_approved", _("延期批准")
    EXTENSION_REFUSED = "extension_refused", _("延期驳回")
    EXTENSION_CANCELLED = "extension_cancelled", _("延期申请终止")
    REOPENED = "reopened", _("重新打开")
    REMINDER = "reminder", _("提醒")
    IMPORTED = "imported", _("通报导入")
    PROBLEM = "problem", _("问题修改")
    WITHHELD = "withheld", _("公开设置变更")
    # Supervision (督办): new_value holds the code (LadderRung, RecheckOutcome).
    ACKNOWLEDGED = "acknowledged", _("签收")
    LADDER = "ladder", _("督办文书")
    LADDER_REPLY = "ladder_reply", _("督办回复")
    RECHECK = "recheck", _("反向核查")
    REPEAT = "repeat", _("屡巡屡犯")


class EventSource(models.TextChoices):
    USER = "user", _("用户")
    ADMIN = "admin", _("管理后台")
    IMPORT = "import", _("通报导入")
    LEDGER = "ledger", _("台账导入")
    PLAN = "plan", _("方案导入")
    SWEEP = "sweep", _("提醒巡检")
    SYSTEM = "system", _("系统")
    # A change made through the REST API (tracker.api), by the token's or session's user.
    API = "api", _("接口")


class UnitRole(models.TextChoices):
    CLERK = "clerk", _("经办人")
    LEAD = "lead", _("分管领导")


class ScopeRole(models.TextChoices):
    SUPERVISOR = "supervisor", _("整改办")
    OBSERVER = "observer", _("纪检监督")


class CloseoutStatus(models.TextChoices):
    """Where a close-out request (申请销号) stands in the double review (双审核)."""

    PENDING_LEAD = "pending_lead", _("待牵头单位审核")
    PENDING_SUPERVISOR = "pending_supervisor", _("待整改办审核")
    APPROVED = "approved", _("已销号")
    RETURNED = "returned", _("已退回")
    # Approved once, then the task was reopened (回头看): no longer a valid close-out.
    REOPENED = "reopened", _("已销号后重新打开")


class MeasureState(models.TextChoices):
    """A measure's state as history records it (and the progress form sets it)."""

    OPEN = "open", _("未完成")
    DONE = "done", _("已完成")
    NOT_APPLICABLE = "not_applicable", _("不适用")


class ReviewStage(models.TextChoices):
    LEAD = "lead", _("牵头单位审核")
    SUPERVISOR = "supervisor", _("整改办审核")


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", _("通过")
    RETURNED = "returned", _("退回")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("已驳回")
    # The task was closed out while the request was pending: it ends undecided.
    CANCELLED = "cancelled", _("已终止(任务已销号)")


# Evidence (佐证材料) types accepted, by the extension the content sniffing reports.
EVIDENCE_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# What a notice declares about itself (``ParsedInspection.declared`` keys, shared/seeds/README.md)
# as the import preview shows it: the totals first, then the outcomes (处理处分, 制度, 资金).
# The unit is part of the label (the value is a bare number).
DECLARED_LABELS = {
    "problems": _("反馈问题(个)"),
    "units": _("被巡察党组织(个)"),
    "categories": _("问题方面(个)"),
    "completed": _("已完成(个)"),
    "basically_completed": _("基本完成(个)"),
    "not_completed": _("未完成(个)"),
    "long_term": _("长期坚持(个)"),
    "completion_rate": _("整改完成率(%)"),
    "lead_units": _("牵头单位(个)"),
    "responsible_units": _("责任单位(个)"),
    "measures": _("整改措施(项)"),
    "tasks": _("整改任务(项)"),
    "cases_filed": _("立案(件)"),
    "party_discipline": _("党纪处分(人)"),
    "government_discipline": _("政务处分(人)"),
    "organizational_handling": _("组织处理(人)"),
    "admonishment": _("诫勉谈话(人)"),
    "education_reminder": _("提醒谈话、批评教育(人)"),
    "accountability": _("问责(人)"),
    "institutions": _("建立完善制度(项)"),
    "funds_returned_wan_yuan": _("清退收缴资金(万元)"),
    "losses_recovered_wan_yuan": _("挽回损失(万元)"),
}
# The keys of DECLARED_LABELS that are outcomes of the rectification rather than problem totals.
DECLARED_OUTCOMES = frozenset(
    {
        "cases_filed",
        "party_discipline",
        "government_discipline",
        "organizational_handling",
        "admonishment",
        "education_reminder",
        "accountability",
        "institutions",
        "funds_returned_wan_yuan",
        "losses_recovered_wan_yuan",
    }
)


class LadderRung(models.TextChoices):
    """The 督办 ladder, in order: each rung is issued when the one before went unanswered or the
    task stays overdue."""

    NOTICE = "notice", _("督办通知书")
    REMINDER = "reminder", _("提醒书")
    WARNING = "warning", _("告诫书")
    ACCOUNTABILITY = "accountability", _("问责书")


LADDER_ORDER = [
    LadderRung.NOTICE,
    LadderRung.REMINDER,
    LadderRung.WARNING,
    LadderRung.ACCOUNTABILITY,
]


class RecheckOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("确认到位")
    FAILED = "failed", _("未到位")


class RecheckState(models.TextChoices):
    """A re-check round (反向核查) is open until every sampled task has its outcome."""

    OPEN = "open", _("核查中")
    DONE = "done", _("已完成")
