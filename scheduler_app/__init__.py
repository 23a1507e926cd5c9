"""Pluggable, permissioned task scheduling for Django."""

from scheduler_app.providers import SchedulableTask, TaskProvider, TaskResult
from scheduler_app.registry import register

__all__ = ["SchedulableTask", "TaskProvider", "TaskResult", "register"]
__version__ = "0.1.0"
