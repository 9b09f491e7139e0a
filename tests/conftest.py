"""Personas and shared fixtures.

The story world: the 测试开发区 party working committee was inspected; its 财政局 (finance
bureau) and 规划局 (planning bureau) carry the tasks.
- alice: clerk (经办人) of 财政局          - bob: lead (分管领导) of 财政局
- carol: supervisor (整改办) of the org    - dave: observer (纪检) of the org
- eve: clerk of 规划局 only (an outsider to 财政局's tasks)
- mallory: logged in, no role at all
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model

from tests import factories
from tests.browser import browser  # noqa: F401 - the browser tests' fixture
from tracker.choices import ScopeRole, UnitRole
from tracker.models import Membership, ScopeAssignment

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: what an earlier test cached (a past day's
    dashboard, the trend's past days) described rows its rolled-back transaction took away."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts in the site language: a request served in English leaves English
    active in its thread, and code called outside a request would otherwise speak it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_scope_choices():
    """A rolled-back test sends no signal: its organizations must not stay in the kept lists."""
    from tracker import scope_choices

    scope_choices.forget()
    yield
    scope_choices.forget()


@pytest.fixture
def org(db):
    return factories.make_org()


@pytest.fixture
def finance(org):
    return factories.make_unit(org, "财政局", "finance@example.org")


@pytest.fixture
def planning(org):
    return factories.make_unit(org, "规划局", "planning@example.org")


@pytest.fixture
def inspection(org):
    return factories.make_inspection(org, feedback=datetime.date(2026, 9, 1))


def _user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org", **extra
    )


@pytest.fixture
def alice(finance):
    user = _user("alice")
    Membership.objects.create(user=user, unit=finance, role=UnitRole.CLERK)
    return user


@pytest.fixture
def bob(finance):
    user = _user("bob")
    Membership.objects.create(user=user, unit=finance, role=UnitRole.LEAD)
    return user


@pytest.fixture
def carol(org):
    user = _user("carol")
    ScopeAssignment.objects.create(user=user, role=ScopeRole.SUPERVISOR, organization=org)
    return user


@pytest.fixture
def dave(org):
    user = _user("dave")
    ScopeAssignment.objects.create(user=user, role=ScopeRole.OBSERVER, organization=org)
    return user


@pytest.fixture
def eve(planning):
    user = _user("eve")
    Membership.objects.create(user=user, unit=planning, role=UnitRole.CLERK)
    return user


@pytest.fixture
def mallory(db):
    return _user("mallory")


@pytest.fixture
def finance_task(inspection, finance):
    return factories.make_task(inspection, owner=finance, title="财政资金监管不到位")


@pytest.fixture
def planning_task(inspection, planning):
    return factories.make_task(inspection, owner=planning, title="规划审批把关不严")
