"""The 督办 ladder, as 财政局 climbs it.

Two 财政局 tasks fell due on 2026-11-01 and stay undone. carol (supervisor) sees the rule
propose a 督办通知书 after 7 days overdue, confirms it (〔2026〕1号), alice replies; after 14 days
the rule proposes a 提醒书 (〔2026〕2号), which nobody answers; the missed reply deadline proposes
the 告诫书 (〔2026〕3号) at once, and that one also goes to paul, the principal (主要负责人). Each
document goes to 财政局's contact address, bob (its lead) and lena (the tasks' lead leader) by
real SMTP, once, however often the sweep runs.
"""

from __future__ import annotations

import datetime
import io

import docx as python_docx
import pytest
from django.urls import reverse

from tests import factories
from tests.test_reminders import at, lena, paul, smtp  # noqa: F401 — fixtures
from tracker import actions, reminders, supervision
from tracker.actions import Actor
from tracker.choices import EventKind, LadderRung
from tracker.models import (
    DocumentCounter,
    LadderDelivery,
    Notification,
    SupervisionDocument,
    Task,
    TaskEvent,
)
from tracker.models.ladder import DocumentState
from tracker.models.reminders import DeliveryState

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 11, 1)  # the inspection's deadline (feedback 2026-09-01 + 2 months)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UNIT_SIDE = {"finance@example.org", "bob@example.org", "lena@example.org"}


@pytest.fixture
def overdue(inspection, finance, lena):  # noqa: F811
    """财政局's two overdue tasks, lena their lead leader."""
    tasks = [
        factories.make_task(inspection, owner=finance, title="专项资金拨付滞后"),
        factories.make_task(inspection, owner=finance, title="国库集中支付不规范"),
    ]
    for task in tasks:
        actions.change_lead_leader(task, "李娜", factories.SYSTEM, user=lena)
    assert all(t.deadline == DUE for t in tasks)
    return tasks


def proposals_for(user, today):
    from tracker.permissions import access_for

    return supervision.proposals(access_for(user).supervised_tasks(), today)


def confirm(client, carol, proposal, reply_days=5):
    """carol confirms a proposal on the 督办 page; returns the document issued."""
    client.force_login(carol)
    answer = client.post(
        reverse("tracker:ladder_issue"),
        {
            "tasks": [t.pk for t in proposal.tasks],
            "rung": proposal.rung,
            "reply_days": reply_days,
        },
    )
    assert answer.status_code == 302, answer
    return SupervisionDocument.objects.latest("pk")


def docx_text(body: bytes) -> str:
    return "\n".join(p.text for p in python_docx.Document(io.BytesIO(body)).paragraphs)


def documents_per_recipient(smtp) -> dict[str, int]:  # noqa: F811
    """How many 督办 documents (emails with a DOCX attached) each address received; the daily
    reminder digests the same sweep sends are not counted."""
    counts: dict[str, int] = {}
    for received in smtp.handler.received:
        if any(part.get_content_type() == DOCX for part in received.message.walk()):
            for to in received.to:
                counts[to] = counts.get(to, 0) + 1
    return counts


def ladder_mails(smtp, address: str) -> list:  # noqa: F811
    return [r for r in smtp.handler.to(address) if r.subject.startswith("【") and "号" in r.subject]


def attachment(received) -> tuple[str, bytes]:
    for part in received.message.walk():
        if part.get_content_type() == DOCX:
            return part.get_filename(), part.get_payload(decode=True)
    raise AssertionError("no DOCX attached")


