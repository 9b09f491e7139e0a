"""WSGI entry point (gunicorn rectify.wsgi)."""

import gc
import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
application = get_wsgi_application()


def settle() -> None:
    """Load what every worker keeps for its whole life (the URL patterns, both languages'
    catalogues, the pages' compiled templates), then move it all out of the garbage collector's
    reach (``gc.freeze``). A collection of the oldest generation otherwise walks these ~150,000
    objects each time, a pause of 40-90 ms inside whichever request triggered it (about one
    request in two hundred on a dashboard); frozen, it walks only what requests left behind."""
    from django.conf import settings
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils.translation import trans_real

    get_resolver()._populate()
    for code, _name in settings.LANGUAGES:
        trans_real.translation(code)  # the language's merged catalogue, kept per process
    root = Path(settings.BASE_DIR) / "templates"
    for path in sorted((root / "tracker").glob("*.html")):
        get_template(str(path.relative_to(root)))
    gc.collect()
    gc.freeze()


settle()
