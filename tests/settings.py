"""Test settings: the demo project plus a test-only module (tests/testapp)."""

from project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SCHEDULER = {**SCHEDULER, "WORKERS": 2}  # noqa: F405