def test_an_overdue_task_climbs_the_ladder_to_the_warning(
    client,
    org,
    inspection,
    finance,
    planning,
    alice,
    bob,
    carol,
    eve,
    paul,  # noqa: F811
    overdue,
    smtp,  # noqa: F811
):
    other = factories.make_task(inspection, owner=planning, title="规划许可未公示")
    # Six days overdue: nothing proposed yet
    assert proposals_for(carol, datetime.date(2026, 11, 7)) == []

    # --- 2026-11-09, eight days overdue: a 督办通知书 per unit is proposed ----------------------
    monday = datetime.date(2026, 11, 9)
    with at(monday):
        proposed = proposals_for(carol, monday)
        assert {p.unit: p.rung for p in proposed} == {
            finance: LadderRung.NOTICE,
            planning: LadderRung.NOTICE,
        }
        (finance_proposal,) = [p for p in proposed if p.unit == finance]
        assert [t.pk for t in finance_proposal.tasks] == [t.pk for t in overdue]
        client.force_login(carol)
        page = client.get(reverse("tracker:ladder"))
        assert page.status_code == 200 and "财政局" in page.content.decode()
        # When carol confirms 财政局's
        first = confirm(client, carol, finance_proposal)
    # Then it is 〔2026〕1号, due for a reply five working days later, sent to the unit's side
    assert (first.reference, first.rung, first.unit) == ("〔2026〕1号", LadderRung.NOTICE, finance)
    assert first.reply_due == datetime.date(2026, 11, 16)
    assert set(first.recipients) == UNIT_SIDE  # contact address, lead, lead leader; no principal
    assert first.issued_by == carol
    # and each task's timeline records it
    for task in overdue:
        event = TaskEvent.objects.filter(task=task, kind=EventKind.LADDER).get()
        assert (event.old_value, event.new_value, event.actor) == ("", LadderRung.NOTICE, carol)
        assert "〔2026〕1号" in event.reason
    # alice and bob are notified once (one document, two tasks)
    assert Notification.objects.filter(user=alice, event__kind=EventKind.LADDER).count() == 1
    # The emails go out once each, however often the sweep and the sender run
    with at(monday, 9, 5):
        reminders.deliver_ladder()
        reminders.deliver_ladder()
        reminders.sweep(monday)
    assert documents_per_recipient(smtp) == dict.fromkeys(UNIT_SIDE, 1)
    (mail,) = ladder_mails(smtp, "bob@example.org")
    assert mail.subject.startswith("【督办通知书】〔2026〕1号")
    name, body = attachment(mail)
    assert name.endswith(".docx")
    text = docx_text(body)
    for expected in (
        "〔2026〕1号",
        "督办通知书",
        "财政局:",
        "专项资金拨付滞后",
        "整改时限:2026年11月1日,已逾期8天",
        "2026年11月16日前",
        "2026年11月9日",
    ):
        assert expected in text, expected
    assert set(LadderDelivery.objects.filter(document=first).values_list("state", flat=True)) == {
        DeliveryState.SENT
    }
    # Within the reply period nothing more is proposed for 财政局
    with at(datetime.date(2026, 11, 12)):
        assert [p.unit for p in proposals_for(carol, datetime.date(2026, 11, 12))] == [planning]

    # --- alice replies on the document's page ------------------------------------------------
    client.force_login(alice)
    with at(datetime.date(2026, 11, 12)):
        shown = client.get(reverse("tracker:ladder_document", args=[first.pk]))
        assert shown.context["reply_form"] is not None
        answer = client.post(
            reverse("tracker:ladder_reply", args=[first.pk]),
            {"text": "已制定整改计划,月底前完成拨付。"},
        )
    assert answer.status_code == 302
    first.refresh_from_db()
    assert first.state == DocumentState.REPLIED and first.replied_by == alice
    assert TaskEvent.objects.filter(kind=EventKind.LADDER_REPLY, actor=alice).count() == 2

    # --- 2026-11-17, sixteen days overdue: the 提醒书 -----------------------------------------
    tuesday = datetime.date(2026, 11, 17)
    with at(tuesday):
        (reminder_proposal,) = [p for p in proposals_for(carol, tuesday) if p.unit == finance]
        assert reminder_proposal.rung == LadderRung.REMINDER
        assert reminder_proposal.missed == []  # proposed by days overdue, not a missed reply
        second = confirm(client, carol, reminder_proposal)
        reminders.sweep(tuesday)
        reminders.sweep(tuesday)
    assert (second.reference, second.rung) == ("〔2026〕2号", LadderRung.REMINDER)
    assert second.reply_due == datetime.date(2026, 11, 24)
    assert documents_per_recipient(smtp) == dict.fromkeys(UNIT_SIDE, 2)

    # --- nobody answers: on 2026-11-25 the missed deadline proposes the 告诫书 at once ----------
    # (24 days overdue, short of the 30 that LADDER_DAYS asks of a 告诫书)
    wednesday = datetime.date(2026, 11, 25)
    with at(wednesday):
        (warning_proposal,) = [p for p in proposals_for(carol, wednesday) if p.unit == finance]
        assert warning_proposal.rung == LadderRung.WARNING
        assert warning_proposal.missed == [t.pk for t in overdue]
        third = confirm(client, carol, warning_proposal)
        for _run in range(3):
            reminders.deliver_ladder()
    assert (third.reference, third.rung) == ("〔2026〕3号", LadderRung.WARNING)
    # From 告诫书 up the principal receives it too; every email went out exactly once
    assert set(third.recipients) == UNIT_SIDE | {"paul@example.org"}
    assert documents_per_recipient(smtp) == {**dict.fromkeys(UNIT_SIDE, 3), "paul@example.org": 1}
    (warning_mail,) = ladder_mails(smtp, "paul@example.org")
    assert "告诫书" in docx_text(attachment(warning_mail)[1])
    # The timeline of each task reads the ladder in order
    for task in overdue:
        assert list(
            TaskEvent.objects.filter(task=task, kind=EventKind.LADDER)
            .order_by("id")
            .values_list("old_value", "new_value")
        ) == [
            ("", LadderRung.NOTICE),
            (LadderRung.NOTICE, LadderRung.REMINDER),
            (LadderRung.REMINDER, LadderRung.WARNING),
        ]
    # The dashboard shows 财政局 at 告诫书, 规划局 at none
    client.force_login(carol)
    with at(wednesday):
        rows = {
            u["name"]: u["ladder"]
            for u in client.get(reverse("tracker:dashboard")).context["lamp_units"]
        }
    assert rows["财政局"] == "告诫书" and rows["规划局"] == ""
    assert other.supervision_documents.count() == 0


