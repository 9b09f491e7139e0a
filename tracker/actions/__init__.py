"""The one way to change a task.

Every field of a task that matters (status, deadline, owner, lead unit, responsible units, lead
leader, type, report date, progress, measures) and the close-out and extension workflow change
only through the functions here. Each one runs in a transaction, locks the task row, asks
``tracker.permissions.authorize`` whether its actor may make this change (role, scope, stage:
callers never decide), checks the workflow rule, writes one history event per change naming its
actor and source, bumps the task's version, and defers any email or queued work to
``transaction.on_commit``. The admin, the views, the notice importer, the ledger upload and the
Celery sweep all call these functions; none of them assigns ``task.status`` itself.

Events store codes (status, type, measure state, close-out stage), unit ids and ISO dates, never
labels: ``tracker.models.history.label_events`` renders them in the reader's language.
"""

from tracker.actions.base import (  # noqa: F401
    TRANSITIONS,
    ActionError,
    Actor,
    NotAllowed,
    StaleTask,
    allowed_statuses,
    record_event,
)
from tracker.actions.closeout import (  # noqa: F401
    approve_closeout,
    closeout_blockers,
    lead_review_closeout,
    reopen,
    request_closeout,
    return_closeout,
)
from tracker.actions.extensions import (  # noqa: F401
    approve_extension,
    refuse_extension,
    request_extension,
)
from tracker.actions.fields import (  # noqa: F401
    NewTask,
    admin_set_status,
    change_deadline,
    change_lead_leader,
    change_lead_unit,
    change_owner,
    change_report_due,
    change_responsible_units,
    change_status,
    change_type,
    create_task,
    create_tasks,
)
from tracker.actions.problems import (  # noqa: F401
    KEEP,
    Assignment,
    TaskFields,
    assign_tasks,
    change_outcome,
    create_inspection,
    create_problem,
    edit_inspection,
    edit_problem,
    record_outcome,
    remove_outcome,
)
from tracker.actions.progress import (  # noqa: F401
    add_evidence,
    add_measure,
    edit_measure,
    mark_measure_not_applicable,
    record_note,
    remove_measure,
    tick_measure,
    update_progress,
)
from tracker.actions.rechecks import (  # noqa: F401
    assign_checker,
    draw_recheck_sample,
    record_recheck,
)
from tracker.actions.reminders import record_reminder, record_reminders  # noqa: F401
from tracker.actions.repeats import link_repeats, recompute_repeats  # noqa: F401
from tracker.actions.supervision import (  # noqa: F401
    acknowledge,
    issue_ladder_document,
    reply_ladder_document,
)
