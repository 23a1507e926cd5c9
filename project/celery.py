"""The demo project's Celery app: Celery workers for the Tasks-framework hand-off.

Used with django-tasks-celery (Django 6, Python 3.12+; ``pip install
"django-tasks-celery[celery]"``) as ``"OPTIONS": {"CELERY_APP": "project.celery.app"}``
of a ``django_tasks_celery.CeleryBackend`` entry in ``TASKS`` (the test settings
have one, ``"celery"``). Celery reads the ``CELERY_*`` settings (the broker:
``CELERY_BROKER_URL``); the workers run with the site's settings::

    celery -A project worker -Q scheduler --concurrency 4

Nothing imports this module unless a Celery backend names it: the project works
without Celery installed.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