def test_refusals_write_nothing(inspection, finance, planning, alice, carol, dave, overdue):
    outsider_task = factories.make_task(inspection, owner=planning)
    not_due = factories.make_task(inspection, owner=finance, deadline=datetime.date(2027, 6, 30))
    counted = (
        SupervisionDocument.objects.count(),
        DocumentCounter.objects.count(),
        TaskEvent.objects.count(),
        LadderDelivery.objects.count(),
    )
    today = datetime.date(2026, 11, 20)

    def refused(error, tasks, rung, who):
        with at(today), pytest.raises(error):
            actions.issue_ladder_document(tasks, rung, Actor.of(who))

    refused(actions.NotAllowed, overdue, LadderRung.NOTICE, dave)  # an observer
    refused(actions.NotAllowed, overdue, LadderRung.NOTICE, alice)  # a clerk
    refused(actions.ActionError, overdue, LadderRung.REMINDER, carol)  # skipping a rung
    refused(actions.ActionError, overdue, LadderRung.WARNING, carol)
    refused(actions.ActionError, [*overdue, not_due], LadderRung.NOTICE, carol)  # not overdue
    refused(actions.ActionError, [*overdue, outsider_task], LadderRung.NOTICE, carol)  # two units
    refused(actions.ActionError, [], LadderRung.NOTICE, carol)
    with at(today), pytest.raises(actions.NotAllowed):  # the sweep never issues by itself
        actions.issue_ladder_document(
            overdue, LadderRung.NOTICE, Actor.system("sweep", "sweep:2026-11-20")
        )
    assert (
        SupervisionDocument.objects.count(),
        DocumentCounter.objects.count(),
        TaskEvent.objects.count(),
        LadderDelivery.objects.count(),
    ) == counted
    # The first document that is allowed still takes number 1: refusals used none
    with at(today):
        document = actions.issue_ladder_document(overdue, LadderRung.NOTICE, Actor.of(carol))
    assert document.reference == "〔2026〕1号"


