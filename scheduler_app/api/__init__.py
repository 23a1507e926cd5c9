"""The HTTP API: JSON over Django REST framework, under the same policy as the admin.

Optional: ``pip install "scheduler_app[api]"``, add ``"rest_framework"`` and
``"scheduler_app.api"`` to ``INSTALLED_APPS`` and mount the URLs::

    path("api/scheduler/", include("scheduler_app.api.urls"))

Only this package imports Django REST framework; ``scheduler_app`` itself
works without it. This module imports nothing, so listing the app is cheap.
"""
