"""Admin pages to import a notice: upload → preview (a dry run) → confirm.

Hooked into ``SourceNoticeAdmin.get_urls``. The uploaded text is kept between the preview and
the confirmation in the user's session under a random token (never a path or text sent back by
the browser), and the confirmation imports exactly the text that was previewed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.choices import (
    DECLARED_LABELS,
    DECLARED_OUTCOMES,
    NOTICE_STATUS_TO_TASK,
    TaskStatus,
)
from tracker.importer.loader import (
    DEFAULT_TASK_STATUS,
    content_sha256,
    import_parsed,
    plan_notice,
)
from tracker.importer.parser import (
    MAX_NOTICE_BYTES,
    NoticeParseError,
    ParsedInspection,
    ParsedNotice,
    ParsedProblem,
    decode_notice,
    parse_notice,
)
from tracker.models import SourceNotice
from tracker.permissions import access_for

SESSION_PREFIX = "rectify.notice_upload."

# How the notice's own status words read (seeds/README.md folding), for the preview.
NOTICE_STATUS_LABELS = {
    "completed": gettext_lazy("已完成"),
    "basically_completed": gettext_lazy("基本完成"),
    "not_completed": gettext_lazy("未完成"),
    "long_term": gettext_lazy("长期坚持"),
}


class NoticeUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("通报文件"),
        allow_empty_file=True,  # the decoder says "<name>: file is empty", naming the file
        help_text=gettext_lazy(
            "纯文本(.txt,UTF-8 或 GB18030/GBK 编码)、Word(.docx)或有文字层的 PDF,不超过 5 MB"
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = os.path.basename(upload.name)
        if upload.size > MAX_NOTICE_BYTES:
            raise forms.ValidationError(
                _("%(name)s:文件过大(%(size)s 字节),通报不能超过 %(limit)s MB")
                % {"name": name, "size": f"{upload.size:,}", "limit": MAX_NOTICE_BYTES >> 20}
            )
        data = upload.read(MAX_NOTICE_BYTES + 1)
        try:
            text = decode_notice(data, name=name)
            parsed = parse_notice(text, name=name)
        except NoticeParseError as error:
            raise forms.ValidationError(_("无法读取通报:%s") % error) from None
        self.notice_name, self.text, self.parsed = name, text, parsed
        return upload


@dataclass
class PreviewRow:
    depth: int
    label: str
    title: str
    is_category: bool
    notice_status: str
    task_status: str
    line: int = 0

    @property
    def indent(self) -> float:
        return 0.5 + 2 * self.depth


def _rows(nodes: list[ParsedProblem], depth: int = 0) -> list[PreviewRow]:
    rows: list[PreviewRow] = []
    for node in nodes:
        is_leaf = node.kind != "category" and not node.children
        task_status = ""
        if is_leaf:
            code = NOTICE_STATUS_TO_TASK.get(node.status or "", DEFAULT_TASK_STATUS)
            task_status = str(TaskStatus(code).label)
        rows.append(
            PreviewRow(
                depth=depth,
                label=node.label or "",
                title=node.title,
                is_category=node.kind == "category",
                notice_status=str(NOTICE_STATUS_LABELS.get(node.status or "", "")),
                task_status=task_status,
                line=node.line,
            )
        )
        rows.extend(_rows(node.children, depth + 1))
    return rows


@dataclass
class DeclaredFigure:
    """One figure a notice states about itself, with its Chinese label (never the raw key)."""

    label: str
    value: str


def _figure(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def declared_figures(declared: dict) -> tuple[list[DeclaredFigure], list[DeclaredFigure]]:
    """The declared totals and the declared outcomes, in DECLARED_LABELS order."""
    totals: list[DeclaredFigure] = []
    outcomes: list[DeclaredFigure] = []
    for key, label in DECLARED_LABELS.items():
        if key in declared:
            group = outcomes if key in DECLARED_OUTCOMES else totals
            group.append(DeclaredFigure(str(label), _figure(declared[key])))
    # A key the parser learns later and DECLARED_LABELS does not name yet: shown, labelled.
    for key in sorted(set(declared) - set(DECLARED_LABELS)):
        outcomes.append(DeclaredFigure(_("其他数字"), _figure(declared[key])))
    return totals, outcomes


@dataclass
class ReadFact:
    """One thing read from the notice, under its Chinese label, and where it was read."""

    label: str
    value: str
    where: str = ""


@dataclass
class PreviewWarning:
    """A parser warning and the line of the notice it is about, said in words."""

    where: str
    text: str


def _at_line(line: int | None) -> str:
    return _("第 %(line)s 行") % {"line": line} if line else _("全文(未对应到某一行)")


def notice_facts(parsed: ParsedNotice) -> list[ReadFact]:
    """What was read about the notice itself: title (and where), date, issuer."""
    if parsed.title and parsed.title_line:
        title_where = _at_line(parsed.title_line)
    elif parsed.title:
        title_where = _("通报未印标题,据落款和正文拟定")
    else:
        title_where = ""
    not_stated = _("未注明")
    return [
        ReadFact(_("标题"), parsed.title or not_stated, title_where),
        ReadFact(_("发布日期"), parsed.published.isoformat() if parsed.published else not_stated),
        ReadFact(_("发布单位"), parsed.issuer or not_stated),
    ]


def section_facts(section: ParsedInspection) -> list[ReadFact]:
    """What was read about one inspection, each under its Chinese label ("—" when not stated)."""
    none = "—"
    period = none
    if section.start or section.end:
        period = f"{section.start or '?'} — {section.end or '?'}"
    facts = [
        ReadFact(_("被巡视巡察党组织"), section.organization),
        ReadFact(_("简称"), "、".join(section.aliases) or none),
        ReadFact(_("届次轮次"), section.round or none),
        ReadFact(_("巡视巡察组"), section.group or none),
        ReadFact(_("巡视巡察方式"), section.kind or none),
        ReadFact(_("进驻时间"), period),
        ReadFact(
            _("反馈日期"),
            section.feedback.isoformat() if section.feedback else _("未知(任务将无时限)"),
        ),
        ReadFact(_("公布的问题(个)"), str(section.leaf_problems)),
    ]
    if section.rollup:
        facts.append(ReadFact(_("通报类型"), _("一轮巡视巡察的汇总通报(只有总数,不列具体问题)")))
    return facts


def preview_warnings(parsed: ParsedNotice) -> list[PreviewWarning]:
    """Every warning with the line it came from ("第 N 行"), or that it is about the whole text."""
    return [
        PreviewWarning(_at_line(getattr(w, "line", None)), getattr(w, "message", str(w)))
        for w in parsed.warnings
    ]


def _preview_context(parsed: ParsedNotice, text: str) -> dict:
    sections = []
    for plan in plan_notice(parsed):
        section = plan.parsed
        declared = section.declared.get("problems")
        totals, outcomes = declared_figures(section.declared)
        sections.append(
            {
                "plan": plan,
                "section": section,
                "declared_totals": totals,
                "declared_outcomes": outcomes,
                "gap": None if declared is None else declared - section.leaf_problems,
                "rows": _rows(section.problems),
                "facts": section_facts(section),
            }
        )
    return {
        "parsed": parsed,
        "notice_facts": notice_facts(parsed),
        "warnings": preview_warnings(parsed),
        "sections": sections,
        "duplicate": SourceNotice.objects.filter(sha256=content_sha256(text)).first(),
    }


def upload_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Step 1 (GET: the form) and step 2 (POST: the dry-run preview)."""
    if not model_admin.has_add_permission(request) or not access_for(request).may_import_notices:
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("导入通报"),
    }
    form = NoticeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        token = secrets.token_urlsafe(16)
        request.session[SESSION_PREFIX + token] = {"name": form.notice_name, "text": form.text}
        context.update(_preview_context(form.parsed, form.text))
        context.update({"token": token, "file_name": form.notice_name, "title": _("导入预览")})
        return TemplateResponse(request, "admin/tracker/sourcenotice/import_preview.html", context)
    context["form"] = form
    return TemplateResponse(request, "admin/tracker/sourcenotice/import_form.html", context)


