from django.db import models


class Hit(models.Model):
    """One row per executed body: the benchmark counts runs by these."""

    task_id = models.BigIntegerField()
    pid = models.IntegerField()