def test_nothing_comes_after_the_accountability_letter(inspection, finance, carol, overdue):
    with at(datetime.date(2027, 3, 1)):
        for rung in (LadderRung.NOTICE, LadderRung.REMINDER, LadderRung.WARNING):
            actions.issue_ladder_document(overdue, rung, Actor.of(carol))
        last = actions.issue_ladder_document(overdue, LadderRung.ACCOUNTABILITY, Actor.of(carol))
        assert last.reference == "〔2027〕4号"
        assert proposals_for(carol, datetime.date(2027, 3, 1)) == []
        with pytest.raises(actions.ActionError):
            actions.issue_ladder_document(overdue, LadderRung.ACCOUNTABILITY, Actor.of(carol))
    # Each year starts its numbers afresh
    with at(datetime.date(2028, 1, 5)):
        task = factories.make_task(inspection, owner=finance)
        fresh = actions.issue_ladder_document([task], LadderRung.NOTICE, Actor.of(carol))
    assert fresh.reference == "〔2028〕1号"


def test_who_sees_a_document(client, inspection, finance, alice, carol, dave, eve, overdue):
    with at(datetime.date(2026, 11, 20)):
        document = actions.issue_ladder_document(overdue, LadderRung.NOTICE, Actor.of(carol))
    page = reverse("tracker:ladder_document", args=[document.pk])
    download = reverse("tracker:ladder_docx", args=[document.pk])
    # The supervisor and the unit read it and download its DOCX
    for user in (carol, alice):
        client.force_login(user)
        assert client.get(page).status_code == 200
        answer = client.get(download)
        assert answer.status_code == 200 and answer["Content-Type"] == DOCX
        assert "〔2026〕1号" in docx_text(answer.content)
    # Anyone else gets 404, as if it did not exist; only supervisors have the 督办 page
    for user in (dave, eve):
        client.force_login(user)
        assert client.get(page).status_code == 404
        assert client.get(download).status_code == 404
        assert (
            client.post(
                reverse("tracker:ladder_reply", args=[document.pk]), {"text": "x"}
            ).status_code
            == 404
        )
    for user in (alice, dave, eve):
        client.force_login(user)
        assert client.get(reverse("tracker:ladder")).status_code == 404
    # and a clerk posting an issue is not shown the page either
    client.force_login(alice)
    assert client.post(reverse("tracker:ladder_issue"), {}).status_code == 404
    document.refresh_from_db()
    assert document.state == DocumentState.ISSUED


def test_a_reply_with_evidence(
    client, inspection, finance, alice, carol, overdue, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_workspace_evidence import PNG_BYTES

    settings.MEDIA_ROOT = tmp_path / "media"
    with at(datetime.date(2026, 11, 20)):
        document = actions.issue_ladder_document(overdue, LadderRung.NOTICE, Actor.of(carol))
    client.force_login(alice)
    upload = SimpleUploadedFile("现场照片.png", PNG_BYTES, content_type="image/png")
    answer = client.post(
        reverse("tracker:ladder_reply", args=[document.pk]),
        {"text": "已整改,见照片。", "file": upload},
    )
    assert answer.status_code == 302
    document.refresh_from_db()
    assert document.reply_file_name == "现场照片.png"
    client.force_login(carol)
    got = client.get(reverse("tracker:ladder_reply_file", args=[document.pk]))
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG_BYTES
    # A second reply is refused
    with pytest.raises(actions.ActionError):
        actions.reply_ladder_document(document, Actor.of(alice), text="再次回复")
    assert Task.objects.filter(pk__in=[t.pk for t in overdue]).count() == 2


def test_a_task_page_reads_documents_only_when_the_task_has_one(client, carol, overdue):
    """Most tasks have no 督办 document: their page does not ask for any (the flag is read with
    the task); once a notice is issued about the task, its page reads and lists it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    task = overdue[0]
    client.force_login(carol)

    def document_reads() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("tracker:task_detail", args=[task.pk]))
        assert page.status_code == 200
        reads = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].split(" FROM ", 1)[-1].startswith('"tracker_supervisiondocument"')
        ]
        return len(reads), page.content.decode()

    assert document_reads()[0] == 0
    with at(datetime.date(2026, 11, 20)):
        document = actions.issue_ladder_document(overdue, LadderRung.NOTICE, Actor.of(carol))
    reads, html = document_reads()
    assert reads == 1
    assert document.reference in html
