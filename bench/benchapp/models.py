from django.db import models
from django.db.models.functions import Now


class Hit(models.Model):
    """One row per executed body: the benchmarks count runs (and time them) by these."""

    task_id = models.BigIntegerField()
    pid = models.IntegerField()
    at = models.DateTimeField(db_default=Now())
