"""A built-in HTTP request task type. Add ``"scheduler_app.contrib.http"`` to INSTALLED_APPS."""
