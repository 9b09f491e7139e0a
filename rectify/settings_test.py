"""Settings for the test suite: the real settings with test-friendly environment defaults.

PostgreSQL is the default test database (the production engine); set DATABASE_URL to test on
another one. Each variable can still be overridden from the environment.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rectify")
os.environ.setdefault("SECURE_COOKIES", "false")
# A per-process memory cache: a test database starts its ids afresh each run, and a shared file
# cache would hand one run's figures to the next.
os.environ.setdefault("CACHE_URL", "locmem://")
os.environ.setdefault(
    "RECTIFY_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test")
)

from rectify.settings import *  # noqa: E402,F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}  # noqa: F405

os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405  (whitenoise warns when it is missing)
