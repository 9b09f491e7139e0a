"""``manage.py load_demo``: demo data and demo accounts for a first look (idempotent).

Loads the seed notices (fixtures/seeds.json) when the database has no inspection yet, creates
the demo administrator and prints the demo credentials.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from tracker.models import Inspection

DEMO_PASSWORD_ENV = "DEMO_PASSWORD"


class Command(BaseCommand):
    help = "Load the demo data and demo accounts, and print their credentials."

    def handle(self, *args, **options):
        password = os.environ.get(DEMO_PASSWORD_ENV, "rectify-demo")
        fixture = Path(settings.BASE_DIR) / "fixtures" / "seeds.json"
        if not Inspection.objects.exists() and fixture.exists():
            call_command("loaddata", str(fixture), verbosity=0)
            self.stdout.write(f"Loaded demo data from {fixture.relative_to(settings.BASE_DIR)}")
        with transaction.atomic():
            accounts = [self._admin(password), *self._role_users(password)]
        self.stdout.write(f"Demo accounts (password for all: {password}):")
        for username, role in accounts:
            self.stdout.write(f"  {username:<12} {role}")

    def _admin(self, password: str) -> tuple[str, str]:
        user, _created = get_user_model().objects.get_or_create(
            username="admin", defaults={"email": "admin@example.org"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return ("admin", f"administrator — {settings.SITE_URL}/admin/")

    def _role_users(self, password: str) -> list[tuple[str, str]]:
        """One demo user per role, attached to the unit of the demo data with the most tasks:
        a clerk and a lead of that unit, a supervisor and an observer of its organization."""
        from django.db.models import Count

        from tracker.choices import ScopeRole, UnitRole
        from tracker.models import Membership, ScopeAssignment, Unit

        unit = (
            Unit.objects.annotate(n=Count("owned_tasks"))
            .filter(n__gt=0)
            .select_related("organization")
            .order_by("-n", "pk")
            .first()
        )
        if unit is None:
            self.stdout.write("No tasks in the database yet: role demo users not created.")
            return []
        org = unit.organization
        users = get_user_model().objects
        made: list[tuple[str, str]] = []
        for username, role, label in [
            ("clerk", UnitRole.CLERK, f"经办人 (clerk) of {unit.name}"),
            ("lead", UnitRole.LEAD, f"分管领导 (unit lead) of {unit.name}"),
        ]:
            user, _created = users.get_or_create(
                username=username, defaults={"email": f"{username}@example.org"}
            )
            user.set_password(password)
            user.save()
            Membership.objects.get_or_create(user=user, unit=unit, role=role)
            made.append((username, label))
        for username, role, label in [
            ("supervisor", ScopeRole.SUPERVISOR, f"整改办 (supervisor) of {org.name}"),
            ("observer", ScopeRole.OBSERVER, f"纪检监督 (read-only observer) of {org.name}"),
        ]:
            user, _created = users.get_or_create(
                username=username, defaults={"email": f"{username}@example.org"}
            )
            user.set_password(password)
            user.save()
            ScopeAssignment.objects.get_or_create(user=user, role=role, organization=org)
            made.append((username, label))
        return made
