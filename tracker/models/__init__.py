"""The data model, one module per part of the flow: orgs → inspections/notices → problems/tasks
→ history."""

from tracker.models.aggregates import (
    CategoryFigure,
    FigureDay,
    GroupFigure,
    TaskDayTally,
    TaskTally,
    TypeFigure,
)
from tracker.models.history import HistoryIsAppendOnly, InspectionEvent, TaskEvent
from tracker.models.inspections import Inspection, NoticeReport, SourceNotice
from tracker.models.ladder import (
    DocumentCounter,
    DocumentState,
    LadderDelivery,
    SupervisionDocument,
)
from tracker.models.ledger_jobs import LedgerJob
from tracker.models.notifications import Notification
from tracker.models.orgs import Membership, Organization, ScopeAssignment, Unit
from tracker.models.outcomes import InspectionOutcome as InspectionOutcome
from tracker.models.rechecks import RecheckItem, RecheckRound
from tracker.models.reminders import (
    ChannelDelivery,
    ReminderChannel,
    ReminderDigest,
    ReminderLog,
    ReminderSweep,
)
from tracker.models.repeats import RepeatLink
from tracker.models.tasks import Measure, Problem, Task, local_today
from tracker.models.tokens import ApiToken
from tracker.models.workflow import CloseoutRequest, CloseoutReview, Evidence, ExtensionRequest

__all__ = [
    "HistoryIsAppendOnly",
    "Inspection",
    "InspectionEvent",
    "Measure",
    "Membership",
    "NoticeReport",
    "Organization",
    "Problem",
    "ScopeAssignment",
    "SourceNotice",
    "Task",
    "TaskEvent",
    "Unit",
    "local_today",
]
__all__ += ["CloseoutRequest", "CloseoutReview", "Evidence", "ExtensionRequest"]
__all__ += ["ChannelDelivery", "ReminderChannel", "ReminderDigest", "ReminderLog", "ReminderSweep"]
__all__ += ["TaskDayTally", "TaskTally", "Notification"]
__all__ += ["CategoryFigure", "FigureDay", "GroupFigure", "TypeFigure"]
__all__ += ["DocumentCounter", "DocumentState", "LadderDelivery", "SupervisionDocument"]
__all__ += ["RecheckItem", "RecheckRound", "RepeatLink"]
__all__ += ["ApiToken", "LedgerJob"]
