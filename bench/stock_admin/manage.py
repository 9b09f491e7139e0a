#!/usr/bin/env python
"""The stock-admin reference project's manage.py (see bench/stock_admin/README.md)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stock_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
