"""``manage.py load_demo``: demo data and demo accounts for a first look (idempotent).

Loads the seed notices (fixtures/seeds.json) when the database has no inspection yet, builds the
living demo dated from today (``tracker.demo``: several units and people, red, yellow and green
tasks, reviews waiting), creates the demo administrator and prints the demo credentials.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from tracker import aggregates, demo
from tracker.models import Inspection

DEMO_PASSWORD_ENV = "DEMO_PASSWORD"


class Command(BaseCommand):
    help = "Load the demo data and demo accounts, and print their credentials."

    def handle(self, *args, **options):
        password = os.environ.get(DEMO_PASSWORD_ENV, "rectify-demo")
        fixture = Path(settings.BASE_DIR) / "fixtures" / "seeds.json"
        if not Inspection.objects.exists() and fixture.exists():
            call_command("loaddata", str(fixture), verbosity=0)
            # loaddata writes tasks around tracker.actions: count them (and their categories).
            aggregates.rebuild()
            self.stdout.write(f"Loaded demo data from {fixture.relative_to(settings.BASE_DIR)}")
        if demo.build(password):
            self.stdout.write(f"Built the living demo (dated from today): {demo.ORGANIZATION}")
        with transaction.atomic():
            accounts = [self._admin(password), *demo.accounts()]
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