def confirm_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Step 3: import the previewed text, then back to the notice list with a message."""
    if not model_admin.has_add_permission(request) or not access_for(request).may_import_notices:
        raise PermissionDenied
    form_url = reverse("admin:tracker_sourcenotice_import")
    if request.method != "POST":
        return HttpResponseRedirect(form_url)
    token = request.POST.get("token", "")
    stored = request.session.pop(SESSION_PREFIX + token, None) if token else None
    if not stored:
        messages.error(request, _("上传的通报已过期或已导入,请重新上传。"))
        return HttpResponseRedirect(form_url)
    name, text = stored["name"], stored["text"]
    try:
        parsed = parse_notice(text, name=name)
        result = import_parsed(parsed, text, file_name=name, user=request.user)
    except NoticeParseError as error:
        messages.error(request, _("无法读取通报:%s") % error)
        return HttpResponseRedirect(form_url)
    if result.outcome == "skipped":
        messages.warning(request, _("%(name)s 已导入过(通报 #%(id)s),未做任何更改。") % {
            "name": name, "id": result.notice_id})  # fmt: skip
    else:
        messages.success(
            request,
            _(
                "已导入 %(name)s:新建巡视巡察 %(ins)s 个,关联已有 %(matched)s 个;"
                "新建任务 %(tasks)s 个,匹配已有问题 %(problems)s 个,更新状态 %(changed)s 个。"
            )
            % {
                "name": name,
                "ins": result.inspections_created,
                "matched": result.inspections_matched,
                "tasks": result.tasks_created,
                "problems": result.problems_matched,
                "changed": result.statuses_changed,
            },
        )
    return HttpResponseRedirect(
        reverse("admin:tracker_sourcenotice_change", args=[result.notice_id])
    )


def upload_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    """The URLs SourceNoticeAdmin.get_urls adds in front of its own."""
    site = model_admin.admin_site

    def upload(request):
        return upload_view(model_admin, request)

    def confirm(request):
        return confirm_view(model_admin, request)

    return [
        path("import/", site.admin_view(upload), name="tracker_sourcenotice_import"),
        path(
            "import/confirm/",
            site.admin_view(confirm),
            name="tracker_sourcenotice_import_confirm",
        ),
    ]
