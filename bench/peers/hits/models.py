from django.db import models
from django.db.models.functions import Now


class Hit(models.Model):
    """One row per executed body, as bench/benchapp's Hit: runs are counted and timed by it."""

    job = models.BigIntegerField()
    pid = models.IntegerField()
    at = models.DateTimeField(db_default=Now())
