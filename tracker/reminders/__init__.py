"""The reminder sweep: who is told about which task today, and sending that as one digest each.

The package follows the flow: ``tiers`` (how urgent) → ``recipients`` (who) → ``planning``
(collect and record) → ``claims`` (the state of each delivery) → ``channels`` (how it gets
there: email, 企业微信, 钉钉, webhooks; ``quiet`` hours for all but email) → ``delivery``
(batch after batch). Its public names are importable from here.

Three steps, each safe to repeat and to run twice at once:

1. **collect** (read only): the tasks in a tier today — green / yellow before the deadline,
   red / escalated after it, report due for 长期坚持 — selected with the one definition of
   overdue in ``TaskQuerySet`` (an index range scan on ``task_open_deadline``), and the people
   each tier reaches. ``--dry-run`` stops here.
2. **record**: one ``ReminderDigest`` per recipient and day and one ``ReminderLog`` per
   (task, recipient, tier, day), inserted with ``ON CONFLICT DO NOTHING`` against their unique
   constraints, so a second sweep of the same day adds nothing.
3. **deliver**: claim a batch of digests (``SELECT … FOR UPDATE SKIP LOCKED``, then mark them
   ``sending`` with a token and a lease), send the batch over one SMTP connection, and mark each
   digest sent right after the server accepted it. A temporary failure (4xx, connection lost)
   is retried later with exponential backoff, a permanent one (5xx) is recorded as failed; a
   sender that died leaves its lease to run out and the next run takes the claim over.

The only window in which an email can go out twice is between the server's "250 OK" and the
UPDATE that follows it (microseconds); SMTP itself offers nothing tighter. (That UPDATE commits
without waiting for the disk flush unless REMINDER_DURABLE_MARK is set: a killed worker changes
nothing, a crash of the database server could lose its last ~0.6 s of marks.) After each batch,
``record_sent`` puts one reminder event per task and day on the timelines.

The same code runs on SQLite (``make run``): where PostgreSQL gets a faster statement (COPY and
one INSERT … SELECT for the log, ``= ANY(array)``, row locks for claims, an advisory lock for the
timeline) SQLite gets an equivalent portable one (``bulk_create``, ``IN (…)``, a claim by one
conditional UPDATE, its single writer lock taken first). A sender that fails on the way puts its
unsent claims back for a retry (``send_batch``): nothing stays "sending".

Sized for 1,000,000 tasks of which 100,000 are overdue (bench/RESULTS-sweep.md): tiers are
selected by partial-index range scans, log rows go in by COPY, rows are rendered in Python.
"""

from tracker.models import local_today
from tracker.reminders.channels.email import is_permanent, send_batch, smtp_code
from tracker.reminders.claims import (
    DeliveryReport,
    channel_claimable_ids,
    claim,
    claim_channels,
    claimable_ids,
    expire,
    expire_channels,
    next_channel_attempt,
    record_sent,
)
from tracker.reminders.content import task_url_template
from tracker.reminders.delivery import deliver, deliver_channels, sweep
from tracker.reminders.ladder import claimable_ids as ladder_claimable_ids
from tracker.reminders.ladder import deliver as deliver_ladder
from tracker.reminders.planning import (
    Plan,
    collect,
    is_planned,
    plan_channels,
    plan_day,
    plan_weekly,
    record,
    sweep_time_passed,
    weekly_payload,
)
from tracker.reminders.quiet import QuietHours
from tracker.reminders.recipients import (
    Directory,
    Planned,
    recipients_for,
    units_without_contact,
)
from tracker.reminders.tiers import Policy, candidate_tasks, days_between, tier_for
from tracker.workdays import working_days_between

__all__ = [
    "deliver_ladder",
    "ladder_claimable_ids",
    "QuietHours",
    "channel_claimable_ids",
    "claim_channels",
    "deliver_channels",
    "expire_channels",
    "next_channel_attempt",
    "plan_channels",
    "DeliveryReport",
    "Directory",
    "Plan",
    "Planned",
    "Policy",
    "candidate_tasks",
    "claim",
    "claimable_ids",
    "collect",
    "days_between",
    "deliver",
    "expire",
    "is_permanent",
    "is_planned",
    "local_today",
    "plan_day",
    "plan_weekly",
    "record",
    "record_sent",
    "recipients_for",
    "send_batch",
    "smtp_code",
    "sweep",
    "sweep_time_passed",
    "task_url_template",
    "tier_for",
    "units_without_contact",
    "weekly_payload",
    "working_days_between",
]
