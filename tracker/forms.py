"""Forms of the workspace. They validate input only; the rules (who, which transition, what a
close-out needs) live in ``tracker.actions``. Every form that changes a task carries the task's
``version`` so that a save based on a stale page is refused instead of overwriting."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tracker import actions
from tracker.evidence import check_upload
from tracker.models import Task


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleEvidenceField(forms.FileField):
    """Several files in one input; each checked by content, size and name."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        errors: list[ValidationError] = []
        for upload in files:
            try:
                check_upload(upload)
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return list(files)


class VersionedForm(forms.Form):
    """Carries the task version the user saw (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, task: Task, **kwargs):
        self.task = task
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", task.version)
        super().__init__(*args, **kwargs)


class ProgressForm(VersionedForm):
    """进展更新: a note, measure ticks, a status move within the allowed ones, evidence files."""

    measures = forms.TypedMultipleChoiceField(
        label=_("整改措施"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("进展情况"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("本次推进的工作、取得的成效")}),
    )
    status = forms.ChoiceField(label=_("整改状态"), required=False)
    files = MultipleEvidenceField(
        label=_("佐证材料"),
        help_text=_("PDF、JPG、PNG、DOCX、XLSX,可多选"),
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )

    def __init__(self, *args, task: Task, measures=None, **kwargs):
        super().__init__(*args, task=task, **kwargs)
        measures = list(task.measures.all()) if measures is None else measures
        self.fields["measures"].choices = [(m.pk, m.text) for m in measures]
        self.fields["measures"].initial = [m.pk for m in measures if m.done]
        self.fields["status"].choices = [
            (task.status, task.get_status_display()),
            *[
                (value, label)
                for value, label in task._meta.get_field("status").choices
                if value in actions.allowed_statuses(task)
            ],
        ]
        self.fields["status"].initial = task.status
        # One reason box per measure: filled in, the measure is marked not applicable (不适用).
        self.na_names = {}
        for m in measures:
            name = f"na_{m.pk}"
            self.na_names[name] = m.pk
            self.fields[name] = forms.CharField(
                label=_("不适用理由:%(measure)s") % {"measure": m.text[:30]},
                required=False,
                max_length=500,
                initial=m.na_reason if m.not_applicable else "",
                help_text=_("该措施不适用时填写理由;留空即为适用"),
            )

    def not_applicable(self) -> dict[int, str]:
        """{measure id: reason} for the measures marked not applicable (after is_valid)."""
        return {
            pk: self.cleaned_data[name].strip()
            for name, pk in self.na_names.items()
            if self.cleaned_data.get(name, "").strip()
        }


class CloseoutRequestForm(VersionedForm):
    summary = forms.CharField(
        label=_("整改情况总结"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    no_evidence_reason = forms.CharField(
        label=_("无佐证材料的说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("没有上传佐证材料时必须填写"),
        max_length=2000,
    )
    basic_reason = forms.CharField(
        label=_("基本完成即申请销号的理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("任务为“基本完成”时必须填写"),
        max_length=2000,
    )


class CloseoutReviewForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("审核意见"),
        choices=[("approve", _("审核通过")), ("return", _("退回"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("退回时必须填写理由"),
        max_length=2000,
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "return" and not data.get("comment", "").strip():
            self.add_error("comment", _("退回须填写理由。"))
        return data


class ExtensionRequestForm(VersionedForm):
    new_deadline = forms.DateField(
        label=_("申请延至"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("延期理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ExtensionDecisionForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("审批意见"),
        choices=[("approve", _("批准延期")), ("refuse", _("驳回"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("驳回时必须填写理由"),
        max_length=2000,
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not data.get("comment", "").strip():
            self.add_error("comment", _("驳回须填写理由。"))
        return data


class ReopenForm(VersionedForm):
    reason = forms.CharField(
        label=_("重新打开的理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如:回头看发现问题仍然存在"),
        max_length=2000,
    )


class AcknowledgeForm(VersionedForm):
    """签收: the owner unit confirms it has received the task (nothing else to fill in)."""


class LadderIssueForm(forms.Form):
    """A supervisor confirms a proposed 督办 document (or issues one for chosen tasks)."""

    tasks = forms.ModelMultipleChoiceField(
        label=_("整改任务"), queryset=Task.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    rung = forms.ChoiceField(label=_("文书类别"))
    reply_days = forms.IntegerField(label=_("回复期限(工作日)"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args, tasks, **kwargs):
        from django.conf import settings

        from tracker.choices import LadderRung

        super().__init__(*args, **kwargs)
        self.fields["tasks"].queryset = tasks
        self.fields["rung"].choices = LadderRung.choices
        self.fields["reply_days"].initial = settings.RECTIFY["LADDER_REPLY_WORKING_DAYS"]


class LadderReplyForm(forms.Form):
    """The unit's reply to a 督办 document: what was done, and evidence if any."""

    text = forms.CharField(
        label=_("回复内容"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    file = forms.FileField(
        label=_("佐证材料"),
        required=False,
        help_text=_("PDF、JPG、PNG、DOCX、XLSX"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            check_upload(upload)
        return upload


# --- 反向核查 (re-checks) ---------------------------------------------------------------------


class RecheckRoundForm(forms.Form):
    """A new re-check round: its scope (an organization or inspection the user supervises), a
    name, a percentage or a count, and the seed (shown, so the draw can be repeated)."""

    name = forms.CharField(label=_("名称"), max_length=200, help_text=_("如:2026年第一批反向核查"))
    scope = forms.ChoiceField(label=_("核查范围"))
    percent = forms.IntegerField(label=_("抽取比例(%)"), required=False, min_value=1, max_value=100)
    count = forms.IntegerField(label=_("抽取数量"), required=False, min_value=1)
    seed = forms.IntegerField(
        label=_("随机种子"),
        min_value=0,
        max_value=2**62,
        help_text=_("同一种子对同样的已销号任务抽出同样的样本"),
    )

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes: dict[str, object] = {}
        for org in access.supervised_organizations().order_by("name"):
            self.scopes[f"organization:{org.pk}"] = org
        for insp in access.supervised_inspections().select_related("organization"):
            self.scopes[f"inspection:{insp.pk}"] = insp
        self.fields["scope"].choices = [(key, str(obj)) for key, obj in self.scopes.items()]

    def clean(self):
        data = super().clean()
        if (data.get("percent") is None) == (data.get("count") is None):
            raise ValidationError(_("请填写抽取比例或抽取数量(二选一)。"))
        return data

    @property
    def chosen_scope(self):
        return self.scopes[self.cleaned_data["scope"]]


class RecheckCheckerForm(forms.Form):
    checker = forms.ModelChoiceField(
        label=_("核查人"), queryset=None, required=False, empty_label=_("(未指定)")
    )

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        super().__init__(*args, **kwargs)
        # Those who may check: supervisors and observers (the action checks the task's scope).
        self.fields["checker"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .filter(Q(scopes__isnull=False) | Q(is_superuser=True))
            .distinct()
            .order_by("username")
        )


class RecheckOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("核查结果"), choices=())
    findings = forms.CharField(
        label=_("核查情况"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("未到位须填写;任务将重新打开(回头看),核查情况作为理由"),
    )
    file = forms.FileField(label=_("佐证材料"), required=False)

    def __init__(self, *args, **kwargs):
        from tracker.choices import RecheckOutcome

        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = RecheckOutcome.choices

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            check_upload(upload)
        return upload
