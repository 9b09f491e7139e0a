"""The organizations a scope's filter forms offer, read once per scope and kept until an
organization or an inspection changes.

The task list offered the organizations of the user's inspections (a few hundred) from a query
on every request. Here the list is kept per process for each scope that does not depend on task
data (an administrator's, a supervisor's or an observer's: ``Access.inspections_key``; a unit
member's depends on their units' tasks and is read each time, as before) and is valid for one
*generation*: a token in the shared cache (``CACHES["default"]``) that every save or delete of
an Organization or an Inspection replaces, at once and again when its transaction commits, so
every worker shows a renamed organization on its next request. A missing token (cache
flushed or restarted) is replaced by a new random one, never an old one, so no list computed
before can match it. Writes that send no signals (``QuerySet.update``, ``bulk_create``) must
call ``changed()`` themselves (generate_demo does).
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.choices import BaseChoiceIterator

GENERATION_KEY = "rectify:scope-choices:generation"


class FrozenChoices(BaseChoiceIterator):
    """A choice list that never changes (a widget takes it as is, without normalizing it), with
    room for what a renderer derives from it per language (tracker.templatetags.fast_forms)."""

    def __init__(self, choices):
        self.choices = tuple(choices)
        self.rendered: dict[str, object] = {}

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.choices)


# scope key → (generation, FrozenChoices)
_LOCAL: dict[object, tuple[str, FrozenChoices]] = {}
_LOCAL_MAX = 512


def generation() -> str:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        value = cache.get(GENERATION_KEY) or ""
    return value


def changed(**kwargs) -> None:
    """Every kept list is stale: a new generation now, and another when the transaction
    commits (a worker that read the old rows before the commit kept them under the first)."""
    _LOCAL.clear()
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


def forget() -> None:
    """Drop this process's lists (tests: a rolled-back transaction sends no signal)."""
    _LOCAL.clear()


def organization_choices(access, organizations, any_label) -> FrozenChoices:
    """``("", any_label)`` then (pk, name) of ``organizations`` (a queryset of the scope's
    organizations: ``tracker.filtersets.scope_organizations(access)``), by name (the filter
    form's organization select), kept for ``access``'s scope."""
    key = access.inspections_key()
    if key is None:
        rows = organizations.order_by("name").values_list("pk", "name")
        return FrozenChoices([("", any_label), *rows])
    current = generation()
    kept = _LOCAL.get(key)
    if kept is not None and kept[0] == current:
        return kept[1]
    rows = organizations.order_by("name").values_list("pk", "name")
    choices = FrozenChoices([("", any_label), *rows])
    if len(_LOCAL) >= _LOCAL_MAX:
        _LOCAL.clear()
    _LOCAL[key] = (current, choices)
    return choices


def connect() -> None:
    from tracker.models import Inspection, Organization

    for model in (Organization, Inspection):
        for signal in (post_save, post_delete):
            signal.connect(changed, sender=model, dispatch_uid=f"scope-choices-{model.__name__}")
