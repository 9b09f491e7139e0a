"""Scope everywhere: the filter form's and the dashboard's choices list only what the user's
scope holds, a value outside the scope answers as the task list does, and a user with no role
gets 404 for the ledger export as for the dashboard.

The story: alice is a clerk of 财政局 of the 测试开发区 working committee; another organization
(中共别处委员会) has its own inspection and units, which alice must never be offered.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(db):
    """Another organization, with an inspection, a task and two units of its own."""
    other = factories.make_org("中共别处委员会")
    inspection = factories.make_inspection(other, round_name="别处第一轮")
    units = [factories.make_unit(other, "别处财政局"), factories.make_unit(other, "别处规划局")]
    factories.make_task(inspection, owner=units[0])
    return other, inspection, units


def options(response, name: str) -> set[str]:
    widget = response.context["filterset"].form[name].field.widget
    return {str(value) for value, _label in widget.choices if value not in ("", "unknown")}


def test_a_clerk_is_offered_her_organization_only(client, alice, finance_task, org, elsewhere):
    client.force_login(alice)
    response = client.get(reverse("tracker:task_list"))
    assert options(response, "organization") == {str(org.pk)}


def test_a_clerk_picking_her_organization_sees_its_units_and_no_one_elses(
    client, alice, finance_task, org, finance, planning, elsewhere
):
    client.force_login(alice)
    response = client.get(reverse("tracker:task_list"), {"organization": org.pk})
    assert options(response, "unit") == {str(finance.pk), str(planning.pk)}


def test_another_organizations_id_typed_into_the_list_url_lists_nothing_and_offers_nothing(
    client, alice, finance_task, elsewhere
):
    other, inspection, units = elsewhere
    client.force_login(alice)
    # When alice types the other organization's id into the URL
    response = client.get(reverse("tracker:task_list"), {"organization": other.pk})
    # Then the filter is invalid (as an inspection outside her scope is), nothing is listed,
    # and none of that organization's units or inspections is offered
    assert "organization" in response.context["filterset"].form.errors
    assert response.context["tasks"] == []
    offered = options(response, "unit") | options(response, "inspection")
    assert not offered & ({str(u.pk) for u in units} | {str(inspection.pk)})
    page = response.content.decode()
    assert "别处财政局" not in page and "别处规划局" not in page


def test_the_dashboard_scope_selector_lists_only_the_users_scope(
    client, alice, finance_task, org, finance, planning, elsewhere
):
    other, inspection, units = elsewhere
    client.force_login(alice)
    response = client.get(reverse("tracker:dashboard"), {"organization": org.pk})
    assert [pk for pk, _name in response.context["organizations"]] == [org.pk]
    assert {pk for pk, _name in response.context["org_units"]} == {finance.pk, planning.pk}
    # When she types the other organization's id, its units and inspections are not listed
    response = client.get(reverse("tracker:dashboard"), {"organization": other.pk})
    assert response.context["org_units"] == [] and response.context["org_inspections"] == []
    page = response.content.decode()
    assert "别处财政局" not in page and "别处第一轮" not in page


def test_a_supervisor_of_all_organizations_is_offered_both(client, org, elsewhere, finance_task):
    from django.contrib.auth import get_user_model

    from tracker.choices import ScopeRole
    from tracker.models import ScopeAssignment

    other, _inspection, _units = elsewhere
    boss = get_user_model().objects.create_user("boss", password="x")
    ScopeAssignment.objects.create(user=boss, role=ScopeRole.SUPERVISOR, all_organizations=True)
    client.force_login(boss)
    response = client.get(reverse("tracker:task_list"))
    assert options(response, "organization") == {str(org.pk), str(other.pk)}


def test_the_ledger_export_is_404_for_a_user_without_a_role(client, mallory, finance_task):
    client.force_login(mallory)
    for fmt in ("xlsx", "csv"):
        assert client.get(reverse("tracker:ledger_export"), {"fmt": fmt}).status_code == 404
    assert client.get(reverse("tracker:dashboard")).status_code == 404


def test_an_export_filtered_by_another_organization_exports_no_rows(
    client, alice, finance_task, elsewhere
):
    other, _inspection, _units = elsewhere
    client.force_login(alice)
    response = client.get(
        reverse("tracker:ledger_export"), {"fmt": "csv", "organization": other.pk}
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert response.status_code == 200 and len(lines) == 1  # the header only
    # while her own export has her task
    response = client.get(reverse("tracker:ledger_export"), {"fmt": "csv"})
    assert "财政资金监管不到位" in b"".join(response.streaming_content).decode("utf-8-sig")


def test_every_empty_option_of_the_filter_form_reads_quanbu(client, carol, finance_task, org):
    client.force_login(carol)
    response = client.get(reverse("tracker:task_list"), {"organization": org.pk})
    form = response.context["filterset"].form
    for name in ("level", "organization", "inspection", "unit", "overdue", "no_deadline",
                 "report_due", "uncategorized"):  # fmt: skip
        first_value, first_label = next(iter(form[name].field.widget.choices))
        assert str(first_label) == "全部", name
    page = response.content.decode()
    assert "未知" not in page and "---------" not in page


def test_the_boolean_filters_still_read_the_drill_down_values(client, carol, inspection, finance):
    import datetime

    factories.make_task(
        inspection, owner=finance, title="早已到期", deadline=datetime.date(2020, 1, 1)
    )
    factories.make_task(
        inspection, owner=finance, title="尚未到期", deadline=datetime.date(2099, 1, 1)
    )
    client.force_login(carol)
    titles = {
        value: [t.problem.title for t in client.get(reverse("tracker:task_list"), {"overdue": value}).context["tasks"]]
        for value in ("true", "false", "unknown")
    }  # fmt: skip
    assert titles["true"] == ["早已到期"]
    assert titles["false"] == ["尚未到期"]
    assert sorted(titles["unknown"]) == sorted(["早已到期", "尚未到期"])


# --- the kept lists (tracker.scope_choices) ----------------------------------------------------


def organization_labels(client) -> list[str]:
    response = client.get(reverse("tracker:task_list"))
    widget = response.context["filterset"].form["organization"].field.widget
    return [str(label) for value, label in widget.choices if value != ""]


@pytest.mark.parametrize("persona", ["carol", "admin_user"])
def test_a_renamed_organization_shows_at_once(client, request, persona, org, inspection, elsewhere):
    client.force_login(request.getfixturevalue(persona))
    before = organization_labels(client)
    assert org.name in before

    org.name = "中共新名称工作委员会"
    org.save()

    after = organization_labels(client)
    assert "中共新名称工作委员会" in after and "中共测试开发区工作委员会" not in after
    assert "中共新名称工作委员会" in client.get(reverse("tracker:task_list")).content.decode()


def test_a_new_or_deleted_inspection_changes_the_list(client, admin_user, org, inspection):
    client.force_login(admin_user)
    assert organization_labels(client) == [org.name]
    other = factories.make_org("中共后来委员会")
    assert organization_labels(client) == [org.name]  # no inspection yet: not offered
    later = factories.make_inspection(other, round_name="后来一轮")
    assert sorted(organization_labels(client)) == sorted([org.name, "中共后来委员会"])
    later.delete()
    assert organization_labels(client) == [org.name]


def test_a_change_made_by_another_worker_is_seen(client, admin_user, org, inspection):
    from django.core.cache import cache

    from tracker import scope_choices
    from tracker.models import Organization

    # Given the list kept by this process
    client.force_login(admin_user)
    assert organization_labels(client) == [org.name]
    # When another worker renames the organization (its signal replaces the shared generation;
    # an update sends none here)
    Organization.objects.filter(pk=org.pk).update(name="别的进程改的名")
    assert organization_labels(client) == [org.name]  # still the kept list: nothing said so
    cache.set(scope_choices.GENERATION_KEY, "another-workers-generation", timeout=None)
    # Then this process reads it anew
    assert organization_labels(client) == ["别的进程改的名"]
    # and a flushed cache never matches a list kept before
    Organization.objects.filter(pk=org.pk).update(name="缓存清空之后")
    cache.delete(scope_choices.GENERATION_KEY)
    assert organization_labels(client) == ["缓存清空之后"]


def test_scopes_share_a_list_only_when_they_see_the_same_inspections(
    client, carol, alice, dave, org, inspection, finance_task, elsewhere
):
    from tracker.permissions import access_for

    # carol (supervisor) and dave (observer) of the same organization: one key
    assert access_for(carol).inspections_key() == access_for(dave).inspections_key()
    # a unit member's depends on her tasks: never kept
    assert access_for(alice).inspections_key() is None
    client.force_login(dave)
    assert organization_labels(client) == [org.name]
    client.force_login(alice)
    assert organization_labels(client) == [org.name]
