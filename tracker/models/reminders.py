"""Reminder emails: what each person is told about which task on which day, and the delivery
of the one digest email that carries it.

Two tables, because the unit of *deciding* is a (task, recipient, tier, day) and the unit of
*sending* is one email per recipient per day:

- ``ReminderLog``: one row per (task, recipient, tier, day), protected by a unique constraint,
  so a repeated or concurrent sweep can never plan the same reminder twice;
- ``ReminderDigest``: one row per (kind, recipient, day), the email that carries that day's
  log rows. It holds the claim (state, lease, attempts, next attempt, last error, sent time):
  a sweep claims a digest before it sends it, so two sweeps never send the same email.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReminderTier(models.TextChoices):
    """How urgent a task is on a given day, which decides who is told about it."""

    GREEN = "green", _("临近到期")
    YELLOW = "yellow", _("即将到期")
    RED = "red", _("已逾期")
    ESCALATED = "escalated", _("逾期督办")
    REPORT_DUE = "report_due", _("待报进展")
    # 签收: given to the unit ACK_WORKING_DAYS working days ago or more and not signed for.
    UNACKNOWLEDGED = "unsigned", _("待签收")  # a short code: the tier column is 12 wide


# Most urgent first: the order of the sections in a digest.
TIER_ORDER = [
    ReminderTier.ESCALATED,
    ReminderTier.RED,
    ReminderTier.YELLOW,
    ReminderTier.GREEN,
    ReminderTier.REPORT_DUE,
    ReminderTier.UNACKNOWLEDGED,
]


class DigestKind(models.TextChoices):
    DAILY = "daily", _("每日提醒")
    WEEKLY = "weekly", _("每周汇总")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    # A day's digest that could not go out that day: the next day's digest lists the same
    # tasks again (tiers are recomputed daily), so sending the stale one would be a duplicate.
    SUPERSEDED = "superseded", _("已被次日提醒取代")


class Claimable(models.Model):
    """What every message sent exactly once carries (a reminder email, a robot message, a 督办
    document's email): its state and the claim, lease, retry and failure bookkeeping that
    ``tracker.reminders.claims`` works on. A sweep that sets state=sending owns the row until
    lease_until; a worker killed mid-send leaves the lease to run out, and the next run takes the
    row over. ``next_attempt_at`` is also where quiet hours put a robot message off to."""

    state = models.CharField(
        _("状态"), max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    claim_token = models.CharField(_("领取标识"), max_length=36, blank=True)
    lease_until = models.DateTimeField(_("领取到期"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        abstract = True


class ReminderDigest(Claimable):
    """One reminder email to one recipient for one day (or week), claimed before it is sent."""

    kind = models.CharField(
        _("类型"), max_length=8, choices=DigestKind.choices, default=DigestKind.DAILY
    )
    recipient = models.EmailField(_("收件人"), max_length=254)
    day = models.DateField(_("日期"))
    # Set in the same transaction that writes the tasks' timeline events, batch by batch after
    # sending; a sender that died in between leaves sent-but-unrecorded digests that the next
    # run records (exactly once).
    recorded = models.BooleanField(_("已记入任务历史"), default=False)
    no_contact = models.BooleanField(
        _("含无联系人单位"), default=False, help_text=_("代无联系人的单位接收提醒")
    )
    # The weekly summary carries its figures here; daily digests are built from their log rows.
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提醒邮件")
        verbose_name_plural = _("提醒邮件")
        ordering = ["-day", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "recipient", "day"], name="reminder_digest_once_per_day"
            ),
        ]
        indexes = [
            # The claim query reads only undelivered rows of a day.
            models.Index(
                fields=["day", "state"],
                name="reminder_digest_open",
                condition=Q(state__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["id"],
                name="reminder_digest_unrecorded",
                condition=Q(state="sent", recorded=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.recipient} ({self.get_state_display()})"


class ReminderLog(models.Model):
    """One reminder about one task to one person at one tier on one day: never planned twice.

    It is sent when its digest is (``sent_at``): a full-size sweep writes half a million of these
    rows, so they are written once and never updated, and their foreign keys are not checked by
    the database (each checked key cost a trigger call at commit, most of a sweep's planning
    time). Both are filled from rows read in the same sweep; deletion still cascades (Django).
    """

    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("整改任务"),
        on_delete=models.CASCADE,
        related_name="reminders",
        db_constraint=False,
        db_index=False,  # the unique constraint's index leads with task
    )
    recipient = models.EmailField(_("收件人"), max_length=254)
    tier = models.CharField(_("提醒级别"), max_length=12, choices=ReminderTier.choices)
    day = models.DateField(_("日期"))
    no_contact = models.BooleanField(
        _("无联系人"), default=False, help_text=_("责任单位无联系邮箱,改发整改办或备用地址")
    )
    digest = models.ForeignKey(
        ReminderDigest,
        verbose_name=_("提醒邮件"),
        on_delete=models.CASCADE,
        related_name="logs",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("提醒记录")
        verbose_name_plural = _("提醒记录")
        ordering = ["-day", "recipient", "task_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "recipient", "tier", "day"], name="reminder_log_once"
            ),
        ]
        # No separate (task, day) index: the unique constraint's index leads with task, and
        # every extra index slows the half-million-row insert of a full-size sweep.

    def __str__(self) -> str:
        return f"{self.day} {self.recipient} · {self.get_tier_display()} · #{self.task_id}"

    @property
    def sent_at(self):
        """When the digest carrying this reminder was accepted by the mail server."""
        return self.digest.sent_at


class ReminderSweep(models.Model):
    """One planning run per day and kind: the catch-up run plans a day only if this is missing."""

    kind = models.CharField(
        _("类型"), max_length=8, choices=DigestKind.choices, default=DigestKind.DAILY
    )
    day = models.DateField(_("日期"))
    planned_at = models.DateTimeField(_("完成时间"), auto_now=True)
    tasks = models.PositiveIntegerField(_("涉及任务"), default=0)
    reminders = models.PositiveIntegerField(_("提醒条数"), default=0)
    digests = models.PositiveIntegerField(_("邮件数"), default=0)

    class Meta:
        verbose_name = _("提醒巡检")
        verbose_name_plural = _("提醒巡检")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "day"], name="reminder_sweep_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.day}"


class ChannelKind(models.TextChoices):
    """The messengers a reminder can reach besides email."""

    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")
    WEBHOOK = "webhook", _("通用Webhook")


class ReminderChannel(models.Model):
    """A group robot or webhook that a unit's daily reminders, or one person's reminders, also
    go to. Email goes out as before whatever is set here: a channel adds a way, it replaces none.

    A unit's channel receives the unit's tasks of the day (one message per day to, say, the
    unit's 企业微信 group); a person's channel receives the same digest as that person's email.
    """

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("渠道类型"), max_length=12, choices=ChannelKind.choices)
    unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="reminder_channels",
        null=True,
        blank=True,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="reminder_channels",
        null=True,
        blank=True,
    )
    url = models.URLField(
        _("Webhook地址"),
        max_length=500,
        help_text=_("机器人或接收系统提供的完整地址(含access_token或key)"),
    )
    secret = models.CharField(
        _("签名密钥"),
        max_length=200,
        blank=True,
        help_text=_("钉钉机器人“加签”的密钥(SEC开头);通用Webhook用于对请求体签名。可留空"),
    )
    enabled = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提醒渠道")
        verbose_name_plural = _("提醒渠道")
        ordering = ["name", "pk"]
        constraints = [
            # A channel belongs to a unit or to a person, never both, never neither.
            models.CheckConstraint(
                condition=Q(unit__isnull=False, user__isnull=True)
                | Q(unit__isnull=True, user__isnull=False),
                name="reminder_channel_unit_or_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class ChannelDelivery(Claimable):
    """One day's (or week's) reminder to one channel, claimed before it is sent, exactly like the
    email digest itself (state, lease, attempts, next attempt, last error, sent time).

    ``digest`` is the person's email digest whose tasks it carries; a unit's channel has none and
    carries the unit's tasks of the day from the reminder log.
    """

    channel = models.ForeignKey(
        ReminderChannel,
        verbose_name=_("提醒渠道"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    kind = models.CharField(
        _("类型"), max_length=8, choices=DigestKind.choices, default=DigestKind.DAILY
    )
    day = models.DateField(_("日期"))
    digest = models.ForeignKey(
        ReminderDigest,
        verbose_name=_("提醒邮件"),
        on_delete=models.CASCADE,
        related_name="channel_deliveries",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("渠道推送")
        verbose_name_plural = _("渠道推送")
        ordering = ["-day", "channel_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind", "day"], name="channel_delivery_once_per_day"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="channel_delivery_open",
                condition=Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} ({self.get_state_display()})"
