"""URLs of the tracker app. Each area keeps its routes in its own section."""

from django.urls import path

from tracker.views import workspace

app_name = "tracker"

# --- workspace: task list, task page, progress, evidence, close-out, extensions, review queue
urlpatterns = [
    path("", workspace.task_list, name="task_list"),
    path("tasks/<int:pk>/", workspace.task_detail, name="task_detail"),
    path("tasks/<int:pk>/progress/", workspace.task_progress, name="task_progress"),
    path(
        "tasks/<int:pk>/evidence/<int:evidence_pk>/",
        workspace.evidence_download,
        name="evidence_download",
    ),
    path("tasks/<int:pk>/closeout/", workspace.closeout_request, name="closeout_request"),
    path("tasks/<int:pk>/closeout/review/", workspace.closeout_review, name="closeout_review"),
    path("tasks/<int:pk>/extension/", workspace.extension_request, name="extension_request"),
    path("tasks/<int:pk>/extension/decide/", workspace.extension_decide, name="extension_decide"),
    path("tasks/<int:pk>/reopen/", workspace.task_reopen, name="task_reopen"),
    path("review/", workspace.review_queue, name="review_queue"),
]

# --- notifications (通知)
from tracker.views import inbox  # noqa: E402  (this section's own imports)

urlpatterns += [
    path("notifications/", inbox.notification_list, name="notification_list"),
    path("notifications/<int:pk>/", inbox.notification_open, name="notification_open"),
]

# --- dashboard and ledger export/import
from tracker.views import dashboard, ledger, scoring  # noqa: E402  (this section's own imports)

urlpatterns += [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("scores/", scoring.unit_scores, name="unit_scores"),
    path("scores/export.xlsx", scoring.unit_scores_export, name="unit_scores_export"),
    path("ledger/export/", ledger.ledger_export, name="ledger_export"),
    path("ledger/upload/", ledger.ledger_upload, name="ledger_upload"),
    path("ledger/confirm/", ledger.ledger_confirm, name="ledger_confirm"),
    path("ledger/jobs/<int:pk>/", ledger.ledger_job, name="ledger_job"),
    path("ledger/jobs/<int:pk>/status/", ledger.ledger_job_status, name="ledger_job_status"),
    path("ledger/jobs/<int:pk>/download/", ledger.ledger_job_download, name="ledger_job_download"),
]

# --- rectification plan (整改方案) import and template
from tracker.views import plan  # noqa: E402  (this section's own imports)

urlpatterns += [
    path("plans/upload/", plan.plan_upload, name="plan_upload"),
    path("plans/confirm/", plan.plan_confirm, name="plan_confirm"),
    path("plans/template/", plan.plan_template, name="plan_template"),
]

# --- inspections set up in the app: the inspection, its problems, assignment of its tasks
from tracker.views import assign  # noqa: E402  (this section's own imports)

urlpatterns += [
    path("inspections/", assign.inspection_list, name="inspection_list"),
    path("inspections/new/", assign.inspection_edit, name="inspection_new"),
    path("inspections/<int:pk>/edit/", assign.inspection_edit, name="inspection_edit"),
    path("inspections/<int:pk>/problems/", assign.inspection_problems, name="inspection_problems"),
    path(
        "inspections/<int:pk>/problems/<int:problem_pk>/edit/",
        assign.problem_edit,
        name="problem_edit",
    ),
]

# --- notice import (admin upload lives in the admin)
urlpatterns += []

# --- documents: the progress notice and the rectification report of an inspection
from tracker.views import documents  # noqa: E402  (this section's own imports)

urlpatterns += [
    path("inspections/<int:pk>/notice.docx", documents.notice_docx, name="notice_docx"),
    path("inspections/<int:pk>/notice.txt", documents.notice_txt, name="notice_txt"),
    path("inspections/<int:pk>/report.docx", documents.report_docx, name="report_docx"),
]

# --- supervision (督办): 签收, the ladder of documents and their replies
from tracker.views import ladder  # noqa: E402  (this section's own imports)

urlpatterns += [
    path("tasks/<int:pk>/acknowledge/", ladder.task_acknowledge, name="task_acknowledge"),
    path("ladder/", ladder.ladder_overview, name="ladder"),
    path("ladder/issue/", ladder.ladder_issue, name="ladder_issue"),
    path("ladder/<int:pk>/", ladder.ladder_document, name="ladder_document"),
    path("ladder/<int:pk>/document.docx", ladder.ladder_docx, name="ladder_docx"),
    path("ladder/<int:pk>/reply/", ladder.ladder_reply, name="ladder_reply"),
    path("ladder/<int:pk>/reply-file/", ladder.ladder_reply_file, name="ladder_reply_file"),
]

# --- 反向核查: re-check rounds of closed tasks
from tracker.views import rechecks  # noqa: E402  (this section's own imports)

urlpatterns += [
    path("rechecks/", rechecks.recheck_list, name="recheck_list"),
    path("rechecks/<int:pk>/", rechecks.recheck_detail, name="recheck_detail"),
    path("rechecks/<int:pk>/export.xlsx", rechecks.recheck_export, name="recheck_export"),
    path(
        "rechecks/<int:pk>/items/<int:item_pk>/checker/",
        rechecks.recheck_checker,
        name="recheck_checker",
    ),
    path(
        "rechecks/<int:pk>/items/<int:item_pk>/record/",
        rechecks.recheck_record,
        name="recheck_record",
    ),
]
