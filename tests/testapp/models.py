"""Side-effect rows: tests count executions by these, not by the scheduler's log."""

from django.db import models


class Execution(models.Model):
    task_id = models.BigIntegerField(db_index=True)
    scheduled_for = models.DateTimeField(null=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    pid = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
